"""glibc malloc tuned for a worker's photo work (gunicorn's post_fork; the in-process benches too).

One arena: a worker's photo work runs on threads beside the hub's (the pipeline thread, the
encoding pool, a background decode: ananacare.offload), and glibc would give each an arena of its
own, whose freed pages the next photo's work on another thread cannot reuse (measured: the
heaviest upload's peak 372 -> 401 MB without this).

Left at glibc's defaults, on measurement: a fixed mmap threshold of 32 MiB with 128 MiB of freed
heap kept made by-id 3-7 % faster on real gunicorn, but a worker then kept up to that much between
requests (under `make load`, 166 -> 204 MB), which reads as a leak and costs the memory a second
worker needs.
"""
import ctypes

M_ARENA_MAX = -8


def tune_malloc():
    """Apply the tuning to this process; False when the C library is not glibc (nothing to tune)."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt(M_ARENA_MAX, 1)
    return True
