"""Work that must not run on the gevent hub: a gevent worker serves every connection from one
thread, so CPU-bound work on it (decoding, model runs, skin filters, a folder walk) freezes every
other request of the worker and its heartbeat, and gunicorn kills the worker. Such work runs on
real OS threads instead; LiteRT's invoke, numpy and Pillow release the GIL, and the hub keeps
answering (`/healthz` while a photo is processed).

Outside gevent (sync workers, the CLI, tests) everything runs inline or on a plain thread pool.
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_background = []  # the plain thread pool for start_blocking outside gevent, made once


def gevent_hub_active():
    """Whether gevent has patched threading (a gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


def _hub_threadpool():
    if not gevent_hub_active():
        return None
    import gevent

    return gevent.get_hub().threadpool


def run_blocking(function, *args):
    """Run `function(*args)` on a real OS thread when gevent has patched threading, waiting for it
    cooperatively; inline otherwise."""
    pool = _hub_threadpool()
    return function(*args) if pool is None else pool.apply(function, args)


def start_blocking(function, *args):
    """Start `function(*args)` on a real OS thread; returns a function that waits for its result and
    raises what it raised. For CPU work only (encoding): gevent sockets, so a Redis client, belong
    to the hub's own thread."""
    pool = _hub_threadpool()
    if pool is not None:
        return pool.spawn(function, *args).get
    with _lock:
        if not _background:
            _background.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="ananacare-blocking"))
    return _background[0].submit(function, *args).result


class PipelinePool:
    """Where a worker runs its photo pipelines: one at a time (they hold the CPU; the worker's models
    have one interpreter each), on a real OS thread under gevent, inline otherwise. A request that
    waits here is still within its work deadline.

    `admitted()` bounds what waiting costs: at most `size + 1` requests are admitted at once (one
    running, one ready), in the order they asked; a request reads its stored crop (I/O on the hub: a
    Redis client belongs to the hub's thread) only once admitted, so dozens of requests queued under
    overload hold no decoded images."""

    def __init__(self, size=1):
        self.size = size
        self._pool = None
        self._made = threading.Lock()
        self._admission = threading.BoundedSemaphore(size + 1)  # gevent's, in a gevent worker
        self.admitted_now = 0

    @contextlib.contextmanager
    def admitted(self):
        """Hold one of the `size + 1` places for a request's read and its work."""
        with self._admission:
            self.admitted_now += 1
            try:
                yield
            finally:
                self.admitted_now -= 1

    def run(self, function, *args):
        """`function(*args)` on the pipeline thread; its result, or what it raised (raised here, on
        the caller's side: gevent's pool would also print every exception's traceback to stderr, and a
        404 is not worth one)."""
        if not gevent_hub_active():
            return function(*args)
        if self._pool is None:
            with self._made:
                if self._pool is None:
                    from gevent.threadpool import ThreadPool

                    self._pool = ThreadPool(self.size)
        ok, outcome = self._pool.apply(_outcome, (function, args))
        if ok:
            return outcome
        raise outcome


def _outcome(function, args):
    """(True, result) or (False, the exception) of function(*args)."""
    try:
        return True, function(*args)
    except Exception as error:  # handed to the caller, who raises it
        return False, error


def _original(module, name):
    """The unpatched `module.name` when gevent has patched it, else the module's own."""
    if gevent_hub_active():
        from gevent import monkey

        return monkey.get_original(module, name)
    import importlib

    return getattr(importlib.import_module(module), name)


def in_real_thread(function, *args):
    """Start `function(*args)` on a new OS thread, from any thread (the pipeline's own included:
    gevent's pools belong to the hub's thread); returns a function that waits for its result and
    raises what it raised. For CPU work that releases the GIL (a JPEG decode) beside the pipeline."""
    start = _original("_thread", "start_new_thread")
    done = _original("_thread", "allocate_lock")()
    done.acquire()
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to whoever waits
            outcome["error"] = error
        finally:
            done.release()

    start(run, ())

    def wait():
        done.acquire()
        done.release()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
    return wait
