"""The OpenAPI document (flask-smorest, from the marshmallow schemas) and a docs page served from
the app's own files: Swagger UI's assets come from the swagger-ui-bundle package, no CDN.

The document names the credentials the deployment asks for (security.py decides which path takes
which): an API key in the X-API-Key header for the tenants' API and a bearer token for the
operators' paths, so Swagger UI's Authorize button sends them."""
import os

from apispec import BasePlugin
from flask import Blueprint, abort, send_from_directory
from flask_smorest import Api

from .blueprints.schemas import ErrorSchema, error_response
from .security import API_KEY_HEADER, credential_for, credential_required

docs = Blueprint("docs", __name__, url_prefix="/api/docs", static_folder="static/docs", static_url_path="/static")

API_KEY_SCHEME = "ApiKey"
TOKEN_SCHEME = "DiagnosticsToken"
SECURITY_SCHEMES = {
    API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": API_KEY_HEADER,
                     "description": "One of ANANACARE_API_KEYS; required once the service has API keys."},
    TOKEN_SCHEME: {"type": "http", "scheme": "bearer",
                   "description": "ANANACARE_DIAGNOSTICS_TOKEN, for /api/diagnostics and /metrics; required once "
                                  "the token or API keys are set."},
}
_SCHEME_OF = {"api-key": API_KEY_SCHEME, "bearer": TOKEN_SCHEME}


class ApiWithErrorShape(Api):
    """flask-smorest's Api, documenting the API's one error shape for every error response."""

    ERROR_SCHEMA = ErrorSchema


class AccessPlugin(BasePlugin):
    """Marks each operation with the credential security.check_access asks of its path: required
    (with its 401) when this deployment demands it, optional otherwise (open mode)."""

    def __init__(self, config, tenants):
        super().__init__()
        self.config, self.tenants = config, tenants

    def operation_helper(self, path=None, operations=None, **kwargs):
        kind = credential_for(path or "")
        if kind is None:
            return
        required = credential_required(kind, self.config, self.tenants)
        for operation in (operations or {}).values():
            operation["security"] = [{_SCHEME_OF[kind]: []}] + ([] if required else [{}])
            if required:
                operation.setdefault("responses", {})["401"] = error_response(["unauthorized"])


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
    """The Api extension (OpenAPI at /api/openapi.json, with the security schemes) and the docs page
    at /api/docs/. After security.init_app: the document follows the deployment's keys and token."""
    app.config.update(OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json")
    plugin = AccessPlugin(app.config, app.extensions["ananacare"]["tenants"])
    api = ApiWithErrorShape(app, spec_kwargs={"extra_plugins": [plugin]})
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    app.extensions["ananacare"]["api"] = api
    app.register_blueprint(docs)
