"""The crafted uploads of tests/crafted.py against real gunicorn: answered quickly and without a 5xx,
the worker's event loop free while a heavy photo runs, memory and body limits held, no worker killed."""
import socket
import threading
import time
import urllib.request

import pytest

import crafted
from server import call, gunicorn, memory_mb


def _timed_call(base, path, data=None, content_type=None, timeout=30):
    started = time.monotonic()
    status, body, headers = call(base, path, data, content_type, timeout=timeout)
    return status, body, time.monotonic() - started


def _healthz_seconds(base):
    started = time.monotonic()
    with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
        response.read()
    return time.monotonic() - started


def _in_background(function, *args):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function(*args)))
    thread.start()
    return thread, result


@pytest.mark.slow
def test_crafted_uploads_are_answered_quickly_and_the_service_keeps_serving(tmp_path):
    bomb = crafted.scan_bomb_jpeg(repeats=20_000)  # 1.7 MB: past gunicorn's timeout before
    selfie = crafted.selfie_jpeg()
    with gunicorn(tmp_path, workers=2) as base:
        workers = set(base.worker_pids())
        bombs = [_in_background(_timed_call, base, "/api/validate/image", bomb, "image/jpeg") for _ in range(2)]
        time.sleep(0.05)
        healthz = _healthz_seconds(base)
        status, _, selfie_seconds = _timed_call(base, "/api/validate/image", selfie, "image/jpeg")
        for thread, _ in bombs:
            thread.join(timeout=30)
        answers = [result["value"] for _, result in bombs]
        hwm = max(memory_mb(pid, "VmHWM") for pid in base.worker_pids())
        tiny = call(base, "/api/validate/image", crafted.claimed_size_cmyk_jpeg(7071), "image/jpeg")
        hwm_after_tiny = max(memory_mb(pid, "VmHWM") for pid in base.worker_pids())
        assert set(base.worker_pids()) == workers
    log = (tmp_path / "gunicorn.log").read_text()
    assert "WORKER TIMEOUT" not in log
    assert healthz < 1.0 and status == 200 and selfie_seconds < 3.0
    for code, body, seconds in answers:
        assert code == 422 and body["error"]["code"] == "image_structure_refused" and seconds < 3.0
    assert tiny[0] == 413 and tiny[1]["error"]["code"] == "image_too_large"
    assert hwm_after_tiny <= 400 and hwm_after_tiny - hwm < 20  # refused before libjpeg allocated anything


@pytest.mark.slow
def test_a_heavy_photo_runs_off_the_event_loop(tmp_path):
    """One worker: while it searches 144 faces, the same worker answers /healthz at once, and the photo
    itself is answered within the search's budget of model runs."""
    grid = crafted.face_grid_jpeg()
    with gunicorn(tmp_path, workers=1) as base:
        thread, result = _in_background(_timed_call, base, "/api/validate/image", grid, "image/jpeg")
        time.sleep(0.3)  # decoded and searching by now
        during = [_healthz_seconds(base) for _ in range(3)]
        thread.join(timeout=60)
    status, body, seconds = result["value"]
    assert status == 200 and seconds < 10, (status, seconds)
    assert body["detection"]["search_model_runs"] <= 121 and len(body["faces"]) >= 1
    assert max(during) < 1.0, during


def _slow_body(port, path, declared, pace_seconds, limit_seconds):
    """Declare a body, send it a byte per `pace_seconds`; (the server's first status line or
    'closed', seconds until then)."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        while time.monotonic() - started < limit_seconds:
            try:
                sock.sendall(b"x")
                sock.settimeout(pace_seconds)
                answer = sock.recv(200)
                return (answer.split(b"\r\n", 1)[0].decode() if answer else "closed"), time.monotonic() - started
            except socket.timeout:
                continue
            except OSError:
                return "closed", time.monotonic() - started
        return "still open", time.monotonic() - started
    finally:
        sock.close()


@pytest.mark.slow
def test_a_declared_large_body_trickled_is_cut_within_seconds(tmp_path):
    with gunicorn(tmp_path, workers=1) as base:
        port = int(base.rsplit(":", 1)[1])
        upload = _slow_body(port, "/api/validate/image", 25 * 1024 * 1024, 1.0, 30)
        elsewhere = _slow_body(port, "/nowhere", 25 * 1024 * 1024, 1.0, 30)
    assert upload[0].startswith("HTTP/1.1 408") and upload[1] < 15, upload  # cut after the 5 s grace
    assert elsewhere[0] != "still open" and elsewhere[1] < 3, elsewhere  # a path that takes no body reads none


@pytest.mark.slow
def test_bodies_held_by_a_worker_are_bounded(tmp_path):
    """MAX_BUFFERED_BYTES: a body that would take the worker past it gets 503 with Retry-After at
    once; the one in flight is unaffected."""
    with gunicorn(tmp_path, workers=1, env={"ANANACARE_MAX_BUFFERED_BYTES": str(2 * 1024 * 1024)}) as base:
        port = int(base.rsplit(":", 1)[1])
        holder = socket.create_connection(("127.0.0.1", port), timeout=5)
        holder.sendall(b"POST /api/validate/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                       b"Content-Length: 1500000\r\n\r\n" + b"x" * 1000)
        time.sleep(0.3)
        refused = socket.create_connection(("127.0.0.1", port), timeout=5)  # answered before its body is sent
        refused.sendall(b"POST /api/validate/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                        b"Content-Length: 1000000\r\n\r\n")
        answer = b""
        while b"server_busy" not in answer:
            chunk = refused.recv(4096)
            if not chunk:
                break
            answer += chunk
        answer = answer.decode(errors="replace")
        refused.close()
        holder.close()
        time.sleep(0.3)
        later = call(base, "/api/validate/image", crafted.selfie_jpeg(), "image/jpeg")
    assert answer.startswith("HTTP/1.1 503") and "server_busy" in answer and "Retry-After: 2" in answer, answer
    assert later[0] == 200  # the bytes were given back when the holder went
