"""The filesystem crop store's own guarantees (the shared contract is in test_crop_stores.py)."""
import hashlib
import json
import os

import pytest
from PIL import Image

from ananacare.errors import ApiError
from ananacare.image_cache import CROP_SUFFIX, FileCropStore, check_image_id, encode_crop

IMAGE_ID = "0123456789abcdef0123456789abcdef"
SETTINGS = {"settings": {"size": 64, "margin": 0.25}}


@pytest.fixture
def store(tmp_path):
    return FileCropStore(tmp_path / "crops", ttl_seconds=60)


def _crop(size=64, colour=(10, 200, 30)):
    return Image.new("RGB", (size, size), colour)


def _code(call):
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status, caught.value.code


def test_put_leaves_exactly_two_files(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    folder = os.path.join(store.root, IMAGE_ID[:2])
    assert sorted(os.listdir(folder)) == [IMAGE_ID + ".json", IMAGE_ID + CROP_SUFFIX]  # no temp files left


def test_stored_crop_has_no_exif(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    image = Image.open(os.path.join(store.root, IMAGE_ID[:2], IMAGE_ID + CROP_SUFFIX))
    tags = image.getexif()  # a TIFF's own structure tags, but no EXIF block or orientation
    assert 0x8769 not in tags and 0x0112 not in tags and 0x8825 not in tags and "exif" not in image.info


@pytest.mark.parametrize("bad", ["../../etc/passwd", "..", "", "A" * 32, "0" * 64, None, "0" * 31 + "/"])
def test_malformed_ids_never_reach_the_filesystem(store, bad):
    assert _code(lambda: check_image_id(bad)) == (400, "invalid_image_id")
    assert _code(lambda: store.get(bad)) == (400, "invalid_image_id")
    assert not os.path.exists(store.root)


def test_non_square_crop_with_a_valid_checksum_is_corrupt(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    _, crop_path, meta_path = store._paths(IMAGE_ID)
    wide = encode_crop(Image.new("RGB", (64, 32)))
    with open(crop_path, "wb") as handle:
        handle.write(wide)
    metadata = json.loads(open(meta_path).read()) | {"sha256": hashlib.sha256(wide).hexdigest()}
    with open(meta_path, "w") as handle:
        json.dump(metadata, handle)
    assert _code(lambda: store.get(IMAGE_ID)) == (422, "corrupt_cache_entry")
    assert not os.path.exists(crop_path) and not os.path.exists(meta_path)


def test_garbled_metadata_is_corrupt(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    with open(store._paths(IMAGE_ID)[2], "w") as handle:
        handle.write("{half a json")
    assert _code(lambda: store.get(IMAGE_ID)) == (422, "corrupt_cache_entry")


def test_crop_without_metadata_is_not_served(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    os.remove(store._paths(IMAGE_ID)[2])  # as if the writer died between the two renames
    assert _code(lambda: store.get(IMAGE_ID)) == (404, "image_not_found")


def test_store_on_a_file_path_is_503(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    store = FileCropStore(blocker, 60)
    assert _code(lambda: store.put(IMAGE_ID, _crop(), SETTINGS)) == (503, "cache_unavailable")


def test_metadata_without_settings_is_corrupt_not_a_crash(store):
    store.put(IMAGE_ID, _crop(), SETTINGS)
    meta_path = store._paths(IMAGE_ID)[2]
    metadata = json.loads(open(meta_path).read())
    del metadata["settings"]
    with open(meta_path, "w") as handle:
        json.dump(metadata, handle)
    assert _code(lambda: store.get(IMAGE_ID)) == (422, "corrupt_cache_entry")


def test_size_bound_is_kept_by_puts_off_the_request_thread(tmp_path, monkeypatch):
    from ananacare.image_cache import filesystem

    monkeypatch.setattr(filesystem, "_EVICTION_EVERY", 4)
    store = FileCropStore(tmp_path / "crops", ttl_seconds=60, max_entries=3)
    for batch in range(2):
        for n in range(4):  # the 4th put of a batch starts an eviction on another thread
            store.put(f"{batch * 4 + n:032x}", _crop(), SETTINGS)
        assert store._evicting.acquire(timeout=20)  # wait until that eviction is done
        store._evicting.release()
        assert store.stats()["entries"] == 3
