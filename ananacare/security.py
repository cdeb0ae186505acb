"""Keep strangers out: optional API keys for /api/*, a bearer token for diagnostics and metrics,
CORS for the origins you name, and security headers on every response."""
import hmac
from urllib.parse import urlsplit, urlunsplit

from flask import current_app, g, request

from .errors import ApiError

API_KEY_HEADER = "X-API-Key"  # what clients send their API key in (the OpenAPI document names it too)
PUBLIC_API_PATHS = ("/api/openapi.json", "/api/docs")
OPERATOR_PATHS = ("/api/diagnostics", "/metrics")
_CORS_HEADERS = f"Content-Type, {API_KEY_HEADER}, X-Request-ID, Authorization"
_EXPOSED_HEADERS = "X-Request-ID, Server-Timing"


def _split(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _matches(given, secrets):
    """Constant-time comparison against every configured secret."""
    return _matching(given, secrets) is not None


def _matching(given, secrets):
    """The secret that `given` equals, comparing against every one in constant time; None if none."""
    given = (given or "").encode()
    found = None
    for secret in secrets:
        if hmac.compare_digest(given, secret.encode()):
            found = secret
    return found


def current_tenant():
    """The tenant of this request: its API key's, or the anonymous one in open mode."""
    return g.get("tenant") or current_app.extensions["ananacare"]["tenants"].anonymous


def _bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(message, scheme):
    challenge = "Bearer" if scheme == "bearer" else f'APIKey header="{API_KEY_HEADER}"'
    return ApiError("unauthorized", message, 401, {"scheme": scheme}, {"WWW-Authenticate": challenge})


def credential_for(path):
    """The credential a path takes: "bearer" (operators' paths: the diagnostics token), "api-key"
    (the tenants' API), or None (public). The OpenAPI document marks operations by the same rule."""
    if path.startswith(OPERATOR_PATHS):
        return "bearer"
    if path.startswith("/api/") and not path.startswith(PUBLIC_API_PATHS):
        return "api-key"
    return None


def credential_required(kind, config, tenants):
    """Whether this deployment demands that credential: API keys once any are set; the diagnostics
    token once it is set, or once API keys are (operators' data, every tenant's counts, paths and
    model errors, is no tenant's: without a token these paths are then closed, not open to any key)."""
    if kind == "bearer":
        return bool(config["DIAGNOSTICS_TOKEN"]) or not tenants.open
    return kind == "api-key" and not tenants.open


def check_access():
    """before_request: operators' paths need the diagnostics token; /api/* needs an API key when set."""
    if request.method == "OPTIONS":
        return
    tenants = current_app.extensions["ananacare"]["tenants"]
    kind = credential_for(request.path)
    if kind is None or not credential_required(kind, current_app.config, tenants):
        return
    if kind == "bearer":
        token = current_app.config["DIAGNOSTICS_TOKEN"]
        if not token or not _matches(_bearer_token(), [token]):
            raise _unauthorized("This endpoint needs Authorization: Bearer <diagnostics token> "
                                "(ANANACARE_DIAGNOSTICS_TOKEN).", "bearer")
        return
    key = _matching(request.headers.get(API_KEY_HEADER), tenants.keys)
    if key is None:
        raise _unauthorized(f"Send a valid API key in the {API_KEY_HEADER} header.", "api-key")
    g.tenant = tenants.tenant_for(key)


def add_headers(response):
    """after_request: CORS for allowed origins, the security headers, and redirects kept relative."""
    _relative_location(response)
    origin = request.headers.get("Origin")
    allowed = _split(current_app.config["CORS_ORIGINS"])
    if origin and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
        response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; "
                                                      "style-src 'self' 'unsafe-inline'; object-src 'none'; "
                                                      "frame-ancestors 'none'; base-uri 'none'")
    else:
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")  # face data is personal: nothing in shared caches
    if request.headers.get("X-Forwarded-Proto") == "https" or request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _relative_location(response):
    """A redirect to this server (werkzeug's trailing-slash redirect builds it from the Host header)
    points at a path, never at whatever host the client named."""
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def init_app(app):
    """The tenants (keys and the secret, checked now), the access check and the response headers."""
    from . import tenancy

    tenancy.init_app(app)
    app.before_request(check_access)
    app.after_request(add_headers)
