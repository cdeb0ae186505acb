"""Faults: a worker killed mid-write, Redis going away and back, a full or unwritable crop store,
and a model file replaced under a running service."""
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import ImageEnhance

from ananacare import load_models
from ananacare.image_cache.quota import FileLedger
from ananacare.image_cache import FileCropStore
from ananacare.image_cache.base import entry_key
from ananacare.tenancy import TenantDirectory
from photos import encode, jpeg, photo
from redis_server import RedisServer
from server import ROOT, call, gunicorn
from test_model_files import LANDMARK_FILE, LFS_POINTER, SPEC_TEMPLATE


def _uploads(count):
    base = photo("astronaut")
    return [encode(ImageEnhance.Contrast(base).enhance(0.7 + 0.6 * i / count), "JPEG", quality=88)
            for i in range(count)]


def test_worker_killed_mid_write_never_leaves_a_partial_crop(tmp_path):
    uploads = _uploads(60)
    with gunicorn(tmp_path, workers=2) as base:
        deadline = time.monotonic() + 30
        while len(base.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        victim = base.worker_pids()[0]

        def upload(data):
            try:
                return call(base, "/api/validate/image", data, "image/jpeg", timeout=30)
            except (OSError, http.client.HTTPException) as error:  # the killed worker's connections drop
                # (refused, reset, or cut mid-response: IncompleteRead): the client sees that
                return None, str(error), None

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(upload, data) for data in uploads]
            time.sleep(0.6)
            os.kill(victim, signal.SIGKILL)
            answers = [future.result() for future in futures]
        served = [body["image_id"] for status, body, _ in answers if status == 200]
        assert len(served) >= len(uploads) // 2, answers
        # every id the service handed out is retrievable, from whichever worker
        for image_id in served:
            status, body, _ = call(base, "/api/analyze/by-id", json.dumps({"image_id": image_id}).encode(),
                                   "application/json")
            assert status == 200, body
        deadline = time.monotonic() + 30  # gunicorn replaces the killed worker, which loads its models
        while len(base.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert call(base, "/readyz")[0] == 200
    # no committed entry in the store is partial: each one verifies (checksum, square, size)
    store = FileCropStore(tmp_path / "crops", ttl_seconds=3600)
    committed = [key for key, _ in store._entries()]
    namespace = TenantDirectory("", "").anonymous.namespace  # the open-mode tenant the server used
    assert {entry_key(image_id, namespace) for image_id in served} <= set(committed)
    for key in committed:
        assert store.get(key).image.size == (512, 512)


def test_redis_down_mid_run_gives_503_then_recovers(make_app, tmp_path):
    server = RedisServer(tmp_path).start()
    app = make_app(CACHE_URL=server.url)
    load_models(app)
    client = app.test_client()
    first = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    server.stop()
    down = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg")
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "cache_unavailable"
    by_id = client.post("/api/analyze/by-id", json={"image_id": first})
    assert by_id.status_code == 503
    assert client.get("/healthz").status_code == 200
    server.start()  # back, empty (no persistence)
    again = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg")
    assert again.status_code == 200
    assert client.post("/api/analyze/by-id", json={"image_id": again.get_json()["image_id"]}).status_code == 200
    server.stop()


FULL_OR_UNWRITABLE = """
import json, resource, signal, sys, tempfile
sys.path[:0] = [{root!r}, {tests!r}]
from ananacare import create_app, load_models
from photos import jpeg
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
app = create_app({{"TESTING": True, "CACHE_DIR": sys.argv[1]}})
load_models(app)
data = jpeg()
if sys.argv[2] == "full":
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # a crop file needs ~786 kB
response = app.test_client().post("/api/validate/image", data=data, content_type="image/jpeg")
print(json.dumps({{"status": response.status_code, "body": response.get_json()}}))
"""


def _store_failure(tmp_path, cache_dir, mode):
    script = FULL_OR_UNWRITABLE.format(root=str(ROOT), tests=str(ROOT / "tests"))
    result = subprocess.run([sys.executable, "-c", script, str(cache_dir), mode], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "log": result.stderr}


def test_full_crop_store_is_a_clear_503(tmp_path):
    answer = _store_failure(tmp_path, tmp_path / "crops", "full")
    assert answer["status"] == 503 and answer["body"]["error"]["code"] == "cache_unavailable"
    assert answer["body"]["error"]["details"] == {"backend": "filesystem"}  # no paths or OS words for clients
    assert "File too large" in answer["log"]  # they go to the operator's log
    leftovers = [name for _, _, names in os.walk(tmp_path / "crops") for name in names
                 if name != FileLedger.NAME]  # the store's byte totals (image_cache.quota) hold no crop data
    assert leftovers == []  # the failed temporary file was removed


def test_unwritable_crop_store_is_a_clear_503(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    answer = _store_failure(tmp_path, blocker / "crops", "unwritable")
    assert answer["status"] == 503 and answer["body"]["error"]["code"] == "cache_unavailable"


def test_model_file_replaced_while_serving(make_app, tmp_path):
    landmarks = tmp_path / "face_landmark.tflite"
    landmarks.write_bytes(LANDMARK_FILE.read_bytes())
    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=landmarks))
    app = make_app(MODELS_FILE=str(spec))
    load_models(app)
    client = app.test_client()
    assert client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").status_code == 200

    landmarks.write_bytes(LFS_POINTER)  # a bad deploy overwrites the file under the running worker
    # the loaded model keeps serving: nothing re-reads the file mid-flight
    assert client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").status_code == 200
    verify = app.test_cli_runner().invoke(args=["models", "verify", "--json"])
    assert verify.exit_code == 1
    rows = {row["name"]: row for row in json.loads(verify.output)}
    assert rows["face_landmarks"]["file"]["verdict"] == "git-lfs-pointer"
    # a worker started now (a restart) refuses it and says why
    fresh = make_app(MODELS_FILE=str(spec))
    load_models(fresh)
    ready = fresh.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["reasons"][0]["verdict"] == "git-lfs-pointer"


def test_analyze_image_stores_beside_the_analysis_and_answers_only_once_stored(make_app, tmp_path):
    """analyze/image stores its crops on another thread while it analyses them: a store failure is
    still the answer (503), and a success is readable by id the moment the answer arrives."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    broken = make_app(CACHE_DIR=str(blocker / "crops"))
    load_models(broken)
    answer = broken.test_client().post("/api/analyze/image", data=jpeg(), content_type="image/jpeg")
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "cache_unavailable"
    working = make_app()
    load_models(working)
    client = working.test_client()
    for quality in (80, 85, 90):
        data = encode(photo("astronaut"), "JPEG", quality=quality)
        image_id = client.post("/api/analyze/image", data=data, content_type="image/jpeg").get_json()["image_id"]
        assert client.get(f"/api/images/{image_id}").status_code == 200
