"""One error type and one handler: every failure leaves as the same JSON shape.

    {"error": {"code": "...", "message": "...", "details": {...}}, "request_id": "..."}

Tracebacks go to the log, never to the client.
"""
import logging
import uuid

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Every error code the API can answer: code -> (HTTP status, meaning). docs/api.md's error table
# lists the same codes under the same statuses (tests/test_error_codes.py checks both ways, and
# that every code raised anywhere in ananacare/ is here). Add a code here when you raise a new one.
ERROR_CODES = {
    "bad_request": (400, "a malformed request (werkzeug's 400)"),
    "missing_image": (400, "no photo in the request, or an empty one"),
    "multiple_images": (400, "more than one photo in one request"),
    "invalid_image_id": (400, "an image_id that is not 32 lowercase hex characters"),
    "invalid_json": (400, "the body is not a JSON object"),
    "invalid_request": (400, "a JSON field is missing or has the wrong type"),
    "invalid_profile": (400, "an unknown quality profile"),
    "unknown_model": (400, "a model name that is not in the registry (the known ones are listed)"),
    "not_an_analyzer": (400, "a model asked for as an analyzer that has another role"),
    "incomplete_body": (400, "the request body ended before it was complete"),
    "unauthorized": (401, "a missing or wrong API key or diagnostics token"),
    "forbidden": (403, "werkzeug's 403"),
    "image_not_found": (404, "an unknown or expired image_id"),
    "model_not_found": (404, "diagnostics for a model name that is not in the registry"),
    "unknown_concern": (404, "a skin heatmap for a concern that does not exist (the known ones are listed)"),
    "not_found": (404, "no such path"),
    "request_timeout": (408, "the request body arrived too slowly and was cut off"),
    "method_not_allowed": (405, "a method the path does not take (Allow lists the ones it does)"),
    "payload_too_large": (413, "the body is over MAX_UPLOAD_BYTES"),
    "image_too_large": (413, "the image is over MAX_IMAGE_PIXELS (pixel bomb)"),
    "unsupported_media_type": (415, "not a JPEG, PNG or WebP, judged from the bytes"),
    "undecodable_image": (422, "the bytes do not decode as the image they claim to be"),
    "image_structure_refused": (422, "the file's structure is beyond what cameras and editors write (scans, "
                                     "metadata segments or bytes): details name the limit and the value"),
    "no_face_detected": (422, "analyze: no face in the photo"),
    "corrupt_cache_entry": (422, "a stored crop failed its checks; it was removed: validate again"),
    "no_landmarks": (422, "a skin heatmap for a crop stored without its landmarks"),
    "unprocessable_entity": (422, "werkzeug's 422"),
    "too_many_requests": (429, "werkzeug's 429"),
    "store_quota_exceeded": (429, "the tenant's (TENANT_MAX_BYTES) or the store's (STORE_MAX_BYTES) quota is full: "
                                  "nothing was stored; delete crops or wait for them to expire"),
    "http_error": (None, "any other HTTP error werkzeug raises, under its own status"),
    "internal_error": (500, "an unexpected failure (the traceback goes to the log, never to the client)"),
    "model_unavailable": (503, "a model the request needs is not loaded (names the model and the failed stage)"),
    "cache_unavailable": (503, "the crop store cannot be reached"),
    "server_busy": (503, "the worker holds MAX_BUFFERED_BYTES of upload bodies already (Retry-After)"),
    "work_timeout": (503, "the photo's processing passed WORK_TIMEOUT_SECONDS (Retry-After says when to retry)"),
}

# Flask/werkzeug's own HTTP errors, renamed into the API's vocabulary.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "too_many_requests",
}


class ApiError(Exception):
    """An error the client should see: a stable code, a message, an HTTP status, details."""

    def __init__(self, code, message, status=400, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}
        self.headers = headers or {}

    def __repr__(self):
        return f"ApiError({self.code!r}, {self.message!r}, {self.status})"


def request_id():
    """The id of the current request: the client's X-Request-ID if sane, else a new one."""
    if "request_id" not in g:
        supplied = request.headers.get("X-Request-ID", "")
        sane = 0 < len(supplied) <= 64 and all(c.isalnum() or c in "-_." for c in supplied)
        g.request_id = supplied if sane else uuid.uuid4().hex
    return g.request_id


def error_response(error):
    """Render an ApiError as the fixed JSON error shape, with its headers."""
    body = {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id(),
    }
    g.error_code = error.code  # for the access log line
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _handle_http_exception(error):
    code = _HTTP_CODES.get(error.code, "http_error")
    allowed = sorted(getattr(error, "valid_methods", None) or [])
    details, headers = ({"allowed_methods": allowed}, {"Allow": ", ".join(allowed)}) if allowed else ({}, {})
    return error_response(ApiError(code, error.description or error.name, error.code, details, headers))


def _handle_unexpected(error):
    log.exception("unhandled error on %s %s (request %s)", request.method, request.path, request_id())
    return error_response(ApiError("internal_error", "The server failed to handle this request.", 500))


def register_error_handlers(app):
    """Route every exception to the one JSON error renderer."""
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
