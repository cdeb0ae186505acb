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
from .quota import Quota, quota_exceeded

# Store an entry if its tenant's and the store's quotas allow, in one atomic step: check the totals,
# write the entry's hash with its TTL, index it, record its size and add it to the totals.
# KEYS: entry, index, sizes, usage. ARGV: key, tenant, size, tenant max, store max, ttl, created,
# then field/value pairs of the entry. Returns {0} stored, {1, used} tenant full, {2, used} store full.
_PUT = """
local old = redis.call('HGET', KEYS[3], ARGV[1])
local old_size = 0
if old then old_size = tonumber(string.match(old, '\t(%d+)$')) or 0 end
local delta = tonumber(ARGV[3]) - old_size
local used = tonumber(redis.call('HGET', KEYS[4], 't:' .. ARGV[2]) or '0')
local total = tonumber(redis.call('HGET', KEYS[4], 'total') or '0')
if delta > 0 then
  if tonumber(ARGV[4]) > 0 and used + delta > tonumber(ARGV[4]) then return {1, used} end
  if tonumber(ARGV[5]) > 0 and total + delta > tonumber(ARGV[5]) then return {2, total} end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '\t' .. ARGV[3])
redis.call('HINCRBY', KEYS[4], 't:' .. ARGV[2], delta)
redis.call('HINCRBY', KEYS[4], 'total', delta)
return {0, 0}
"""
# Remove an entry, its index member and its size, and take its bytes off the totals.
# KEYS: entry, index, sizes, usage. ARGV: key. Returns 1 when the entry was there.
_REMOVE = """
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then
  local tenant, size = string.match(old, '^(.*)\t(%d+)$')
  redis.call('HDEL', KEYS[3], ARGV[1])
  if tenant then
    redis.call('HINCRBY', KEYS[4], 't:' .. tenant, -tonumber(size))
    redis.call('HINCRBY', KEYS[4], 'total', -tonumber(size))
  end
end
return removed
"""


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

    def __init__(self, url, ttl_seconds, max_entries=None, prefix="ananacare:crop:", quota=Quota()):
        self._redis = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3,
                                           health_check_interval=30)
        self.url = redact(url)
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._prefix = prefix
        self._index = prefix + "index"
        self._sizes = prefix + "sizes"  # key -> "tenant<TAB>bytes" of every entry indexed
        self._usage = prefix + "usage"  # "t:<tenant>" -> bytes, "total" -> bytes
        self.quota = quota
        self._put_script = self._redis.register_script(_PUT)
        self._remove_script = self._redis.register_script(_REMOVE)

    def _redis_key(self, key):
        return self._prefix + key

    def _call(self, operation):
        try:
            return operation()
        except redis.RedisError as error:
            raise unavailable(self.backend, error) from None

    def put(self, image_id, crop, metadata, namespace="", skin=None):
        """Store crop, skin crop and metadata in one atomic step with the TTL (a re-upload without a
        skin crop leaves no stale one); 429 `store_quota_exceeded` past the tenant's or the store's
        quota, storing nothing; evict beyond max_entries."""
        key = entry_key(image_id, namespace)
        record = crop_record(image_id, crop, metadata, self.ttl_seconds, skin)
        payload, skin_payload, stored = record.payload, record.skin_payload, record.metadata
        fields = ["crop", payload, "meta", record.metadata_json] + (["skin", skin_payload] if skin_payload else [])
        tenant, size = stored.get("tenant") or "", stored["stored_bytes"]

        def write():
            answer = self._put_script(
                keys=[self._redis_key(key), self._index, self._sizes, self._usage],
                args=[key, tenant, size, self.quota.tenant_max_bytes, self.quota.store_max_bytes,
                      int(self.ttl_seconds), stored["created_at"], *fields])
            if self.max_entries and not answer[0]:
                self._evict_beyond(self.max_entries)
            return answer

        outcome, used = self._call(write)
        if outcome == 1:
            raise quota_exceeded("tenant", self.quota.tenant_max_bytes, used, size, "TENANT_MAX_BYTES")
        if outcome == 2:
            raise quota_exceeded("store", self.quota.store_max_bytes, used, size, "STORE_MAX_BYTES")
        return stored

    def _evict_beyond(self, limit):
        excess = self._redis.zcard(self._index) - limit
        if excess <= 0:
            return 0
        oldest = [member.decode() for member, _ in self._redis.zpopmin(self._index, excess)]
        for key in oldest:
            self._remove(key)
        return len(oldest)

    def _remove(self, key):
        return self._remove_script(keys=[self._redis_key(key), self._index, self._sizes, self._usage], args=[key])

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
        """Remove an entry, its index member and its bytes from the totals; True if it was there."""
        return self._call(lambda: self._remove(key) > 0)

    def prune(self, now=None):
        """Delete crops older than the TTL in force and drop index members of vanished crops (Redis
        deletes crops by the TTL they were written with); then apply the size bound. Returns how many
        index members went."""
        now = time.time() if now is None else now

        def sweep():
            # older than the TTL in force: the crop goes too (EXPIRE was set with the TTL of its day)
            old = [m.decode() for m in self._redis.zrangebyscore(self._index, "-inf", now - self.ttl_seconds)]
            for key in old:
                self._remove(key)
            removed = len(old)
            members = [m.decode() for m in self._redis.zrange(self._index, 0, -1)]
            for start in range(0, len(members), 500):
                batch = members[start:start + 500]
                pipe = self._redis.pipeline(transaction=False)
                for key in batch:
                    pipe.exists(self._redis_key(key))
                gone = [key for key, exists in zip(batch, pipe.execute()) if not exists]
                for key in gone:  # expired by Redis itself: their bytes leave the totals too
                    self._remove(key)
                removed += len(gone)
            removed += self._evict_beyond(self.max_entries) if self.max_entries else 0
            self._recount()
            return removed

        return self._call(sweep)

    def _recount(self):
        """Set the totals to the sizes of the entries indexed (the sweep has dropped vanished ones)."""
        totals = {}
        for value in self._redis.hvals(self._sizes):
            tenant, _, size = value.decode().rpartition("\t")
            totals["t:" + tenant] = totals.get("t:" + tenant, 0) + int(size or 0)
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._usage)
        pipe.hset(self._usage, mapping={**totals, "total": sum(totals.values())})
        pipe.execute()

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
                "used_memory_bytes": memory, "ttl_seconds": self.ttl_seconds, "max_entries": self.max_entries,
                "store_max_bytes": self.quota.store_max_bytes, "tenant_max_bytes": self.quota.tenant_max_bytes}
