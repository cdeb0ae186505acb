"""One contract, both crop stores: the filesystem and a real Redis behave the same to a client."""
import time

import numpy as np
import pytest
from PIL import Image

from ananacare.errors import ApiError
from ananacare.image_cache import FileCropStore
from ananacare.image_cache.redis_store import RedisCropStore, redact

SETTINGS = {"settings": {"size": 64, "margin": 0.25}}


def image_id(n):
    return f"{n:032x}"


@pytest.fixture(params=["filesystem", "redis"])
def make_store(request, tmp_path):
    def build(ttl_seconds=60, max_entries=None):
        if request.param == "redis":
            server = request.getfixturevalue("redis_server")
            server.flush()
            return RedisCropStore(server.url, ttl_seconds, max_entries)
        return FileCropStore(tmp_path / "crops", ttl_seconds, max_entries)
    return build


def _crop(seed=0, size=64):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))


def _error(call):
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_round_trip_is_lossless(make_store):
    store = make_store()
    crop = _crop()
    stored = store.put(image_id(1), crop, SETTINGS)
    back = store.get(image_id(1))
    assert np.array_equal(np.asarray(back.image), np.asarray(crop))
    assert back.metadata["sha256"] == stored["sha256"] and back.metadata["settings"] == SETTINGS["settings"]


def test_unknown_id_is_404_and_bad_id_is_400(make_store):
    store = make_store()
    assert _error(lambda: store.get(image_id(7))).status == 404
    assert _error(lambda: store.get("../../etc/passwd")).code == "invalid_image_id"
    assert _error(lambda: store.delete("nope")).code == "invalid_image_id"


def test_delete_removes_the_crop(make_store):
    store = make_store()
    store.put(image_id(2), _crop(), SETTINGS)
    assert store.delete(image_id(2)) is True
    assert store.delete(image_id(2)) is False
    assert _error(lambda: store.get(image_id(2))).status == 404


def test_entries_expire(make_store):
    store = make_store(ttl_seconds=1)
    store.put(image_id(3), _crop(), SETTINGS)
    store.get(image_id(3))
    time.sleep(1.3)
    error = _error(lambda: store.get(image_id(3)))
    assert error.status == 404 and error.code == "image_not_found"


def test_size_bound_evicts_the_oldest(make_store):
    store = make_store(max_entries=3)
    for n in range(6):
        store.put(image_id(100 + n), _crop(n), SETTINGS)
        time.sleep(0.01)  # distinct creation times
    store.prune()
    kept = []
    for n in range(6):
        try:
            store.get(image_id(100 + n))
            kept.append(n)
        except ApiError:
            pass
    assert kept == [3, 4, 5]


def test_same_id_overwrites(make_store):
    store = make_store()
    store.put(image_id(4), _crop(1), SETTINGS)
    store.put(image_id(4), _crop(2), SETTINGS)
    assert np.array_equal(np.asarray(store.get(image_id(4)).image), np.asarray(_crop(2)))


def test_wrong_size_crop_is_refused_as_corrupt(make_store):
    store = make_store()
    store.put(image_id(5), _crop(size=32), SETTINGS)  # metadata says 64
    error = _error(lambda: store.get(image_id(5)))
    assert error.status == 422 and error.code == "corrupt_cache_entry"
    assert _error(lambda: store.get(image_id(5))).status == 404  # removed


def test_stats_count_entries(make_store):
    store = make_store()
    for n in range(3):
        store.put(image_id(200 + n), _crop(n), SETTINGS)
    stats = store.stats()
    assert stats["entries"] == 3 and stats["backend"] in ("filesystem", "redis")


def test_redis_down_is_503_and_recovers(tmp_path):
    from redis_server import RedisServer

    server = RedisServer(tmp_path).start()
    store = RedisCropStore(server.url, 60)
    store.put(image_id(9), _crop(), SETTINGS)
    server.stop()
    error = _error(lambda: store.put(image_id(10), _crop(), SETTINGS))
    assert error.status == 503 and error.code == "cache_unavailable"
    assert _error(lambda: store.get(image_id(9))).status == 503
    assert store.stats()["reachable"] is False
    server.start()  # same port, empty (no persistence): the store reconnects by itself
    store.put(image_id(10), _crop(), SETTINGS)
    assert store.get(image_id(10)).metadata["image_id"] == image_id(10)
    server.stop()


def test_redis_url_password_is_redacted():
    assert redact("redis://default:s3cret@redis.railway.internal:6379/0") == \
        "redis://default:***@redis.railway.internal:6379/0"
    assert redact("redis://localhost:6379") == "redis://localhost:6379"
