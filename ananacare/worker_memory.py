"""glibc malloc tuned for a worker's photo work (gunicorn's post_fork; the in-process benches too).

- One arena: the work runs on a pipeline thread (ananacare.offload), and glibc would give that
  thread an arena of its own, whose freed pages a decode of the next photo cannot reuse from the
  main one (measured: the heaviest upload's peak 372 -> 401 MB without this).
- Blocks under MMAP_THRESHOLD from the heap, and up to TRIM_THRESHOLD of freed heap kept: the
  analysis makes and drops many arrays of a few MB, and each one mapped afresh from the kernel
  pays its page faults again (measured: the skin's Gaussian derivatives 12 -> 3.5 ms on a 560 px
  face). The peak is unchanged; between requests the worker keeps what it freed, up to that much.
"""
import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 128 * 1024 * 1024


def tune_malloc():
    """Apply the tuning to this process; False when the C library is not glibc (nothing to tune)."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt(M_ARENA_MAX, 1)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return True
