"""What operators and clients see around the API: images, metrics, timings, keys, CORS, headers."""
import io
import json
import logging
import sys

import pytest
from PIL import Image

from photos import jpeg


def _validate(client, **headers):
    return client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg", headers=headers)


def test_get_image_is_the_square_crop_as_png(client):
    image_id = _validate(client).get_json()["image_id"]
    response = client.get(f"/api/images/{image_id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    crop = Image.open(io.BytesIO(response.data))
    assert crop.size == (512, 512) and crop.format == "PNG"
    assert "no-store" in response.headers["Cache-Control"]


def test_delete_image_erases_it(client):
    image_id = _validate(client).get_json()["image_id"]
    assert client.delete(f"/api/images/{image_id}").status_code == 204
    assert client.get(f"/api/images/{image_id}").status_code == 404
    assert client.post("/api/analyze/by-id", json={"image_id": image_id}).status_code == 404
    again = client.delete(f"/api/images/{image_id}")
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "image_not_found"
    assert client.get("/api/images/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert client.get("/api/images/XYZ").get_json()["error"]["code"] == "invalid_image_id"


def test_server_timing_and_metrics(client):
    response = _validate(client)
    timing = response.headers["Server-Timing"]
    for stage in ("decode", "detect", "crop", "store", "total"):
        assert f"{stage};dur=" in timing
    image_id = response.get_json()["image_id"]
    client.post("/api/analyze/by-id", json={"image_id": image_id})
    client.post("/api/analyze/by-id", json={"image_id": "f" * 32})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'ananacare_request_seconds_count{endpoint="/api/validate/image",method="POST",status="200"} 1.0' in text
    assert 'ananacare_inference_seconds_count{model="face_landmarks"}' in text
    assert 'ananacare_crop_store_lookups_total{backend="filesystem",result="hit"} 1.0' in text
    assert 'ananacare_crop_store_lookups_total{backend="filesystem",result="miss"} 1.0' in text


def test_model_load_failures_are_counted(make_app, tmp_path):
    from ananacare import load_models
    from test_model_files import SPEC_TEMPLATE, _write_broken

    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=_write_broken("html", tmp_path)))
    app = make_app(MODELS_FILE=str(spec))
    load_models(app)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'ananacare_model_load_failures_total{model="face_landmarks",stage="inspect"} 1.0' in text


def test_access_log_is_json_with_request_id(client):
    logger = logging.getLogger("ananacare")
    handler = next(h for h in logger.handlers if getattr(h, "_ananacare", False))
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        _validate(client, **{"X-Request-ID": "trace-42"})
    finally:
        handler.setStream(sys.stderr)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [r for r in records if r["message"] == "request"]
    assert access and access[-1]["request_id"] == "trace-42" and access[-1]["status"] == 200
    assert set(access[-1]["stages_ms"]) >= {"decode", "detect", "crop", "store"}


@pytest.fixture
def locked(make_app):
    from ananacare import load_models

    app = make_app(API_KEYS="key-one, key-two", DIAGNOSTICS_TOKEN="ops-token", SECRET_KEY="s" * 32)
    load_models(app)
    return app.test_client()


def test_api_keys_guard_the_api(locked):
    assert locked.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").status_code == 401
    wrong = _validate(locked, **{"X-API-Key": "nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    assert _validate(locked, **{"X-API-Key": "key-two"}).status_code == 200
    assert locked.get("/api/openapi.json").status_code == 200  # documentation stays public
    assert locked.get("/healthz").status_code == 200 and locked.get("/readyz").status_code == 200


def test_diagnostics_token_guards_operators_paths(locked):
    for path in ("/api/diagnostics", "/metrics", "/api/diagnostics/models/face_landmarks"):
        assert locked.get(path).status_code == 401
        assert locked.get(path, headers={"X-API-Key": "key-one"}).status_code == 401  # a client key is not enough
        assert locked.get(path, headers={"Authorization": "Bearer ops-token"}).status_code == 200


def test_diagnostics_never_show_secrets(make_app, monkeypatch):
    monkeypatch.setenv("SOME_SECRET", "hunter2-value")
    app = make_app(API_KEYS="key-secret-1", DIAGNOSTICS_TOKEN="ops-secret-2", SECRET_KEY="server-secret-3-xyz")
    text = app.test_client().get("/api/diagnostics", headers={"Authorization": "Bearer ops-secret-2"}).get_data(
        as_text=True)
    for secret in ("hunter2-value", "key-secret-1", "ops-secret-2", "server-secret-3-xyz"):
        assert secret not in text


def test_cors_only_for_named_origins(make_app):
    client = make_app(CORS_ORIGINS="https://app.example").test_client()
    allowed = client.options("/api/validate/image", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "X-API-Key" in allowed.headers["Access-Control-Allow-Headers"]
    other = client.options("/api/validate/image", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_security_headers_on_every_response(client):
    for response in (client.get("/healthz"), client.get("/api/nothing"), _validate(client)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src" in response.headers["Content-Security-Policy"]


def test_overlay_draws_on_the_crop(client):
    import numpy as np

    image_id = _validate(client).get_json()["image_id"]
    crop = np.asarray(Image.open(io.BytesIO(client.get(f"/api/images/{image_id}").data)), dtype=int)
    response = client.get(f"/api/images/{image_id}/overlay.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    overlay = np.asarray(Image.open(io.BytesIO(response.data)), dtype=int)
    assert overlay.shape == crop.shape == (512, 512, 3)
    changed = (np.abs(overlay - crop).sum(axis=2) > 60).mean()
    assert 0.01 < changed < 0.3  # box, keypoints and 468 points drawn; the face still visible
    assert client.get(f"/api/images/{'0' * 32}/overlay.png").status_code == 404
