"""The crop store shared by validate and analyze: filesystem (default) or Redis, one interface.

put(image_id, crop, metadata), get(image_id) -> StoredCrop (verified), delete(image_id), prune(),
stats(). Chosen by CACHE_URL (redis://...), falling back to Railway's REDIS_URL.
"""
import os

from flask import current_app

from .base import CROP_FORMAT, StoredCrop, check_image_id, encode_crop
from .filesystem import CROP_SUFFIX, FileCropStore

__all__ = ["CROP_FORMAT", "CROP_SUFFIX", "FileCropStore", "StoredCrop", "check_image_id", "crop_store",
           "encode_crop", "init_app", "make_store"]


def make_store(config):
    """The store a config asks for: Redis when CACHE_URL (or REDIS_URL) is a redis URL, else files."""
    url = config.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_store import RedisCropStore

        return RedisCropStore(url, config["CACHE_TTL_SECONDS"], config.get("CACHE_MAX_ENTRIES") or None)
    return FileCropStore(config["CACHE_DIR"], config["CACHE_TTL_SECONDS"], config.get("CACHE_MAX_ENTRIES") or None)


def init_app(app):
    """Create this app's crop store in app.extensions['ananacare'] (no connection is made yet)."""
    app.extensions["ananacare"]["crops"] = make_store(app.config)


def crop_store():
    """The current app's crop store."""
    return current_app.extensions["ananacare"]["crops"]
