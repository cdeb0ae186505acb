"""gunicorn settings for Railway and local runs (`gunicorn -c gunicorn.conf.py wsgi:app`).

Models are loaded in each worker after fork (post_worker_init), never in the master:
torch hangs on its first op in a forked worker when the app is preloaded.
"""
import os
import shutil
import tempfile

# Prometheus multiprocess mode: every worker writes its samples here and /metrics merges them.
# Set before any worker imports prometheus_client; emptied when the master starts.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                                   f"ananacare-metrics-{os.getpid()}"))

# Railway injects PORT and expects 0.0.0.0:$PORT; locally we stay on loopback.
_port = os.environ.get("PORT", "8000")
bind = [os.environ.get("GUNICORN_BIND") or (f"0.0.0.0:{_port}" if "PORT" in os.environ else f"127.0.0.1:{_port}")]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
os.environ["WEB_CONCURRENCY"] = str(workers)  # the app sizes intra-op threads as cores / workers

preload_app = False
# gevent workers: reading a request is cooperative, so idle or slow clients cost a greenlet each, not
# a worker; gunicorn bounds the wait for a request's headers (and an idle keep-alive connection) by
# `keepalive` seconds, and the app bounds the body (ananacare/request_body.py). Inference stays one
# request at a time per worker, as with sync workers (it holds the CPU and the GIL).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))  # < Railway drainingSeconds
keepalive = 5  # seconds: also the longest wait for a request's headers under gevent
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeat files on tmpfs: no stalls on container disks
accesslog = None  # the app writes one JSON line per request, with its request id and stage timings
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_fork(server, worker):
    """glibc's malloc tuned for the worker's photo work (ananacare/worker_memory.py)."""
    from ananacare.worker_memory import tune_malloc

    tune_malloc()


def post_worker_init(worker):
    """Load every model in this worker and start its crop sweeper, after fork; model failures are
    recorded, never raised."""
    from ananacare import start_worker

    states = start_worker(worker.wsgi)
    summary = ", ".join(f"{s.spec.name}={s.status}" for s in states)
    worker.log.info("worker %s models: %s", worker.pid, summary)


def worker_abort(worker):
    """gunicorn's timeout ended this worker (it should not: WORK_TIMEOUT_SECONDS ends work first):
    log every request it was still working on, with its stages so far."""
    from ananacare.observability import log_inflight

    log_inflight(worker.wsgi, "worker_timeout")


def on_starting(server):
    """Check the settings (a bad one: one line, exit 4, no worker spawned); empty the metrics folder."""
    from ananacare.config import exit_on_bad_settings

    exit_on_bad_settings()
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """Let the metrics of a dead worker's live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder with the server (it lives in /dev/shm, i.e. memory)."""
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
