"""The OpenAPI document (flask-smorest, from the marshmallow schemas) and a docs page served from
the app's own files: Swagger UI's assets come from the swagger-ui-bundle package, no CDN."""
import os

from flask import Blueprint, abort, send_from_directory
from flask_smorest import Api

from .blueprints.schemas import ErrorSchema

docs = Blueprint("docs", __name__, url_prefix="/api/docs", static_folder="static/docs", static_url_path="/static")


class ApiWithErrorShape(Api):
    """flask-smorest's Api, documenting the API's one error shape for every error response."""

    ERROR_SCHEMA = ErrorSchema


def swagger_ui_folder():
    """Where the installed swagger-ui-bundle keeps Swagger UI's built assets."""
    import swagger_ui_bundle

    return swagger_ui_bundle.swagger_ui_path


@docs.route("/", methods=["GET"])
def docs_page():
    """The interactive API documentation."""
    return send_from_directory(os.path.join(os.path.dirname(__file__), "static", "docs"), "index.html")


@docs.route("/assets/<path:filename>", methods=["GET"])
def swagger_asset(filename):
    """Swagger UI's own JS and CSS."""
    if filename not in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        abort(404)
    return send_from_directory(swagger_ui_folder(), filename, max_age=86400)


def init_app(app):
    """The Api extension (OpenAPI at /api/openapi.json) and the docs page at /api/docs/."""
    app.config.update(OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json")
    app.extensions["ananacare"]["api"] = ApiWithErrorShape(app)
    app.register_blueprint(docs)
