"""The crop store shared by validate and analyze: filesystem (default) or Redis, one interface.

put(image_id, crop, metadata, namespace), get(image_id, namespace) -> StoredCrop (verified),
delete(image_id, namespace), prune(), sweep_if_due(interval), stats(). The namespace is the tenant's:
an id looked up under another tenant's namespace is not found. Chosen by CACHE_URL (redis://...),
falling back to Railway's REDIS_URL.
"""
import os

from flask import current_app

from ..tenancy import tenant_count
from .base import CROP_FORMAT, StoredCrop, check_image_id, encode_crop
from .filesystem import CROP_SUFFIX, FileCropStore
from .quota import Quota
from .retention import Sweeper, sweep_interval

__all__ = ["CROP_FORMAT", "CROP_SUFFIX", "FileCropStore", "StoredCrop", "check_image_id", "crop_store",
           "encode_crop", "init_app", "make_store", "start_sweeper"]


def make_store(config):
    """The store a config asks for: Redis when CACHE_URL (or REDIS_URL) is a redis URL, else files."""
    url = config.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
    quota = Quota.from_config(config, tenant_count(config.get("API_KEYS") or ""))
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_store import RedisCropStore

        return RedisCropStore(url, config["CACHE_TTL_SECONDS"], config.get("CACHE_MAX_ENTRIES") or None, quota=quota)
    return FileCropStore(config["CACHE_DIR"], config["CACHE_TTL_SECONDS"], config.get("CACHE_MAX_ENTRIES") or None,
                         quota)


def init_app(app):
    """Create this app's crop store in app.extensions['ananacare'] (no connection is made yet)."""
    app.extensions["ananacare"]["crops"] = make_store(app.config)


def crop_store():
    """The current app's crop store."""
    return current_app.extensions["ananacare"]["crops"]


def start_sweeper(app):
    """Start this process's retention sweeper for the app's store (gunicorn: in each worker)."""
    state = app.extensions["ananacare"]
    if state.get("sweeper") is None:
        state["sweeper"] = Sweeper(state["crops"], sweep_interval(app.config)).start()
    return state["sweeper"]
