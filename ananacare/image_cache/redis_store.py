"""Crops in Redis: the store for several replicas (a Railway volume cannot be shared by them).

One hash per crop holds the crop bytes and the metadata, written with its TTL in one MULTI
transaction, so a reader gets both or neither. A sorted set indexes entries by creation time for
the size bound (oldest evicted first). Redis being down is a 503 `cache_unavailable`; the client
reconnects by itself when it is back.
"""
import json
from urllib.parse import urlsplit, urlunsplit

import redis

from .base import check_image_id, crop_record, not_found, open_entry, unavailable


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

    def _key(self, image_id):
        return self._prefix + image_id

    def _call(self, operation):
        try:
            return operation()
        except redis.RedisError as error:
            raise unavailable(self.backend, error) from None

    def put(self, image_id, crop, metadata):
        """Store crop and metadata in one transaction with the TTL; evict beyond max_entries."""
        check_image_id(image_id)
        payload, stored = crop_record(image_id, crop, metadata, self.ttl_seconds)

        def write():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(self._key(image_id), mapping={"crop": payload, "meta": json.dumps(stored)})
            pipe.expire(self._key(image_id), int(self.ttl_seconds))
            pipe.zadd(self._index, {image_id: stored["created_at"]})
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
            self._redis.delete(*(self._key(image_id) for image_id in oldest))
        return len(oldest)

    def get(self, image_id):
        """The stored crop, verified; 404 unknown or expired, 422 corrupt (and removed)."""
        check_image_id(image_id)
        meta, payload = self._call(lambda: self._redis.hmget(self._key(image_id), "meta", "crop"))
        if meta is None and payload is None:
            raise not_found(image_id, "unknown or expired")
        try:
            metadata = json.loads(meta) if meta is not None else None
        except ValueError:
            metadata = None
        return open_entry(self, image_id, metadata, lambda: payload)

    def delete(self, image_id):
        """Remove a crop; True if it was there."""
        check_image_id(image_id)

        def remove():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self._key(image_id))
            pipe.zrem(self._index, image_id)
            return pipe.execute()[0] > 0

        return self._call(remove)

    def prune(self, now=None):
        """Drop index members whose crops Redis has expired; then apply the size bound."""
        def sweep():
            removed = 0
            members = [m.decode() for m in self._redis.zrange(self._index, 0, -1)]
            for start in range(0, len(members), 500):
                batch = members[start:start + 500]
                pipe = self._redis.pipeline(transaction=False)
                for image_id in batch:
                    pipe.exists(self._key(image_id))
                gone = [image_id for image_id, exists in zip(batch, pipe.execute()) if not exists]
                if gone:
                    self._redis.zrem(self._index, *gone)
                    removed += len(gone)
            return removed + (self._evict_beyond(self.max_entries) if self.max_entries else 0)

        return self._call(sweep)

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
