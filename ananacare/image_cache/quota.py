"""How many bytes the crop store holds, in all and per tenant, and the quotas on both.

STORE_MAX_BYTES bounds the store; TENANT_MAX_BYTES each tenant, by default an equal share of the
store (STORE_MAX_BYTES / the number of tenants; in open mode the one tenant has it all), so with
the defaults one tenant can never fill the store for the others. A put that would take its tenant
(or, where an operator gave tenants more than their share, the store) past its quota is refused
with 429 `store_quota_exceeded` and stores nothing: no crop of anybody's is evicted to make room,
because a skincare app compares a person's photos over weeks and a silently lost baseline is
worse than a refusal the app can act on (DELETE what it no longer needs, or wait for the TTL).

Every entry records its bytes in its metadata (`stored_bytes`); the stores keep running totals,
and each sweep recounts them from the entries themselves, so the totals cannot drift for long.
"""
import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import ApiError


@dataclass(frozen=True)
class Quota:
    """The store's byte bound and each tenant's (0: unbounded)."""

    store_max_bytes: int = 0
    tenant_max_bytes: int = 0

    @classmethod
    def from_config(cls, config, tenants=1):
        """STORE_MAX_BYTES, and TENANT_MAX_BYTES or an equal share of the store among `tenants`."""
        store = config.get("STORE_MAX_BYTES") or 0
        tenant = config.get("TENANT_MAX_BYTES") or (store // max(1, tenants) if store else 0)
        return cls(store, tenant)

    def check(self, tenant, tenant_bytes, store_bytes, adding):
        """429 `store_quota_exceeded` when adding `adding` bytes passes the tenant's or the store's quota."""
        if adding <= 0:
            return
        if self.tenant_max_bytes and tenant_bytes + adding > self.tenant_max_bytes:
            raise quota_exceeded("tenant", self.tenant_max_bytes, tenant_bytes, adding, "TENANT_MAX_BYTES")
        if self.store_max_bytes and store_bytes + adding > self.store_max_bytes:
            raise quota_exceeded("store", self.store_max_bytes, store_bytes, adding, "STORE_MAX_BYTES")


def quota_exceeded(scope, limit, used, adding, setting):
    """429 `store_quota_exceeded`: nothing was stored; details name the quota and the bytes in use."""
    whose = "your" if scope == "tenant" else "the service's"
    return ApiError("store_quota_exceeded", f"The crop could not be stored: {whose} crop store quota of {limit} bytes "
                    f"holds {used} bytes and this crop needs {adding}. Delete crops you no longer need "
                    "(DELETE /api/images/<id>) or wait for older ones to expire.", 429,
                    {"scope": scope, "limit_bytes": limit, "used_bytes": used, "crop_bytes": adding,
                     "setting": setting})


class FileLedger:
    """The filesystem store's running totals, in one small JSON file beside the crops, read and
    written under an exclusive lock (every worker of a replica shares the folder)."""

    NAME = ".usage"

    def __init__(self, root):
        self.path = os.path.join(root, self.NAME)

    @contextmanager
    def locked(self):
        """{"tenants": {name: bytes}, "total": bytes}, locked; written back when the block ends."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            try:
                usage = json.loads(handle.read() or "{}")
            except ValueError:
                usage = {}
            usage = {"tenants": dict(usage.get("tenants") or {}), "total": int(usage.get("total") or 0)}
            yield usage
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(usage))

    def add(self, usage, tenant, delta):
        """Add `delta` bytes (may be negative) to a tenant and the total."""
        tenants = usage["tenants"]
        tenants[tenant] = max(0, tenants.get(tenant, 0) + delta)
        if not tenants[tenant]:
            del tenants[tenant]
        usage["total"] = max(0, usage["total"] + delta)

    def read(self):
        """The totals now (for diagnostics)."""
        try:
            with open(self.path) as handle:
                usage = json.loads(handle.read() or "{}")
        except (OSError, ValueError):
            usage = {}
        return {"tenants": usage.get("tenants") or {}, "total": usage.get("total") or 0}
