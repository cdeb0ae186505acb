"""GET /: a page for people (the app team, support, the data team) to see what the service sees.

Static files only (no CDN, no build step); the page calls the same public API as any client.
"""
import os

from flask import Blueprint, send_from_directory

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "ui")
bp = Blueprint("ui", __name__, static_folder=STATIC, static_url_path="/ui/static")


@bp.route("/", methods=["GET"])
def index():
    """The upload-and-see page."""
    return send_from_directory(STATIC, "index.html", max_age=0)


@bp.route("/favicon.ico", methods=["GET"])
def favicon():
    """The page's icon, also where browsers look without a <link rel="icon"> (no 404 in the console)."""
    return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
