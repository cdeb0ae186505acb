"""Crops on the local filesystem: one replica, or a volume shared by its workers.

Files live under CACHE_DIR as <id[:2]>/<id>.tiff, <id>.skin.webp (the skin crop, when there is
one) and <id>.json. Each is written to a temporary file and renamed into place, crops first and
metadata last, so a reader never sees a partial entry: the metadata is the commit marker, and it
carries the crops' sha256.
"""
import fcntl
import json
import os
import tempfile
import threading
import time

from ..offload import run_blocking
from .base import IMAGE_ID_PATTERN, crop_record, entry_key, is_expired, not_found, open_entry, unavailable
from .quota import FileLedger, Quota

_TEMP_PREFIX = ".tmp-"
CROP_SUFFIX = ".tiff"
SKIN_SUFFIX = ".skin.webp"
PAYLOAD_SUFFIXES = (CROP_SUFFIX, SKIN_SUFFIX)
_EVICTION_EVERY = 512  # puts between size checks; each walks the folder, off the request thread
_ORPHAN_GRACE_SECONDS = 60  # a crop without metadata this old was never committed (a put takes ms)
_SWEEP_LOCK = ".sweep"


class FileCropStore:
    """Crops on disk with a TTL and a bound on the number of entries (oldest evicted first)."""

    backend = "filesystem"

    def __init__(self, root, ttl_seconds, max_entries=None, quota=Quota()):
        self.root = os.path.abspath(root)
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.quota = quota
        self._ledger = FileLedger(self.root)
        self._puts = 0
        self._evicting = threading.Lock()

    def _paths(self, key):
        folder = os.path.join(self.root, key[:2])
        return folder, os.path.join(folder, key + CROP_SUFFIX), os.path.join(folder, key + ".json")

    def _skin_path(self, key):
        return os.path.join(self.root, key[:2], key + SKIN_SUFFIX)

    def _io(self, operation, *args):
        """Run a filesystem call; any OS error but a missing file is a 503 that keeps the data."""
        try:
            return operation(*args)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise unavailable(self.backend, error) from None

    def put(self, image_id, crop, metadata, namespace="", skin=None):
        """Store a crop (and its skin crop) atomically; returns the metadata as stored. 429
        `store_quota_exceeded` (nothing stored) past the tenant's or the store's quota."""
        key = entry_key(image_id, namespace)
        record = crop_record(image_id, crop, metadata, self.ttl_seconds, skin)
        payload, skin_payload, stored = record.payload, record.skin_payload, record.metadata
        folder, crop_path, meta_path = self._paths(key)
        tenant, size = stored.get("tenant") or "", stored["stored_bytes"]
        delta = size - self._stored_bytes(meta_path)[1]  # a re-upload replaces its own entry
        self._io(self._reserve, tenant, delta)
        try:
            os.makedirs(folder, exist_ok=True)
            if skin_payload is not None:
                _atomic_write(folder, self._skin_path(key), skin_payload)
            else:
                _remove_quietly(self._skin_path(key))  # a re-upload stored without one: no stale file
            _atomic_write(folder, crop_path, payload)
            _atomic_write(folder, meta_path, record.metadata_json.encode())
        except OSError as error:
            if skin_payload is not None and not os.path.exists(meta_path):  # no entry uses it: no orphan
                _remove_quietly(self._skin_path(key))
            self._release(tenant, delta)
            raise unavailable(self.backend, error) from None
        self._puts += 1
        if self.max_entries and self._puts % _EVICTION_EVERY == 0:
            self._evict_in_background()
        return stored

    def _reserve(self, tenant, delta):
        with self._ledger.locked() as usage:
            self.quota.check(tenant, usage["tenants"].get(tenant, 0), usage["total"], delta)
            self._ledger.add(usage, tenant, delta)

    def _release(self, tenant, delta):
        try:
            with self._ledger.locked() as usage:
                self._ledger.add(usage, tenant, -delta)
        except OSError:
            pass  # the next sweep recounts

    @staticmethod
    def _stored_bytes(meta_path):
        """(tenant, bytes) an entry's metadata records; ("", 0) when there is none."""
        try:
            with open(meta_path, "rb") as handle:
                metadata = json.loads(handle.read())
            return str(metadata.get("tenant") or ""), int(metadata.get("stored_bytes") or 0)
        except (OSError, ValueError, AttributeError, TypeError):
            return "", 0

    def _evict_in_background(self):
        """Walking a folder of 100,000 crops takes seconds: never on a request's time."""
        if self._evicting.acquire(blocking=False):
            def run():
                try:
                    run_blocking(self.evict)
                finally:
                    self._evicting.release()
            threading.Thread(target=run, name="crop-eviction", daemon=True).start()

    def get(self, image_id, namespace=""):
        """The stored crop, verified (checksum, square, expected size); 404, 422 or 503 otherwise."""
        key = entry_key(image_id, namespace)
        _, crop_path, meta_path = self._paths(key)
        try:
            raw = self._io(_read, meta_path)
        except FileNotFoundError:
            raise not_found(image_id, "unknown or expired") from None
        try:
            metadata = json.loads(raw)
        except ValueError:
            metadata = None
        return open_entry(self, key, image_id, metadata, lambda: self._read_payload(crop_path),
                          lambda: self._read_payload(self._skin_path(key)))

    def _read_payload(self, path):
        try:
            return self._io(_read, path)
        except FileNotFoundError:
            return None

    def has_key(self, key):
        """Whether an entry's metadata (its commit marker) is on disk."""
        return self._io(os.path.exists, self._paths(key)[2])

    def delete(self, image_id, namespace=""):
        """Remove a crop and its metadata; True if anything was there."""
        return self.remove_key(entry_key(image_id, namespace))

    def remove_key(self, key, release=True):
        """Remove an entry's files, metadata first so the entry is gone at once; True if any were there.
        Its bytes leave its tenant's total (unless a sweep recounts them itself: `release` False)."""
        _, crop_path, meta_path = self._paths(key)
        tenant, size = self._stored_bytes(meta_path)
        removed = False
        for path in (meta_path, crop_path, self._skin_path(key)):
            try:
                self._io(os.remove, path)
                removed = True
            except FileNotFoundError:
                pass
        if removed and size and release:
            self._release(tenant, size)
        return removed

    def _entries(self):
        """(key, metadata path) of every committed entry."""
        for folder, _, names in os.walk(self.root):
            for name in names:
                if name.endswith(".json") and IMAGE_ID_PATTERN.fullmatch(name[:-5]):
                    yield name[:-5], os.path.join(folder, name)

    def prune(self, now=None):
        """Delete expired entries, orphaned crops (their metadata never written) and stale
        temporary files; then apply the size bound. Returns how many entries and orphans went.
        Under gevent the walk runs on a real thread (ananacare.offload.run_blocking)."""
        return run_blocking(self._prune, time.time() if now is None else now)

    def _prune(self, now):
        before = self._ledger.read()
        counted = {}  # tenant -> bytes of the entries kept, recounted from their metadata
        removed = 0
        for folder, _, names in os.walk(self.root):
            present = set(names)
            for name in names:
                path = os.path.join(folder, name)
                orphan = _orphan(name, present)
                if (name.startswith(_TEMP_PREFIX) or orphan) and _age(path, now) > _ORPHAN_GRACE_SECONDS:
                    removed += int(_remove_quietly(path) and orphan)
        for key, meta_path in list(self._entries()):
            try:
                with open(meta_path, "rb") as handle:
                    metadata = json.loads(handle.read())
                expired = is_expired(metadata, self.ttl_seconds, now)
            except FileNotFoundError:
                continue
            except OSError:
                continue  # unreadable now is not proof of anything: try again next sweep
            except (ValueError, AttributeError):
                expired = True
            if expired:
                removed += int(self.remove_key(key, release=False))  # not counted below either
            else:
                tenant = str(metadata.get("tenant") or "")
                counted[tenant] = counted.get(tenant, 0) + int(metadata.get("stored_bytes") or 0)
        removed += self.evict()
        self._recount(before, counted)
        return removed

    def _recount(self, before, counted):
        """Set the running totals to the bytes the sweep counted, plus whatever puts and removals
        changed while it walked (the ledger's change since `before`)."""
        with self._ledger.locked() as usage:
            tenants = set(counted) | set(usage["tenants"]) | set(before["tenants"])
            fresh = {name: counted.get(name, 0) + usage["tenants"].get(name, 0) - before["tenants"].get(name, 0)
                     for name in tenants}
            usage["tenants"] = {name: size for name, size in fresh.items() if size > 0}
            usage["total"] = sum(usage["tenants"].values())

    def sweep_if_due(self, interval, now=None):
        """prune() if no process sharing this folder has swept within `interval` seconds.

        Workers (and replicas on one volume) all call this on a timer; an exclusive lock on a file
        in the folder and the time written in it make one of them sweep per interval. Returns the
        number removed, or None when another process swept or is sweeping.
        """
        now = time.time() if now is None else now
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, _SWEEP_LOCK), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            handle.seek(0)
            try:
                last = float(handle.read() or 0)
            except ValueError:
                last = 0.0
            if now - last < interval * 0.9:
                return None
            removed = self.prune(now)
            handle.seek(0)
            handle.truncate()
            handle.write(repr(time.time()))
            return removed

    def evict(self):
        """Delete the oldest entries beyond max_entries; returns how many went."""
        if not self.max_entries:
            return 0
        entries = sorted(self._entries(), key=lambda entry: _mtime(entry[1]))
        excess = entries[: max(0, len(entries) - self.max_entries)]
        return sum(self.remove_key(key) for key, _ in excess)

    def stats(self):
        """Entries, orphaned crops and bytes on disk (walks the folder: for diagnostics, not hot paths)."""
        entries = orphans = size = 0
        for folder, _, names in os.walk(self.root):
            present = set(names)
            for name in names:
                entries += name.endswith(".json") and not name.startswith(_TEMP_PREFIX)
                orphans += _orphan(name, present)
                if name not in (FileLedger.NAME, _SWEEP_LOCK):  # the store's own bookkeeping
                    size += _size(os.path.join(folder, name))
        return {"backend": self.backend, "path": self.root, "entries": entries, "orphans": orphans,
                "bytes": size, "ttl_seconds": self.ttl_seconds, "max_entries": self.max_entries,
                "store_max_bytes": self.quota.store_max_bytes, "tenant_max_bytes": self.quota.tenant_max_bytes,
                "counted_bytes": self._ledger.read()["total"]}


def _orphan(name, present):
    """A crop or skin crop file whose metadata is not in the folder."""
    suffix = next((s for s in PAYLOAD_SUFFIXES if name.endswith(s)), None)
    return suffix is not None and not name.startswith(_TEMP_PREFIX) and name[:-len(suffix)] + ".json" not in present


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


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
        return True
    except OSError:
        return False
