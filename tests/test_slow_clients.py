"""Idle and slow clients cannot stop the service (real gunicorn, 2 workers, loopback only).

50 idle connections, 10 clients trickling a body at 10 bytes/s and 5 trickling their headers, for
30 s: a normal client's /healthz and validate keep answering within 1 s, every trickler is cut off
(408 or a closed connection) after a bounded time, and no worker is killed.
"""
import select
import socket
import threading
import time
import urllib.request

import pytest

from photos import jpeg
from server import gunicorn

DURATION = 30.0
BODY_LENGTH = 100_000


def _trickle(port, head, body_follows, results, index):
    """Send a body one byte per 0.1 s after its headers (or the headers themselves so, when no body
    follows); record when and how the server ended it."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    outcome = "still open"
    try:
        if body_follows:
            sock.sendall(head)
        payload = b"x" * BODY_LENGTH if body_follows else head
        for position in range(len(payload)):
            if time.monotonic() - started > DURATION:
                break
            try:
                sock.sendall(payload[position:position + 1])
            except OSError:
                outcome = "closed"
                break
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                try:
                    answer = sock.recv(200)
                except OSError:
                    answer = b""
                outcome = answer.split(b"\r\n", 1)[0].decode(errors="replace") if answer else "closed"
                break
    finally:
        sock.close()
    results[index] = (outcome, time.monotonic() - started)


def _timed(request):
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
        return response.status, time.monotonic() - started


@pytest.mark.slow
def test_idle_and_trickling_clients_do_not_stop_the_service(tmp_path):
    photo = jpeg()
    with gunicorn(tmp_path, workers=2) as base:
        port = int(base.rsplit(":", 1)[1])
        workers = set(base.worker_pids())
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        body_head = (f"POST /api/validate/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                     f"Content-Length: {BODY_LENGTH}\r\n\r\n").encode()
        header_head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 400 + b"\r\n\r\n"
        results = {}
        threads = [threading.Thread(target=_trickle, args=(port, body_head, True, results, n)) for n in range(10)]
        threads += [threading.Thread(target=_trickle, args=(port, header_head, False, results, 10 + n))
                    for n in range(5)]
        for thread in threads:
            thread.start()
        answers = []
        deadline = time.monotonic() + DURATION
        time.sleep(1.0)  # every slow client is connected and sending
        while time.monotonic() < deadline:
            answers.append(("healthz", *_timed(base + "/healthz")))
            request = urllib.request.Request(base + "/api/validate/image", data=photo,
                                             headers={"Content-Type": "image/jpeg"})
            answers.append(("validate", *_timed(request)))
            time.sleep(0.5)
        for thread in threads:
            thread.join(timeout=DURATION + 10)
        for sock in idle:
            sock.close()
        still_workers = set(base.worker_pids())
    log = (tmp_path / "gunicorn.log").read_text()
    assert len(answers) >= 20
    slow = [answer for answer in answers if answer[1] != 200 or answer[2] >= 1.0]
    assert not slow, slow
    assert len(results) == 15
    for index, (outcome, seconds) in results.items():
        # a slow body: 408 once it falls behind 16 KiB/s after a 5 s grace; slow headers: closed after 5 s
        assert outcome.startswith("HTTP/1.1 408") if index < 10 else outcome == "closed", (index, outcome)
        assert seconds < 20, (index, outcome, seconds)  # cut off after a bounded time
    assert still_workers == workers and "WORKER TIMEOUT" not in log
