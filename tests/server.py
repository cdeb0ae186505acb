"""Start real gunicorn on a free loopback port for a test, and talk to it over HTTP."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base, path, data=None, content_type=None, method=None, timeout=30):
    """(status, JSON body, headers) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(base + path, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers


def call_text(base, path, timeout=30):
    """The body of a GET as text (for /metrics)."""
    with urllib.request.urlopen(base + path, timeout=timeout) as response:
        return response.read().decode()


class RunningServer(str):
    """A running server's base URL (use it as a string) with its gunicorn master process."""

    process = None

    def worker_pids(self):
        """PIDs of the master's worker processes, from /proc."""
        return child_pids(self.process.pid)


def child_pids(pid):
    """PIDs whose parent is `pid`, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                pids.append(int(entry))
    return pids


def memory_mb(pid="self", field="VmRSS"):
    """A memory figure of a process from /proc/<pid>/status (VmRSS now, VmHWM its peak), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def stop(process):
    """SIGTERM a process group started with start_new_session; SIGKILL after 30 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def gunicorn(tmp_path, workers=2, env=None, ready_timeout=90, root=ROOT):
    """A gunicorn server with `workers` workers, serving the code in `root` (this checkout; a bench
    may serve a git ref's export); yields its base URL once /readyz answers 200."""
    port = free_port()
    environment = {**os.environ, "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{port}",
                   "ANANACARE_CACHE_DIR": str(tmp_path / "crops"), **(env or {})}
    environment.pop("PORT", None)
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = RunningServer(f"http://127.0.0.1:{port}")
    base.process = process
    try:
        _wait_ready(base, process, ready_timeout, tmp_path / "gunicorn.log")
        yield base
    finally:
        stop(process)
        log.close()


def _wait_ready(base, process, timeout, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if call(base, "/readyz", timeout=2)[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"gunicorn not ready after {timeout}s:\n{log_path.read_text()[-3000:]}")
