"""Crops belong to the caller: keyed ids per tenant, another tenant's id is a plain 404."""
import hashlib
import json
import logging

import pytest

from ananacare import load_models
from ananacare.config import ConfigError
from photos import jpeg

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def keyed(make_app):
    app = make_app(API_KEYS="clinic:key-a1, clinic:key-a2, key-b", SECRET_KEY=SECRET)
    load_models(app)
    return app.test_client()


def _upload(client, key, data=None):
    return client.post("/api/validate/image", data=data or jpeg(), content_type="image/jpeg",
                       headers={"X-API-Key": key})


def test_same_photo_two_tenants_two_ids_and_same_tenant_deduplicates(keyed):
    first = _upload(keyed, "key-a1").get_json()["image_id"]
    assert _upload(keyed, "key-a2").get_json()["image_id"] == first  # one group, one tenant
    assert _upload(keyed, "key-b").get_json()["image_id"] != first


def test_id_cannot_be_computed_from_the_photo(keyed, make_app):
    image_id = _upload(keyed, "key-b").get_json()["image_id"]
    settings = {"size": 512, "margin": 0.25, "decode_max_side": 1600, "pipeline": 1}
    unkeyed = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + jpeg()).hexdigest()[:32]
    assert image_id != unkeyed
    other_secret = make_app(API_KEYS="key-b", SECRET_KEY="another-secret-of-32-characters!")
    load_models(other_secret)
    assert _upload(other_secret.test_client(), "key-b").get_json()["image_id"] != image_id


def test_another_tenants_id_is_a_plain_404_everywhere(keyed):
    owned = _upload(keyed, "key-a1").get_json()["image_id"]
    unknown = "0" * 32
    for key in ("key-b",):
        calls = {
            "get": lambda image_id: keyed.get(f"/api/images/{image_id}", headers={"X-API-Key": key}),
            "overlay": lambda image_id: keyed.get(f"/api/images/{image_id}/overlay.png", headers={"X-API-Key": key}),
            "skin heatmap": lambda image_id: keyed.get(f"/api/images/{image_id}/skin/redness.png",
                                                       headers={"X-API-Key": key}),
            "by-id": lambda image_id: keyed.post("/api/analyze/by-id", json={"image_id": image_id},
                                                 headers={"X-API-Key": key}),
            "delete": lambda image_id: keyed.delete(f"/api/images/{image_id}", headers={"X-API-Key": key}),
        }
        for name, request in calls.items():
            foreign, never = request(owned), request(unknown)
            assert foreign.status_code == never.status_code == 404, name
            assert foreign.get_json()["error"]["code"] == never.get_json()["error"]["code"] == "image_not_found"
            assert set(foreign.get_json()["error"]["details"]) == set(never.get_json()["error"]["details"])
    # the owner still has it: the stranger's DELETE erased nothing
    assert keyed.get(f"/api/images/{owned}", headers={"X-API-Key": "key-a2"}).status_code == 200
    assert keyed.delete(f"/api/images/{owned}", headers={"X-API-Key": "key-a1"}).status_code == 204


def test_keys_without_a_secret_refuse_to_start(make_app):
    with pytest.raises(ConfigError, match="ANANACARE_SECRET_KEY"):
        make_app(API_KEYS="key-a")
    with pytest.raises(ConfigError, match="ANANACARE_SECRET_KEY"):
        make_app(API_KEYS="key-a", SECRET_KEY="short")


def test_required_keys_refuse_an_open_start(make_app):
    with pytest.raises(ConfigError, match="ANANACARE_API_KEYS"):
        make_app(REQUIRE_API_KEYS=True)
    make_app(REQUIRE_API_KEYS=True, API_KEYS="k", SECRET_KEY=SECRET)


def test_open_mode_warns_once_when_a_worker_starts_not_when_the_app_is_made(make_app, caplog):
    from ananacare import start_worker

    with caplog.at_level(logging.WARNING, logger="ananacare"):
        app = make_app()
        assert not [r for r in caplog.records if "no API keys are set" in r.getMessage()]
        start_worker(app)
    app.extensions["ananacare"]["sweeper"].stop()
    warnings = [r for r in caplog.records if "no API keys are set" in r.getMessage()]
    assert len(warnings) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ananacare"):
        keyed_app = make_app(API_KEYS="k", SECRET_KEY=SECRET)
        start_worker(keyed_app)
    keyed_app.extensions["ananacare"]["sweeper"].stop()
    assert not [r for r in caplog.records if "no API keys are set" in r.getMessage()]


def test_stored_metadata_names_the_tenant_never_the_key(keyed, make_app):
    response = _upload(keyed, "key-b")
    assert response.status_code == 200
    app = keyed.application
    text = "".join(path.read_text() for path in __import__("pathlib").Path(app.config["CACHE_DIR"]).rglob("*.json"))
    assert '"tenant": "key-' in text and "key-b\"" not in text


def test_cli_analyze_stores_as_the_named_tenant(keyed, tmp_path):
    photo = tmp_path / "selfie.jpg"
    photo.write_bytes(jpeg())
    result = keyed.application.test_cli_runner().invoke(args=["analyze", "--tenant", "clinic", str(photo)])
    assert result.exit_code == 0, result.output
    image_id = json.loads(result.output.strip().splitlines()[-1])["image_id"]
    assert image_id == _upload(keyed, "key-a1").get_json()["image_id"]  # the same tenant, the same id
    assert keyed.get(f"/api/images/{image_id}", headers={"X-API-Key": "key-a2"}).status_code == 200
    assert keyed.get(f"/api/images/{image_id}", headers={"X-API-Key": "key-b"}).status_code == 404


def test_operators_paths_are_closed_to_tenants_without_a_diagnostics_token(keyed):
    for path in ("/api/diagnostics", "/metrics", "/api/diagnostics/models/face_landmarks"):
        response = keyed.get(path, headers={"X-API-Key": "key-b"})
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert keyed.get("/readyz").status_code == 200 and keyed.get("/healthz").status_code == 200


def test_key_lists_are_read_strictly(make_app):
    app = make_app(API_KEYS="clinic: key-with-space , shop:k2", SECRET_KEY=SECRET)
    load_models(app)
    assert _upload(app.test_client(), "key-with-space").status_code == 200  # spaces around a key are not part of it
    for bad in ("a:k1,b:k1", "anonymous:k1", "key-0123abcd4567:k1"):
        with pytest.raises(ConfigError, match="ANANACARE_API_KEYS"):
            make_app(API_KEYS=bad, SECRET_KEY=SECRET)
