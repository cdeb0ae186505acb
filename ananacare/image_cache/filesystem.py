"""Crops on the local filesystem: one replica, or a volume shared by its workers.

Files live under CACHE_DIR as <id[:2]>/<id>.tiff and <id>.json. Both are written to a temporary
file and renamed into place, crop first and metadata last, so a reader never sees a partial
crop: the metadata is the commit marker, and it carries the crop's sha256.
"""
import json
import os
import tempfile
import threading
import time

from .base import IMAGE_ID_PATTERN, check_image_id, crop_record, not_found, open_entry, unavailable

_TEMP_PREFIX = ".tmp-"
CROP_SUFFIX = ".tiff"
_EVICTION_EVERY = 512  # puts between size checks; each walks the folder, off the request thread


class FileCropStore:
    """Crops on disk with a TTL and a bound on the number of entries (oldest evicted first)."""

    backend = "filesystem"

    def __init__(self, root, ttl_seconds, max_entries=None):
        self.root = os.path.abspath(root)
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._puts = 0
        self._evicting = threading.Lock()

    def _paths(self, image_id):
        folder = os.path.join(self.root, image_id[:2])
        return folder, os.path.join(folder, image_id + CROP_SUFFIX), os.path.join(folder, image_id + ".json")

    def put(self, image_id, crop, metadata):
        """Store a crop atomically; returns the metadata as stored."""
        check_image_id(image_id)
        payload, stored = crop_record(image_id, crop, metadata, self.ttl_seconds)
        folder, crop_path, meta_path = self._paths(image_id)
        try:
            os.makedirs(folder, exist_ok=True)
            _atomic_write(folder, crop_path, payload)
            _atomic_write(folder, meta_path, json.dumps(stored).encode())
        except OSError as error:
            raise unavailable(self.backend, error) from None
        self._puts += 1
        if self.max_entries and self._puts % _EVICTION_EVERY == 0:
            self._evict_in_background()
        return stored

    def _evict_in_background(self):
        """Walking a folder of 100,000 crops takes seconds: never on a request's time."""
        if self._evicting.acquire(blocking=False):
            def run():
                try:
                    self.evict()
                finally:
                    self._evicting.release()
            threading.Thread(target=run, name="crop-eviction", daemon=True).start()

    def get(self, image_id):
        """The stored crop, verified (checksum, square, expected size); 404 or 422 otherwise."""
        check_image_id(image_id)
        _, crop_path, meta_path = self._paths(image_id)
        try:
            with open(meta_path, "rb") as handle:
                metadata = json.loads(handle.read())
        except FileNotFoundError:
            raise not_found(image_id, "unknown or expired") from None
        except (ValueError, OSError):
            metadata = None
        return open_entry(self, image_id, metadata, lambda: _read_or_none(crop_path))

    def delete(self, image_id):
        """Remove a crop and its metadata; True if anything was there."""
        check_image_id(image_id)
        _, crop_path, meta_path = self._paths(image_id)
        removed = False
        for path in (meta_path, crop_path):  # metadata first: the entry is gone at once
            try:
                os.remove(path)
                removed = True
            except FileNotFoundError:
                pass
        return removed

    def _entries(self):
        """(image_id, metadata path) of every committed entry."""
        for folder, _, names in os.walk(self.root):
            for name in names:
                if name.endswith(".json") and IMAGE_ID_PATTERN.fullmatch(name[:-5]):
                    yield name[:-5], os.path.join(folder, name)

    def prune(self, now=None):
        """Delete expired entries and stale temporary files; returns how many entries went."""
        now = time.time() if now is None else now
        removed = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                if name.startswith(_TEMP_PREFIX) and _age(path, now) > 600:
                    _remove_quietly(path)
        for image_id, meta_path in list(self._entries()):
            try:
                with open(meta_path, "rb") as handle:
                    expired = json.loads(handle.read()).get("expires_at", 0) < now
            except (OSError, ValueError, AttributeError):
                expired = True
            removed += int(expired and self.delete(image_id))
        return removed + self.evict()

    def evict(self):
        """Delete the oldest entries beyond max_entries; returns how many went."""
        if not self.max_entries:
            return 0
        entries = sorted(self._entries(), key=lambda entry: _mtime(entry[1]))
        excess = entries[: max(0, len(entries) - self.max_entries)]
        return sum(self.delete(image_id) for image_id, _ in excess)

    def stats(self):
        """Entry count and bytes on disk (walks the folder: for diagnostics, not hot paths)."""
        entries = size = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                entries += name.endswith(".json") and not name.startswith(_TEMP_PREFIX)
                size += _size(os.path.join(folder, name))
        return {"backend": self.backend, "path": self.root, "entries": entries, "bytes": size,
                "ttl_seconds": self.ttl_seconds, "max_entries": self.max_entries}


def _read_or_none(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _atomic_write(folder, path, payload):
    descriptor, temp_path = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.replace(temp_path, path)
    except BaseException:
        _remove_quietly(temp_path)
        raise


def _age(path, now):
    return now - _mtime(path)


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
