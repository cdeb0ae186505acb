"""Retention and the crop store's edge cases: crops go after their TTL without a read, orphans are
swept, a concurrent DELETE is a 404, and I/O errors are 503s that keep the data."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image

from ananacare.errors import ApiError
from ananacare.image_cache.quota import FileLedger
from ananacare.image_cache import FileCropStore
from ananacare.image_cache.redis_store import RedisCropStore
from ananacare.image_cache.retention import Sweeper
from photos import jpeg
from server import ROOT
from tenants import entry_paths

SETTINGS = {"settings": {"size": 64, "margin": 0.25}}
IMAGE_ID = "0123456789abcdef0123456789abcdef"


def _crop():
    return Image.new("RGB", (64, 64), (10, 200, 30))


def _code(call):
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status, caught.value.code


def _files(root):
    """The store's crop files: not its bookkeeping (the sweep lock, the byte totals)."""
    return sorted(name for _, _, names in os.walk(root) for name in names
                  if not name.startswith(".sweep") and name != FileLedger.NAME)


def test_sweep_deletes_expired_crops_without_a_read(tmp_path):
    store = FileCropStore(tmp_path / "crops", ttl_seconds=1)
    store.put(IMAGE_ID, _crop(), SETTINGS)
    assert len(_files(store.root)) == 2
    time.sleep(1.2)
    assert store.sweep_if_due(interval=1) == 1
    assert _files(store.root) == []


def test_one_sweep_per_interval_across_processes_sharing_the_folder(tmp_path):
    first, second = FileCropStore(tmp_path / "crops", 60), FileCropStore(tmp_path / "crops", 60)
    assert first.sweep_if_due(interval=30) == 0
    assert second.sweep_if_due(interval=30) is None  # swept moments ago by the other
    assert second.sweep_if_due(interval=30, now=time.time() + 31) == 0


def test_sweeper_thread_sweeps_at_start_and_survives_errors(tmp_path):
    store = FileCropStore(tmp_path / "crops", ttl_seconds=1)
    store.put(IMAGE_ID, _crop(), SETTINGS)
    time.sleep(1.1)
    sweeper = Sweeper(store, interval=0.2).start()
    try:
        deadline = time.monotonic() + 5
        while _files(store.root) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _files(store.root) == []
        store.root = str(tmp_path / "missing" / "\0bad")  # every sweep now fails; the thread must go on
        time.sleep(0.5)
        assert sweeper._thread.is_alive()
    finally:
        sweeper.stop()


def test_orphaned_crop_is_swept_and_counted(tmp_path):
    store = FileCropStore(tmp_path / "crops", ttl_seconds=60)
    store.put(IMAGE_ID, _crop(), SETTINGS)
    _, crop_path, meta_path = store._paths(IMAGE_ID)
    os.remove(meta_path)  # as if the metadata write had failed (disk full)
    assert store.stats()["orphans"] == 1
    assert store.prune() == 0  # a put in progress looks the same for a moment: a grace period
    old = time.time() - 3600
    os.utime(crop_path, (old, old))
    assert store.prune() == 1 and _files(store.root) == [] and store.stats()["orphans"] == 0


def test_redis_index_keeps_no_expired_ids(redis_server):
    redis_server.flush()
    store = RedisCropStore(redis_server.url, ttl_seconds=1)
    store.put(IMAGE_ID, _crop(), SETTINGS)
    assert store.stats()["entries"] == 1
    time.sleep(1.3)
    assert store.sweep_if_due(interval=1) == 1
    assert store.stats()["entries"] == 0
    assert store.sweep_if_due(interval=60) is None  # another sweep was elected moments ago


def test_delete_racing_by_id_is_never_a_corrupt_entry(client, app):
    codes = []
    for _ in range(60):
        image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
        results = {}

        def analyse():
            results["by-id"] = client.post("/api/analyze/by-id", json={"image_id": image_id}).status_code

        thread = threading.Thread(target=analyse)
        thread.start()
        results["delete"] = app.test_client().delete(f"/api/images/{image_id}").status_code
        thread.join()
        codes.append(results["by-id"])
    assert set(codes) <= {200, 404}, codes


def test_crop_folder_replaced_by_a_file_is_503_everywhere(make_app, tmp_path):
    from ananacare import load_models

    app = make_app(CACHE_DIR=str(tmp_path / "crops"))
    load_models(app)
    client = app.test_client()
    image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    os.rename(tmp_path / "crops", tmp_path / "crops-moved")
    (tmp_path / "crops").write_text("not a folder")
    answers = [client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg"),
               client.post("/api/analyze/by-id", json={"image_id": image_id}),
               client.get(f"/api/images/{image_id}"),
               client.delete(f"/api/images/{image_id}")]
    for answer in answers:
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "cache_unavailable"


TRANSIENT_READ_ERROR = """
import json, resource, sys
sys.path[:0] = [{root!r}, {tests!r}]
from ananacare.errors import ApiError
from ananacare.image_cache import FileCropStore
from PIL import Image
store = FileCropStore(sys.argv[1], 60)
store.put("0123456789abcdef0123456789abcdef", Image.new("RGB", (64, 64)),
          {{"settings": {{"size": 64, "margin": 0.25}}}})
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
held = []
try:
    while True:
        held.append(open("/dev/null"))
except OSError:
    pass
try:
    store.get("0123456789abcdef0123456789abcdef")
    during = 200
except ApiError as error:
    during = error.status
for handle in held:
    handle.close()
after = store.get("0123456789abcdef0123456789abcdef").image.size
print(json.dumps({{"during": during, "after": list(after)}}))
"""


def _answer_of(script, folder, timeout=120):
    """Run a script template in a fresh Python with a crop folder argument; its last line as JSON."""
    source = script.format(root=str(ROOT), tests=str(ROOT / "tests"))
    result = subprocess.run([sys.executable, "-c", source, str(folder)], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_transient_read_error_is_503_and_keeps_the_crop(tmp_path):
    answer = _answer_of(TRANSIENT_READ_ERROR, tmp_path / "crops")
    assert answer == {"during": 503, "after": [64, 64]}  # EMFILE is not corruption: nothing deleted


def test_entry_paths_helper_finds_the_anonymous_tenants_files(client, app):
    image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    _, crop_path, meta_path = entry_paths(app, image_id)
    assert os.path.exists(crop_path) and json.loads(open(meta_path).read())["image_id"] == image_id


@pytest.mark.parametrize("backend", ["filesystem", "redis"])
def test_a_lowered_ttl_applies_to_crops_stored_before(tmp_path, request, backend):
    def store_with(ttl):
        if backend == "redis":
            return RedisCropStore(request.getfixturevalue("redis_server").url, ttl_seconds=ttl)
        return FileCropStore(tmp_path / "crops", ttl_seconds=ttl)

    if backend == "redis":
        request.getfixturevalue("redis_server").flush()
    store_with(3600).put(IMAGE_ID, _crop(), SETTINGS)
    shorter = store_with(1)
    time.sleep(1.2)
    assert _code(lambda: shorter.get(IMAGE_ID)) == (404, "image_not_found")
    store_with(3600).put(IMAGE_ID, _crop(), SETTINGS)
    time.sleep(1.2)
    assert shorter.prune() == 1
    assert _code(lambda: store_with(3600).get(IMAGE_ID))[0] == 404  # gone from the store, not only refused


def test_sweep_under_gevent_runs_off_the_event_loop(tmp_path):
    answer = _answer_of(GEVENT_SWEEP, tmp_path / "crops")
    assert answer["removed"] == 3000 and answer["longest_tick_gap_ms"] < 80, answer  # in the loop: ~160 ms


GEVENT_SWEEP = """
from gevent import monkey
monkey.patch_all()
import json, os, sys, time
sys.path[:0] = [{root!r}, {tests!r}]
import gevent
from PIL import Image
from ananacare.image_cache import FileCropStore
store = FileCropStore(sys.argv[1], 3600)
crop = Image.new("RGB", (64, 64))
for n in range(3000):
    store.put(f"{{n:032x}}", crop, {{"settings": {{"size": 64, "margin": 0.25}}, "filler": "x" * 20000}})
gaps, last, running = [], [time.monotonic()], [True]
def ticker():
    while running[0]:
        gevent.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now
tick = gevent.spawn(ticker)
gevent.sleep(0.05)
removed = store.prune(now=time.time() + 7200)
running[0] = False
tick.join()
print(json.dumps({{"removed": removed, "longest_tick_gap_ms": round(max(gaps) * 1000, 1)}}))
"""
