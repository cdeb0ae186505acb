"""What a stranger on the network could do to real gunicorn: oversized chunked bodies, crops that
outlive their TTL, another tenant's ids."""
import json
import os
import socket
import time

import pytest

from photos import jpeg
from server import call, gunicorn

SECRET = "0123456789abcdef0123456789abcdef"


def _raw_exchange(base, request_bytes, timeout=30):
    """Send raw bytes, return the status line and the JSON body of the answer."""
    host, port = base.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), json.loads(body or b"null")


def _length(answer):
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _chunked(payload, size=65536):
    parts = [b"%x\r\n%s\r\n" % (len(payload[i:i + size]), payload[i:i + size]) for i in range(0, len(payload), size)]
    return b"".join(parts) + b"0\r\n\r\n"


@pytest.mark.slow
def test_chunked_upload_over_the_limit_is_413_not_truncated(tmp_path):
    limit = 1024 * 1024
    with gunicorn(tmp_path, workers=1, env={"ANANACARE_MAX_UPLOAD_BYTES": str(limit)}) as base:
        photo = jpeg()
        oversized = photo + b"\0" * (limit + 1 - len(photo))  # a valid JPEG prefix, then past the limit
        head = b"POST /api/validate/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n" \
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        status, body = _raw_exchange(base, head + _chunked(oversized))
        assert status.startswith("HTTP/1.1 413"), (status, body)
        assert body["error"]["code"] == "payload_too_large" and str(limit) in body["error"]["message"]
        status, body = _raw_exchange(base, head + _chunked(photo))  # under the limit, chunked works
        assert status.startswith("HTTP/1.1 200") and body["image_id"]


@pytest.mark.slow
def test_crops_are_deleted_after_their_ttl_without_any_read(tmp_path):
    env = {"ANANACARE_CACHE_TTL_SECONDS": "2", "ANANACARE_CACHE_SWEEP_SECONDS": "2"}
    with gunicorn(tmp_path, workers=2, env=env) as base:
        status, body, _ = call(base, "/api/validate/image", jpeg(), "image/jpeg")
        assert status == 200 and body["image_id"]
        crops = tmp_path / "crops"
        assert any(name.endswith(".tiff") for _, _, names in os.walk(crops) for name in names)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            left = [name for _, _, names in os.walk(crops) for name in names if name.endswith((".tiff", ".json"))]
            if not left:
                break
            time.sleep(0.25)
        assert not left, left  # gone within TTL + sweep interval (+ slack), though nobody asked for it
    log = (tmp_path / "gunicorn.log").read_text()
    assert log.count("crop sweep removed 1 entries") == 1  # one sweeper did it, not one per worker


def _api(base, path, key, data=None, content_type=None, method=None):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base + path, data=data, method=method, headers={"X-API-Key": key})
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
def test_tenants_cannot_see_each_others_crops_across_workers(tmp_path):
    env = {"ANANACARE_API_KEYS": "clinic:key-a,shop:key-b", "ANANACARE_SECRET_KEY": SECRET}
    with gunicorn(tmp_path, workers=2, env=env) as base:
        status, raw = _api(base, "/api/validate/image", "key-a", jpeg(), "image/jpeg")
        image_id = json.loads(raw)["image_id"]
        for _ in range(4):  # both workers derive the same id from the shared secret
            again = _api(base, "/api/validate/image", "key-a", jpeg(), "image/jpeg")[1]
            assert json.loads(again)["image_id"] == image_id
        other_id = json.loads(_api(base, "/api/validate/image", "key-b", jpeg(), "image/jpeg")[1])["image_id"]
        assert other_id != image_id
        for _ in range(4):
            assert _api(base, f"/api/images/{image_id}", "key-b")[0] == 404
            assert _api(base, f"/api/images/{image_id}", "key-b", method="DELETE")[0] == 404
            assert _api(base, f"/api/images/{image_id}", "key-a")[0] == 200
