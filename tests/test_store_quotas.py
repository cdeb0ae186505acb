"""Store quotas: a tenant at its quota gets 429 and stores nothing, the other tenants are untouched,
deleting frees room, and a sweep recounts the totals from the entries; both stores alike."""
import pytest

from ananacare.errors import ApiError
from ananacare.image_cache import FileCropStore
from ananacare.image_cache.quota import Quota
from ananacare.image_cache.redis_store import RedisCropStore
from photos import jpeg, large_selfie, encode
from test_crop_stores import _crop, image_id

SETTINGS = {"settings": {"size": 64, "margin": 0.25}}
ENTRY = 64 * 64 * 3  # an uncompressed 64 px crop's pixels; the entry is a little more


@pytest.fixture(params=["filesystem", "redis"])
def make_store(request, tmp_path):
    def build(quota):
        if request.param == "redis":
            server = request.getfixturevalue("redis_server")
            server.flush()
            return RedisCropStore(server.url, 60, quota=quota)
        return FileCropStore(tmp_path / "crops", 60, quota=quota)
    return build


def _put(store, n, tenant, seed=None):
    return store.put(image_id(n), _crop(n if seed is None else seed), {**SETTINGS, "tenant": tenant}, tenant)


def test_a_tenant_at_its_quota_gets_429_and_the_other_tenant_does_not(make_store):
    store = make_store(Quota(store_max_bytes=0, tenant_max_bytes=int(ENTRY * 2.5)))
    _put(store, 1, "a")
    _put(store, 2, "a")
    with pytest.raises(ApiError) as refused:
        _put(store, 3, "a")
    assert refused.value.status == 429 and refused.value.code == "store_quota_exceeded"
    assert refused.value.details["scope"] == "tenant" and refused.value.details["setting"] == "TENANT_MAX_BYTES"
    with pytest.raises(ApiError):
        store.get(image_id(3), "a")  # nothing stored
    for n in (4, 5):
        _put(store, n, "b")  # the other tenant has its own quota
    assert store.get(image_id(1), "a").image.size == (64, 64)  # nothing of a's was evicted


def test_a_re_upload_replaces_its_own_bytes_and_deleting_frees_room(make_store):
    store = make_store(Quota(tenant_max_bytes=int(ENTRY * 2.5)))
    _put(store, 1, "a")
    _put(store, 2, "a")
    _put(store, 2, "a", seed=9)  # the same id again: no new bytes
    assert store.delete(image_id(1), "a")
    _put(store, 3, "a")


def test_the_store_quota_holds_across_tenants(make_store):
    store = make_store(Quota(store_max_bytes=int(ENTRY * 2.5), tenant_max_bytes=ENTRY * 10))
    _put(store, 1, "a")
    _put(store, 2, "b")
    with pytest.raises(ApiError) as refused:
        _put(store, 3, "c")
    assert refused.value.status == 429 and refused.value.details["scope"] == "store"


def test_a_sweep_recounts_what_expired_or_vanished(make_store):
    store = make_store(Quota(tenant_max_bytes=int(ENTRY * 2.5)))
    _put(store, 1, "a")
    _put(store, 2, "a")
    store.prune(now=10 ** 12)  # everything is long expired
    _put(store, 3, "a")
    _put(store, 4, "a")


def test_equal_shares_by_default():
    assert Quota.from_config({"STORE_MAX_BYTES": 900, "TENANT_MAX_BYTES": 0}, tenants=3) == Quota(900, 300)
    assert Quota.from_config({"STORE_MAX_BYTES": 900, "TENANT_MAX_BYTES": 500}, tenants=3) == Quota(900, 500)


def test_over_http_a_full_tenant_gets_429_and_the_other_keeps_uploading(make_app):
    from ananacare import load_models

    app = make_app(API_KEYS="app:key-a,web:key-b", SECRET_KEY="s" * 32, STORE_MAX_BYTES=0,
                   TENANT_MAX_BYTES=2_000_000)  # the three entries take about 2.6 MB
    load_models(app)
    client = app.test_client()
    photos = [jpeg(), encode(large_selfie(1)), encode(large_selfie(2))]

    def upload(key, data):
        return client.post("/api/validate/image", data=data, content_type="image/jpeg", headers={"X-API-Key": key})

    answers = [upload("key-a", data) for data in photos]
    assert answers[0].status_code == 200
    refused = [answer for answer in answers if answer.status_code != 200]
    assert refused and {answer.status_code for answer in refused} == {429}
    assert refused[0].get_json()["error"]["code"] == "store_quota_exceeded"
    assert upload("key-b", photos[1]).status_code == 200  # the other tenant is untouched
    kept = answers[0].get_json()["image_id"]
    assert client.post("/api/analyze/by-id", json={"image_id": kept}, headers={"X-API-Key": "key-a"}).status_code == 200


def test_an_entry_counts_the_bytes_it_takes_on_disk(tmp_path):
    store = FileCropStore(tmp_path / "crops", 60)
    stored = store.put(image_id(1), _crop(1), {**SETTINGS, "tenant": "a"}, "a", skin=_crop(2, 96))
    files = [path for path in (tmp_path / "crops").rglob("*") if path.is_file() and not path.name.startswith(".")]
    assert stored["stored_bytes"] == sum(path.stat().st_size for path in files) and len(files) == 3
