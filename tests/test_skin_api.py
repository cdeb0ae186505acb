"""Skin analysis through the API: the same pixels by upload and by id, the skin crop kept and
verified with each entry, old entries without it, heatmaps on the crop."""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from ananacare import load_models
from ananacare.image_cache import FileCropStore
from ananacare.image_cache.redis_store import RedisCropStore
from photos import encode, jpeg, large_selfie, photo
from tenants import entry_paths, stored

CONCERNS = ("wrinkles", "spots", "pores", "texture", "redness", "dark_circles", "shine", "tone")
RESOLUTION_BOUND = ("wrinkles", "spots", "pores", "texture")


@pytest.fixture(scope="module")
def selfie():
    """A 12 MP selfie (the astronaut enlarged): about 2 px/mm in the 1/2 draft decode detection sees,
    about 4 in the skin crop cut again from the full-scale decode."""
    return encode(large_selfie(12), "JPEG", quality=92)


def test_analyze_image_and_by_id_measure_the_same_skin(client, app, selfie):
    direct = client.post("/api/analyze/image", data=selfie, content_type="image/jpeg").get_json()
    skin = direct["results"]["skin"]
    assert set(skin["concerns"]) == set(CONCERNS)
    assert skin["scale"]["method"] == "iris" and 3.5 < skin["scale"]["px_per_mm"] < 5
    assert skin["image"]["source_resolution"] is True and skin["image"]["width"] > 400  # not the 512 crop's pixels
    for name, concern in skin["concerns"].items():
        if concern["available"] is False:  # pores need 4 px/mm: this selfie is at the edge
            assert concern == {"available": False, "reason": "resolution_too_low",
                               "min_px_per_mm": concern["min_px_per_mm"], "px_per_mm": skin["scale"]["px_per_mm"]}
            assert concern["min_px_per_mm"] > skin["scale"]["px_per_mm"]
            continue
        assert 0 <= concern["score"] <= 100 and concern["severity"] in {"none", "mild", "moderate", "severe"}
        assert concern["unit"] and concern["method"] and concern["min_px_per_mm"] <= skin["scale"]["px_per_mm"]
    assert all(skin["concerns"][name]["available"] for name in CONCERNS if name != "pores")
    later = client.post("/api/analyze/by-id", json={"image_id": direct["image_id"]}).get_json()
    assert later["results"]["skin"] == skin
    entry = stored(app, direct["image_id"])
    assert entry.skin is not None and entry.skin.size == (skin["image"]["width"], skin["image"]["height"])
    assert entry.metadata["skin"]["format"] == "webp" and entry.metadata["skin"]["bytes"] > 0


def test_an_entry_without_a_skin_crop_still_analyses_and_says_what_it_lacks(make_app, selfie):
    app = make_app(SKIN_CROP_MAX_SIDE=0)  # as entries stored before the skin crop existed
    load_models(app)
    client = app.test_client()
    image_id = client.post("/api/validate/image", data=selfie, content_type="image/jpeg").get_json()["image_id"]
    assert stored(app, image_id).skin is None and "skin" not in stored(app, image_id).metadata
    skin = client.post("/api/analyze/by-id", json={"image_id": image_id}).get_json()["results"]["skin"]
    assert skin["image"] == {"width": 512, "height": 512, "source_resolution": False}
    for name in RESOLUTION_BOUND:
        assert skin["concerns"][name] == {"available": False, "reason": "source_resolution_not_stored"}, name
    for name in ("redness", "dark_circles", "shine", "tone"):
        assert skin["concerns"][name]["available"] is True, name


def test_a_damaged_skin_crop_is_a_corrupt_entry(app, client):
    image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    _, _, meta_path = entry_paths(app, image_id)
    skin_path = meta_path[:-len(".json")] + ".skin.webp"
    data = bytearray(open(skin_path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(skin_path, "wb").write(bytes(data))
    response = client.post("/api/analyze/by-id", json={"image_id": image_id})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "corrupt_cache_entry"
    assert "skin crop" in response.get_json()["error"]["details"]["reason"]
    assert client.get(f"/api/images/{image_id}").status_code == 404  # removed, with its files
    assert not os.path.exists(skin_path)


@pytest.mark.parametrize("backend", ["filesystem", "redis"])
def test_both_stores_keep_and_verify_the_skin_crop(backend, tmp_path, request):
    if backend == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        store = RedisCropStore(server.url, 60)
    else:
        store = FileCropStore(tmp_path / "crops", 60)
    rng = np.random.default_rng(0)
    crop = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    skin = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))
    metadata = {"settings": {"size": 64, "margin": 0.25}}
    store.put("a" * 32, crop, metadata, skin=skin)
    back = store.get("a" * 32)
    assert np.array_equal(np.asarray(back.skin), np.asarray(skin))  # lossless
    store.put("b" * 32, crop, metadata)
    assert store.get("b" * 32).skin is None
    store.put("a" * 32, crop, metadata)  # stored again without one: no stale skin crop is served
    assert store.get("a" * 32).skin is None
    assert store.delete("a" * 32) and store.delete("b" * 32)
    if backend == "filesystem":
        assert store.stats()["entries"] == 0 and store.stats()["bytes"] == 0


def test_heatmaps_are_drawn_on_the_crop(client, selfie):
    body = client.post("/api/analyze/image", data=selfie, content_type="image/jpeg").get_json()
    image_id, concerns = body["image_id"], body["results"]["skin"]["concerns"]
    crop = Image.open(io.BytesIO(client.get(f"/api/images/{image_id}").data)).convert("RGB")
    for name in CONCERNS:
        response = client.get(f"/api/images/{image_id}/skin/{name}.png")
        assert response.status_code == 200 and response.mimetype == "image/png", name
        assert response.headers["Cache-Control"] == "private, no-store"
        heatmap = Image.open(io.BytesIO(response.data)).convert("RGB")
        assert heatmap.size == crop.size
        available = concerns[name]["available"]
        assert response.headers["X-Skin-Available"] == json.dumps(available), name
        difference = np.abs(np.asarray(heatmap, float) - np.asarray(crop, float))
        if available:
            assert difference.max() > 30 and np.median(difference) < 5, name  # coloured where found, crop elsewhere
        else:
            assert response.headers["X-Skin-Reason"] == concerns[name]["reason"]
            assert np.asarray(heatmap, float).mean() < 0.6 * np.asarray(crop, float).mean()  # dimmed
    unknown = client.get(f"/api/images/{image_id}/skin/acne.png")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_concern"
    assert "wrinkles" in unknown.get_json()["error"]["details"]["concerns"]


def test_the_iris_model_is_optional(make_app, write_spec, selfie):
    from conftest import DEFAULT_SPEC
    spec = DEFAULT_SPEC[:DEFAULT_SPEC.index("[models.iris]")]
    app = make_app(MODELS_FILE=write_spec(spec, with_defaults=False))
    load_models(app)
    skin = app.test_client().post("/api/analyze/image", data=selfie,
                                  content_type="image/jpeg").get_json()["results"]["skin"]
    assert skin["scale"]["method"] == "inter_eye_distance" and skin["scale"]["iris"] == "not_configured"
    assert skin["concerns"]["wrinkles"]["available"] is True


def test_the_skin_profile_asks_for_enough_pixels_per_millimetre(client):
    small = client.post("/api/validate/image?profile=skin", data=jpeg(), content_type="image/jpeg").get_json()
    checks = {check["name"]: check for check in small["checks"]}
    assert small["profile"] == "skin" and small["valid"] is False
    assert checks["px_per_mm"]["passed"] is False and checks["px_per_mm"]["required"] is True
    assert 0.5 < checks["px_per_mm"]["value"] < 1.0 and checks["px_per_mm"]["threshold"] == 2.0
    head = photo("astronaut").crop((75, 0, 375, 225)).resize((4000, 3000), Image.Resampling.BICUBIC)
    close = client.post("/api/analyze/image?profile=skin", data=encode(head, "JPEG", quality=92),
                        content_type="image/jpeg").get_json()
    checks = {check["name"]: check for check in close["validation"]["checks"]}
    assert checks["px_per_mm"]["passed"] is True
    measured = close["results"]["skin"]["scale"]["px_per_mm"]  # the iris agrees with the check's estimate
    assert checks["px_per_mm"]["value"] == pytest.approx(measured, rel=0.15)
    normal = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()
    assert {c["name"]: c for c in normal["checks"]}["px_per_mm"]["required"] is False  # reported, not needed


def test_a_grey_photo_measures_relief_and_shine_but_no_colour(client):
    head = photo("astronaut").crop((75, 0, 375, 225)).resize((1600, 1200), Image.Resampling.BICUBIC)
    grey = encode(head.convert("L").convert("RGB"), "JPEG", quality=92)
    skin = client.post("/api/analyze/image", data=grey, content_type="image/jpeg").get_json()["results"]["skin"]
    assert skin["available"] is False and skin["reason"] == "no_colour"
    for name in ("redness", "dark_circles", "tone"):
        assert skin["concerns"][name] == {"available": False, "reason": "no_colour"}, name
    for name in ("wrinkles", "spots", "texture", "shine"):  # relief and highlights need no colour
        assert skin["concerns"][name]["available"] is True, (name, skin["concerns"][name])
    forehead = skin["coverage"]["forehead"]
    assert forehead["coverage"] < 0.6, forehead  # her bangs are darker than her skin, colour or not
