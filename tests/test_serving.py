"""Production serving on real gunicorn (2 workers, loopback): both crop stores, metrics, timm."""
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import ImageEnhance

from photos import encode, photo
from server import call, call_text, gunicorn

UPLOADS = 100


def _variants(count):
    """`count` different JPEG selfies (brightness steps), so each upload gets its own id."""
    base = photo("astronaut")
    return [encode(ImageEnhance.Brightness(base).enhance(0.8 + 0.4 * i / count), "JPEG", quality=90)
            for i in range(count)]


def _request_pids(log_path, path):
    pids = set()
    for line in log_path.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("message") == "request" and record.get("path") == path:
                pids.add(record["pid"])
    return pids


def _store_env(backend, request):
    """The server's environment for a crop store backend (a fresh Redis for "redis")."""
    if backend != "redis":
        return {}
    server = request.getfixturevalue("redis_server")
    server.flush()
    return {"ANANACARE_CACHE_URL": server.url}


@pytest.mark.parametrize("backend", ["filesystem", "redis"])
def test_100_uploads_then_100_by_id_over_two_workers(tmp_path, backend, request):
    env = _store_env(backend, request)
    uploads = _variants(UPLOADS)
    with gunicorn(tmp_path, workers=2, env=env) as base:
        with ThreadPoolExecutor(4) as pool:
            validated = list(pool.map(lambda data: call(base, "/api/validate/image", data, "image/jpeg"), uploads))
            assert [status for status, _, _ in validated] == [200] * UPLOADS
            ids = [body["image_id"] for _, body, _ in validated]
            assert len(set(ids)) == UPLOADS
            analysed = list(pool.map(lambda image_id: call(
                base, "/api/analyze/by-id", json.dumps({"image_id": image_id}).encode(), "application/json"), ids))
        assert [status for status, _, _ in analysed] == [200] * UPLOADS
        assert all(body["results"]["landmarks"]["count"] == 468 for _, body, _ in analysed)
        metrics = call_text(base, "/metrics")
        assert f'ananacare_request_seconds_count{{endpoint="/api/validate/image",method="POST",status="200"}} ' \
               f'{float(UPLOADS)}' in metrics
        assert f'ananacare_crop_store_lookups_total{{backend="{backend}",result="hit"}} {float(UPLOADS)}' in metrics
        assert "ananacare_inference_seconds_bucket" in metrics
        stats = call(base, "/api/diagnostics")[1]["crop_cache"]
        assert stats["backend"] == backend and stats["entries"] == UPLOADS
    log = tmp_path / "gunicorn.log"
    assert len(_request_pids(log, "/api/validate/image")) == 2
    assert len(_request_pids(log, "/api/analyze/by-id")) == 2
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("backend", ["filesystem", "redis"])
def test_uploads_reads_and_heatmaps_interleaved_in_one_worker(tmp_path, backend, request):
    # the store's client belongs to the hub's thread: a read on the pipeline thread, then a write on
    # the hub (or the other way round) must both work, request after request, in one worker
    env = _store_env(backend, request)
    statuses = []
    with gunicorn(tmp_path, workers=1, env=env) as base:
        for data in _variants(6):
            status, body, _ = call(base, "/api/validate/image", data, "image/jpeg")
            statuses.append(status)
            image_id = body["image_id"]
            statuses.append(call(base, "/api/analyze/by-id", json.dumps({"image_id": image_id}).encode(),
                                 "application/json")[0])
            with urllib.request.urlopen(f"{base}/api/images/{image_id}/skin/redness.png", timeout=30) as png:
                statuses.append(png.status if png.read(8) == b"\x89PNG\r\n\x1a\n" else "not a PNG")
            statuses.append(call(base, "/api/analyze/by-id", json.dumps({"image_id": "0" * 32}).encode(),
                                 "application/json")[0])
    assert statuses == [200, 200, 200, 404] * 6
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()  # a 404 prints no traceback


def test_timm_model_under_gunicorn_no_hang_identical_answers(tmp_path, skin_timm, write_spec):
    folder = tmp_path / "skin"
    folder.mkdir()
    for name, content in skin_timm.items():
        (folder / name).write_bytes(content)
    spec = write_spec(f'[models.skin_type]\nruntime = "timm"\nsource = "path:{folder}"\nrole = "analyzer"\n'
                      f'required = true\n')
    with gunicorn(tmp_path, workers=2, env={"ANANACARE_MODELS_FILE": spec}, ready_timeout=180) as base:
        status, body, _ = call(base, "/api/validate/image", encode(photo("astronaut"), "JPEG"), "image/jpeg")
        payload = json.dumps({"image_id": body["image_id"]}).encode()
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: call(base, "/api/analyze/by-id", payload, "application/json",
                                                   timeout=60), range(30)))
    assert [status for status, _, _ in answers] == [200] * 30
    predictions = [json.dumps(body["results"]["models"]["skin_type"], sort_keys=True) for _, body, _ in answers]
    assert len(set(predictions)) == 1
    assert len(_request_pids(tmp_path / "gunicorn.log", "/api/analyze/by-id")) == 2
