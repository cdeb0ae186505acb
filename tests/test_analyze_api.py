"""POST /api/analyze/image and /api/analyze/by-id: landmarks and measurements on the crop."""
import json

import numpy as np

import pytest

from photos import jpeg
from tenants import entry_paths, stored as stored_crop


def _validate(client, name="astronaut"):
    return client.post("/api/validate/image", data=jpeg(name), content_type="image/jpeg").get_json()


def _by_id(client, payload):
    return client.post("/api/analyze/by-id", json=payload)


def test_by_id_gives_468_landmarks_on_the_crop(client):
    image_id = _validate(client)["image_id"]
    response = _by_id(client, {"image_id": image_id})
    assert response.status_code == 200
    body = response.get_json()
    landmarks = body["results"]["landmarks"]
    assert body["image_id"] == image_id and landmarks["count"] == 468 and len(landmarks["points"]) == 468
    assert landmarks["face_flag"] > 0.9
    xs = [p[0] for p in landmarks["points"]]
    ys = [p[1] for p in landmarks["points"]]
    # the mesh covers the centre of the 512 crop (face = 1 / 1.5 of it)
    assert 60 < min(xs) < 200 and 312 < max(xs) < 460 and 40 < min(ys) < 200 and 312 < max(ys) < 480
    measurements = body["results"]["measurements"]
    assert 40 < measurements["crop_mean_luminance"] < 220 and measurements["crop_sharpness"] > 0


def test_analyze_image_equals_validate_then_by_id(client):
    direct = client.post("/api/analyze/image", data=jpeg(), content_type="image/jpeg").get_json()
    later = _by_id(client, {"image_id": direct["image_id"]}).get_json()
    assert direct["validation"]["valid"] is True
    assert direct["results"]["landmarks"]["points"] == later["results"]["landmarks"]["points"]
    assert direct["results"]["measurements"] == later["results"]["measurements"]


def test_analyze_without_a_face_is_422(client):
    response = client.post("/api/analyze/image", data=jpeg("rocket"), content_type="image/jpeg")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "no_face_detected" and error["details"]["checks"][0]["name"] == "face_detected"


@pytest.mark.parametrize("image_id", ["../../etc/passwd", "A" * 32, "a" * 31, "a" * 33, 12345, None, ["a" * 32],
                                      "g" * 32, "a" * 31 + "\n"])
def test_malformed_ids_are_400(client, image_id):
    response = _by_id(client, {"image_id": image_id})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_image_id"


def test_unknown_id_is_404(client):
    response = _by_id(client, {"image_id": "0123456789abcdef0123456789abcdef"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "image_not_found"


@pytest.mark.parametrize("body, content_type", [("{not json", "application/json"), ("", "application/json"),
                                                ('{"image_id": "x"}', "text/plain")])
def test_invalid_json_is_400(client, body, content_type):
    response = client.post("/api/analyze/by-id", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("payload", [[], "a" * 32, {"id": "a" * 32}])
def test_json_without_image_id_is_400(client, payload):
    response = client.post("/api/analyze/by-id", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_corrupt_entry_is_422_and_removed(client, app):
    image_id = _validate(client)["image_id"]
    crop_path = entry_paths(app, image_id)[1]
    with open(crop_path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage\x00")
    first = _by_id(client, {"image_id": image_id})
    assert first.status_code == 422
    assert first.get_json()["error"]["code"] == "corrupt_cache_entry"
    again = _by_id(client, {"image_id": image_id})
    assert again.status_code == 404


def test_stored_landmarks_match_a_fresh_mesh_run_on_the_crop(client, app):
    from ananacare.preprocess.landmarks import Mesh, run_mesh

    image_id = _validate(client)["image_id"]
    stored = stored_crop(app, image_id)
    kept = Mesh.from_dict(stored.metadata["landmarks"])
    fresh = run_mesh(stored.image, stored.metadata["settings"]["margin"], app.extensions["ananacare"]["models"],
                     "face_landmarks")
    assert np.abs(kept.points[:, :2] - fresh.points[:, :2]).mean() < 1.5  # pixels of a 512 crop
    assert abs(kept.face_flag - fresh.face_flag) < 0.05


@pytest.mark.parametrize("path", ["by-id", "heatmap", "png", "overlay"])
def test_stored_crops_are_read_only_once_the_pipeline_admits_the_request(app, client, path):
    # under overload dozens of requests wait for a worker's pipeline: a crop decoded before the wait
    # is held through it (make load: a worker's RSS 172 -> 237 MB), so the read waits for admission
    image_id = _validate(client)["image_id"]
    pipelines, store = app.extensions["ananacare"]["pipelines"], app.extensions["ananacare"]["crops"]
    reads = []
    original = store.get

    def get(*args, **kwargs):
        reads.append(pipelines.admitted_now)
        return original(*args, **kwargs)
    store.get = get
    try:
        response = {"by-id": lambda: _by_id(client, {"image_id": image_id}),
                    "heatmap": lambda: client.get(f"/api/images/{image_id}/skin/spots.png"),
                    "png": lambda: client.get(f"/api/images/{image_id}"),
                    "overlay": lambda: client.get(f"/api/images/{image_id}/overlay.png")}[path]()
    finally:
        del store.get
    assert response.status_code == 200 and reads == [1] and pipelines.admitted_now == 0
    missing = _by_id(client, {"image_id": "0" * 32})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "image_not_found"
    assert pipelines.admitted_now == 0  # a refused read gives its place back
