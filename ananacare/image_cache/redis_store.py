"""Crops in Redis: the store for several replicas (a Railway volume cannot be shared by them).

One hash per crop holds the crop bytes, the skin crop's bytes (when there is one) and the
metadata, written with its TTL in one MULTI transaction, so a reader gets all or none. A sorted
set indexes entries by creation time for the size bound (oldest evicted first). Redis being down
is a 503 `cache_unavailable`; the client reconnects by itself when it is back.
"""
import json
import time
from urllib.parse import urlsplit, urlunsplit

import redis

from .base import crop_record, entry_key, not_found, open_entry, unavailable


def redact(url):
    """The URL without its password, for diagnostics and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisCropStore:
    """Crops in Redis with a TTL (EXPIRE) and a bound on the number of entries."""

    backend = "redis"

    def __init__(self, url, ttl_seconds, max_entries=None, prefix="ananacare:crop:"):
        self._redis = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3,
                                           health_check_interval=30)
        self.url = redact(url)
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._prefix = prefix
        self._index = prefix + "index"

    def _redis_key(self, key):
        return self._prefix + key

    def _call(self, operation):
        try:
            return operation()
        except redis.RedisError as error:
            raise unavailable(self.backend, error) from None

    def put(self, image_id, crop, metadata, namespace="", skin=None):
        """Store crop, skin crop and metadata in one transaction with the TTL; evict beyond max_entries."""
        key = entry_key(image_id, namespace)
        payload, skin_payload, stored = crop_record(image_id, crop, metadata, self.ttl_seconds, skin)
        fields = {"crop": payload, "meta": json.dumps(stored)}
        if skin_payload is not None:
            fields["skin"] = skin_payload

        def write():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self._redis_key(key))  # a re-upload without a skin crop leaves no stale one
            pipe.hset(self._redis_key(key), mapping=fields)
            pipe.expire(self._redis_key(key), int(self.ttl_seconds))
            pipe.zadd(self._index, {key: stored["created_at"]})
            pipe.execute()
            if self.max_entries:
                self._evict_beyond(self.max_entries)

        self._call(write)
        return stored

    def _evict_beyond(self, limit):
        excess = self._redis.zcard(self._index) - limit
        if excess <= 0:
            return 0
        oldest = [member.decode() for member, _ in self._redis.zpopmin(self._index, excess)]
        if oldest:
            self._redis.delete(*(self._redis_key(key) for key in oldest))
        return len(oldest)

    def get(self, image_id, namespace=""):
        """The stored crop, verified; 404 unknown or expired, 422 corrupt (and removed), 503 unreachable."""
        key = entry_key(image_id, namespace)
        meta, payload, skin = self._call(lambda: self._redis.hmget(self._redis_key(key), "meta", "crop", "skin"))
        if meta is None and payload is None:
            raise not_found(image_id, "unknown or expired")
        try:
            metadata = json.loads(meta) if meta is not None else None
        except ValueError:
            metadata = None
        return open_entry(self, key, image_id, metadata, lambda: payload, lambda: skin)

    def has_key(self, key):
        """Whether an entry's metadata is in Redis."""
        return bool(self._call(lambda: self._redis.hexists(self._redis_key(key), "meta")))

    def delete(self, image_id, namespace=""):
        """Remove a crop; True if it was there."""
        return self.remove_key(entry_key(image_id, namespace))

    def remove_key(self, key):
        """Remove an entry and its index member; True if it was there."""
        def remove():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self._redis_key(key))
            pipe.zrem(self._index, key)
            return pipe.execute()[0] > 0

        return self._call(remove)

    def prune(self, now=None):
        """Delete crops older than the TTL in force and drop index members of vanished crops (Redis
        deletes crops by the TTL they were written with); then apply the size bound. Returns how many
        index members went."""
        now = time.time() if now is None else now

        def sweep():
            # older than the TTL in force: the crop goes too (EXPIRE was set with the TTL of its day)
            old = [m.decode() for m in self._redis.zrangebyscore(self._index, "-inf", now - self.ttl_seconds)]
            for start in range(0, len(old), 500):
                pipe = self._redis.pipeline(transaction=True)
                pipe.delete(*(self._redis_key(key) for key in old[start:start + 500]))
                pipe.zrem(self._index, *old[start:start + 500])
                pipe.execute()
            removed = len(old)
            members = [m.decode() for m in self._redis.zrange(self._index, 0, -1)]
            for start in range(0, len(members), 500):
                batch = members[start:start + 500]
                pipe = self._redis.pipeline(transaction=False)
                for key in batch:
                    pipe.exists(self._redis_key(key))
                gone = [key for key, exists in zip(batch, pipe.execute()) if not exists]
                if gone:
                    self._redis.zrem(self._index, *gone)
                    removed += len(gone)
            return removed + (self._evict_beyond(self.max_entries) if self.max_entries else 0)

        return self._call(sweep)

    def sweep_if_due(self, interval, now=None):
        """prune() if no process using this Redis has swept within `interval` seconds (a key set
        with NX and an expiry elects one sweeper per interval across workers and replicas)."""
        claimed = self._call(lambda: self._redis.set(self._prefix + "sweep", "1", nx=True,
                                                     px=max(1, int(interval * 900))))
        return self.prune(now) if claimed else None

    def stats(self):
        """Entries in the index, memory used, and whether Redis answers."""
        try:
            memory = self._redis.info("memory").get("used_memory")
            entries = self._redis.zcard(self._index)
            reachable = True
        except redis.RedisError:
            memory = entries = None
            reachable = False
        return {"backend": self.backend, "url": self.url, "reachable": reachable, "entries": entries,
                "used_memory_bytes": memory, "ttl_seconds": self.ttl_seconds, "max_entries": self.max_entries}
