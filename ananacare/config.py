"""Settings: defaults in code, then ANANACARE_* environment variables, then overrides.

The merged result is validated once, when the app is created, so a typo in a deployment
fails at start with the name of the setting instead of at the first request, and an
ANANACARE_* variable that names no setting (a typo) is warned about with the closest name.
"""
import difflib
import json
import logging
import os
import re
import sys

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .tenancy import check_tenancy_settings

ENV_PREFIX = "ANANACARE_"
# gunicorn's APP_LOAD_ERROR: a worker that exits with it makes the master stop ("App failed to
# load.") instead of spawning it again and again; the flask CLI just sees a non-zero exit.
EXIT_BAD_SETTINGS = 4
log = logging.getLogger(__name__)

DEFAULTS = {
    # Crop store
    "CACHE_DIR": None,  # None: <instance folder>/crops
    "CACHE_URL": None,  # redis://... for the Redis store; None: REDIS_URL if set, else CACHE_DIR
    "CACHE_TTL_SECONDS": 7 * 24 * 3600,
    "CACHE_MAX_ENTRIES": 100_000,  # oldest crops are evicted beyond this; 0: unbounded
    "CACHE_SWEEP_SECONDS": 300,
    # Bytes the store may hold (an entry is about 1-3 MB: the 512 crop, the skin crop, metadata), and
    # each tenant; 0 for the tenant: an equal share of the store. Past either: 429, nothing stored.
    "STORE_MAX_BYTES": 4 * 1024 ** 3,
    "TENANT_MAX_BYTES": 0,  # expired crops are deleted at most this long (or the TTL) after expiry
    # Square crop
    "CROP_SIZE": 512,
    "CROP_MARGIN": 0.25,  # side = face size x (1 + 2 x margin); 0.25 is the landmark model's ROI
    "SKIN_CROP_MAX_SIDE": 2048,  # the skin crop kept with each entry: source resolution up to this; 0: none
    # ... and no finer than this (pores need 4 px/mm; more only costs bytes and time); 0: the source's
    "SKIN_CROP_PX_PER_MM": 5.0,
    # Input limits
    "MAX_UPLOAD_BYTES": 25 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 50_000_000,
    "MAX_DECODE_BYTES": 224 * 1024 * 1024,  # memory one decoded image may take (WebP: ~16 B/px -> 14.7 MP)
    # A photo's container besides its pixels (ananacare/preprocess/structure.py; docs/operations.md
    # gives the files measured): progressive exports have 10 scans (libjpeg, mozjpeg, Pillow), phone
    # JPEGs 4-20 segments and under 1 MiB of metadata (a depth map in extended XMP: a few MiB).
    "MAX_JPEG_SCANS": 32,
    "MAX_SEGMENTS": 256,
    "MAX_METADATA_BYTES": 8 * 1024 * 1024,
    "DECODE_MAX_SIDE": 1600,  # JPEG draft mode decodes at the smallest scale keeping this side
    # Work: a request's processing (after its body arrived) ends with 503 `work_timeout` past this,
    # well before gunicorn's `timeout` (60 s) would kill the worker and every request it holds.
    "WORK_TIMEOUT_SECONDS": 20,
    # Model runs the face search may take on one photo; past it the search stops with the faces
    # found so far, reported `exhaustive: false` (a selfie takes about 10, a group photo 30-80).
    "MAX_SEARCH_MODEL_RUNS": 120,
    "BODY_TIMEOUT_SECONDS": 120,  # longest time a request body may take to arrive (408 after)
    "BODY_MIN_RATE": 16 * 1024,  # bytes/s a body must keep up on average after a 5 s grace (408 below)
    # Body bytes one worker holds at once (503 `server_busy` beyond): about four uploads of the
    # largest size, beside a decode's MAX_DECODE_BYTES and the models' ~130 MB.
    "MAX_BUFFERED_BYTES": 96 * 1024 * 1024,
    # Quality checks
    "QUALITY_PROFILE": "normal",  # lenient | normal | strict | ofiq | skin; a request may pick another
    "QUALITY_THRESHOLDS": None,  # JSON object of per-check overrides, e.g. {"face_size": 120}
    # Models
    "MODELS_FILE": None,  # None: the packaged default_models.toml
    "LOAD_MODELS_ON_START": True,  # optional models too, at worker start (required ones always)
    "THREADS_PER_WORKER": 0,  # 0: cores / gunicorn workers
    # Operations and security
    "LOG_LEVEL": "INFO",
    "API_KEYS": "",  # comma-separated keys or group:key entries; when set, /api/* needs X-API-Key
    "REQUIRE_API_KEYS": False,  # refuse to start without API_KEYS (production: never open by mistake)
    "SECRET_KEY": "",  # keys image ids per tenant; required with API_KEYS, the same on every replica
    "DIAGNOSTICS_TOKEN": "",  # when set, diagnostics and /metrics need Authorization: Bearer <token>
    "CORS_ORIGINS": "",  # comma-separated origins allowed to call the API from a browser; * for any
    # Peers whose X-Forwarded-For names the client in the access log (IPs or CIDRs, comma-separated;
    # * when a proxy is the only way in, as Railway's edge is: its own entry, the last, is taken).
    "TRUSTED_PROXIES": "127.0.0.1,::1",
}


class JsonObject(fields.Field):
    """A dict, or a JSON object given as a string (environment variables are strings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValidationError(f"not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise ValidationError("must be a JSON object")
        return value


class SettingsSchema(Schema):
    """Types and ranges of every setting; unknown keys (Flask's own) pass through untouched."""

    class Meta:
        unknown = EXCLUDE

    CACHE_DIR = fields.String(allow_none=True)
    CACHE_URL = fields.String(allow_none=True, validate=validate.Regexp(
        r"^(redis|rediss|unix)://", error="must be a redis://, rediss:// or unix:// URL"))
    CACHE_TTL_SECONDS = fields.Integer(validate=validate.Range(min=1))
    CACHE_MAX_ENTRIES = fields.Integer(validate=validate.Range(min=0))
    CACHE_SWEEP_SECONDS = fields.Integer(validate=validate.Range(min=1))
    STORE_MAX_BYTES = fields.Integer(validate=validate.Range(min=0))
    TENANT_MAX_BYTES = fields.Integer(validate=validate.Range(min=0))
    CROP_SIZE = fields.Integer(validate=validate.Range(min=64, max=4096))
    CROP_MARGIN = fields.Float(validate=validate.Range(min=0.0, max=2.0))
    SKIN_CROP_MAX_SIDE = fields.Integer(validate=validate.Range(min=0, max=4096))
    SKIN_CROP_PX_PER_MM = fields.Float(validate=validate.Range(min=0, max=50))
    MAX_UPLOAD_BYTES = fields.Integer(validate=validate.Range(min=1024))
    MAX_IMAGE_PIXELS = fields.Integer(validate=validate.Range(min=1))
    MAX_DECODE_BYTES = fields.Integer(validate=validate.Range(min=1048576))
    MAX_JPEG_SCANS = fields.Integer(validate=validate.Range(min=1, max=100_000))
    MAX_SEGMENTS = fields.Integer(validate=validate.Range(min=8, max=10_000_000))
    MAX_METADATA_BYTES = fields.Integer(validate=validate.Range(min=65536))
    DECODE_MAX_SIDE = fields.Integer(validate=validate.Range(min=128))
    WORK_TIMEOUT_SECONDS = fields.Float(validate=validate.Range(min=0.01, max=3600))
    MAX_SEARCH_MODEL_RUNS = fields.Integer(validate=validate.Range(min=0))
    BODY_TIMEOUT_SECONDS = fields.Float(validate=validate.Range(min=1, max=3600))
    BODY_MIN_RATE = fields.Integer(validate=validate.Range(min=1))
    MAX_BUFFERED_BYTES = fields.Integer(validate=validate.Range(min=1048576))
    QUALITY_PROFILE = fields.String(validate=validate.OneOf(["lenient", "normal", "strict", "ofiq", "skin"]))
    QUALITY_THRESHOLDS = JsonObject(allow_none=True)
    MODELS_FILE = fields.String(allow_none=True)
    LOAD_MODELS_ON_START = fields.Boolean()
    THREADS_PER_WORKER = fields.Integer(validate=validate.Range(min=0, max=256))
    LOG_LEVEL = fields.String(validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]))
    API_KEYS = fields.String()
    REQUIRE_API_KEYS = fields.Boolean()
    SECRET_KEY = fields.String(validate=lambda value: _long_enough_secret(value))
    DIAGNOSTICS_TOKEN = fields.String()
    CORS_ORIGINS = fields.String()
    TRUSTED_PROXIES = fields.String(validate=lambda value: _networks(value))


def _networks(value):
    """Comma-separated IP addresses or CIDR networks, or *."""
    import ipaddress

    for item in (part.strip() for part in value.split(",")):
        if item and item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValidationError(f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8, or * for any)")


def _long_enough_secret(value):
    """Empty (unset) or at least 16 characters: a short secret makes image ids guessable."""
    if value and len(value) < 16:
        raise ValidationError("must be at least 16 characters (e.g. 64 hex digits from secrets.token_hex(32))")


class ConfigError(RuntimeError):
    """A setting has a wrong type or value; raised at startup."""


def from_environment(environ=None):
    """The ANANACARE_* variables that name a known setting, as raw strings."""
    environ = os.environ if environ is None else environ
    return {
        key[len(ENV_PREFIX):]: value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):] in DEFAULTS
    }


def unknown_variables(environ=None):
    """[(variable, closest setting's variable or None)] for ANANACARE_* names that are no setting.
    Derived from DEFAULTS, so a new setting is known the moment it is added there."""
    environ = os.environ if environ is None else environ
    found = []
    for key in sorted(environ):
        name = key[len(ENV_PREFIX):]
        if key.startswith(ENV_PREFIX) and name not in DEFAULTS:
            closest = difflib.get_close_matches(name, DEFAULTS, n=1, cutoff=0.6)
            found.append((key, ENV_PREFIX + closest[0] if closest else None))
    return found


def warn_unknown_variables(environ=None):
    """Log a warning for every ANANACARE_* variable that is not a setting (it is ignored)."""
    for variable, closest in unknown_variables(environ):
        hint = f"did you mean {closest}?" if closest else f"settings: {', '.join(DEFAULTS)}"
        log.warning("%s is not a setting and is ignored; %s", variable, hint)


SECRET_SETTINGS = ("SECRET_KEY", "API_KEYS", "DIAGNOSTICS_TOKEN")  # never echoed, not even when wrong


def _shown(key, value):
    """A setting's value as an error message may show it: secrets masked, URL passwords removed."""
    if key in SECRET_SETTINGS and value:
        return "'***'"
    if key == "CACHE_URL" and isinstance(value, str):
        return repr(re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", value))
    return repr(value)


def _problem(key, value, messages):
    """One setting's problem: the variable, the value given (secrets masked) and what is allowed."""
    return f"{ENV_PREFIX}{key}={_shown(key, value)}: {' '.join(map(str, messages))}"


def load_settings(overrides=None, environ=None):
    """Merge defaults, environment and overrides; validate and convert the result."""
    merged = {**DEFAULTS, **from_environment(environ), **(overrides or {})}
    known = {key: merged[key] for key in DEFAULTS}
    try:
        settings = SettingsSchema().load(known)
    except ValidationError as error:
        problems = "; ".join(_problem(key, known.get(key), msgs) for key, msgs in sorted(error.messages.items()))
        raise ConfigError(f"invalid settings: {problems}") from None
    _check_quality_thresholds(settings)
    problems = check_tenancy_settings(settings)  # the keys-and-secret rules, with the other settings
    if problems:
        raise ConfigError("invalid settings: " + "; ".join(problems))
    extra = {key: value for key, value in (overrides or {}).items() if key not in DEFAULTS}
    return {**settings, **extra}


def _check_quality_thresholds(settings):
    """The profile's thresholds with the overrides applied must make sense (names, types)."""
    from .quality.checks import thresholds_for  # pure; imported here, only when settings load

    try:
        thresholds_for(settings["QUALITY_PROFILE"], settings["QUALITY_THRESHOLDS"])
    except ValueError as error:
        raise ConfigError(f"invalid settings: {_problem('QUALITY_THRESHOLDS', settings['QUALITY_THRESHOLDS'], [error])}"
                          ) from None


def exit_on_bad_settings(environ=None):
    """Validate the settings; on a bad one print one line to stderr and exit EXIT_BAD_SETTINGS."""
    try:
        load_settings(environ=environ)
    except ConfigError as error:
        print(f"ananacare: {error}", file=sys.stderr, flush=True)
        sys.exit(EXIT_BAD_SETTINGS)


def init_app(app, overrides=None):
    """Put the validated settings into app.config; warn about ANANACARE_* names that are no setting."""
    warn_unknown_variables()
    settings = load_settings(overrides)
    app.config.update(settings)
    if not app.config["CACHE_DIR"]:
        app.config["CACHE_DIR"] = os.path.join(app.instance_path, "crops")
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"]
