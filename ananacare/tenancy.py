"""Who owns a crop, and the keyed ids that keep tenants apart.

A tenant is an API key, or a named group of keys (`ANANACARE_API_KEYS=app:k1,app:k2,web:k3`), or
the one anonymous tenant when no keys are set. From the server secret (`ANANACARE_SECRET_KEY`)
each tenant gets a key of its own: HMAC-SHA256(secret, tenant name). Its image ids are
HMAC(tenant key, crop settings + photo bytes), so the same photo from the same tenant gets the
same id (re-uploads deduplicate), two tenants never share one, and nobody can compute an id from
a photo without the secret. Crops are stored under a namespace derived from the tenant key, so an
id presented by another tenant finds nothing: a plain 404, the same as an id never issued.
"""
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
# Open mode without a secret: ids are then computable from a photo, which tells nobody more than
# open mode already does (anyone may upload the photo and read the crop). Keys require a secret.
OPEN_MODE_SECRET = "ananacare-open-mode-without-a-secret"
_GROUP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Tenant:
    """A tenant's name (safe to log and to store) and its secret-derived key (never shown)."""

    name: str
    key: bytes

    @classmethod
    def derive(cls, name, secret):
        """The tenant `name` under the server secret."""
        return cls(name, hmac.new(secret.encode(), b"tenant:" + name.encode(), hashlib.sha256).digest())

    def image_id(self, data, crop_settings):
        """32 hex chars: keyed by this tenant, the crop settings and the photo's bytes."""
        digest = hmac.new(self.key, json.dumps(crop_settings, sort_keys=True).encode(), hashlib.sha256)
        digest.update(data)
        return digest.hexdigest()[:32]

    @property
    def namespace(self):
        """Where this tenant's crops live in the store (not derivable from the name alone)."""
        return hmac.new(self.key, b"store", hashlib.sha256).hexdigest()


class TenantDirectory:
    """API keys -> tenants, built once from the settings; the anonymous tenant in open mode."""

    def __init__(self, api_keys, secret):
        self.open = not api_keys.strip()
        self.secret = secret or OPEN_MODE_SECRET
        self._by_key = {}
        for entry in (item.strip() for item in api_keys.split(",")):
            if entry:
                name, key = _split_entry(entry, self.secret)
                self._by_key[key] = Tenant.derive(name, self.secret)
        self.anonymous = Tenant.derive(ANONYMOUS, self.secret)

    @property
    def keys(self):
        """Every accepted API key."""
        return list(self._by_key)

    def tenant_for(self, api_key):
        """The tenant of a key already checked to be valid (constant-time, in security.py)."""
        return self._by_key[api_key]

    def named(self, name):
        """A tenant by name (the CLI acts as one); names are those of the groups, or `anonymous`."""
        return Tenant.derive(name, self.secret)


def _group_and_key(entry):
    """'group:key' -> (group, key); a bare key -> (None, key)."""
    name, separator, key = entry.strip().partition(":")
    name, key = name.strip(), key.strip()
    if separator and key and _GROUP_NAME.fullmatch(name):
        return name, key
    return None, entry.strip()


def _split_entry(entry, secret):
    """'group:key' -> (group, key); a bare key is a tenant of its own, named by its fingerprint."""
    group, key = _group_and_key(entry)
    if group:
        return group, key
    fingerprint = hmac.new(secret.encode(), b"key:" + key.encode(), hashlib.sha256).hexdigest()[:12]
    return f"key-{fingerprint}", key


def check_tenancy_settings(config):
    """The rules a deployment must follow; a list of problems (empty when fine)."""
    problems = []
    has_keys = bool(config["API_KEYS"].strip())
    if has_keys and not config["SECRET_KEY"]:
        problems.append("ANANACARE_SECRET_KEY: required when ANANACARE_API_KEYS is set (every worker and "
                        "replica must derive the same image ids; e.g. `python -c 'import secrets; "
                        "print(secrets.token_hex(32))'`)")
    if config["REQUIRE_API_KEYS"] and not has_keys:
        problems.append("ANANACARE_API_KEYS: required because ANANACARE_REQUIRE_API_KEYS is on")
    entries = [_group_and_key(item) for item in config["API_KEYS"].split(",") if item.strip()]
    keys = [key for _, key in entries]
    if len(set(keys)) != len(keys):
        problems.append("ANANACARE_API_KEYS: a key is listed twice (a key belongs to one tenant)")
    if any(group == ANONYMOUS or group.startswith("key-") for group, _ in entries if group):
        problems.append(f"ANANACARE_API_KEYS: the group names {ANONYMOUS!r} and 'key-...' are reserved")
    return problems


def init_app(app):
    """Build the tenant directory (config.load_settings has applied the rules)."""
    app.extensions["ananacare"]["tenants"] = TenantDirectory(app.config["API_KEYS"], app.config["SECRET_KEY"])


def warn_if_open(app):
    """Log, once per call, that the API is open when no API keys are set. A serving process calls it
    at start (ananacare.start_worker), `flask analyze` once per run; creating the app does not, so
    the CLI's other commands, which serve nobody, do not repeat it."""
    if app.extensions["ananacare"]["tenants"].open:
        log.warning("no API keys are set: the API is open to anyone who can reach it and every caller "
                    "shares one tenant; set ANANACARE_API_KEYS and ANANACARE_SECRET_KEY (and "
                    "ANANACARE_REQUIRE_API_KEYS=true) in production")


def tenant_count(api_keys):
    """How many tenants the keys make (groups, and each bare key alone); 1 in open mode."""
    entries = [_group_and_key(item) for item in api_keys.split(",") if item.strip()]
    return max(1, len({group or f"key:{key}" for group, key in entries}))
