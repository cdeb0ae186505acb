"""A broken model file never stops the app: readyz names it, diagnostics shows it, requests get 503."""
import shutil
from importlib import resources
from pathlib import Path

import pytest

from ananacare.models.inspect import inspect_file
from photos import jpeg

DATA = Path(str(resources.files("ananacare.models"))) / "data"
LANDMARK_FILE = DATA / "face_landmark.tflite"

SPEC_TEMPLATE = """
[models.face_detector_short]
runtime = "tflite"
source = "path:{short}"
role = "detector"
required = true
preprocessing = {{ mean = [127.5, 127.5, 127.5], std = [127.5, 127.5, 127.5] }}
params = {{ anchor_strides = [8, 16, 16, 16], anchors_per_layer = 2, min_score = 0.5 }}

[models.face_landmarks]
runtime = "tflite"
source = "path:{landmarks}"
role = "landmarks"
required = true
preprocessing = {{ mean = [0.0, 0.0, 0.0], std = [255.0, 255.0, 255.0] }}
params = {{ roi_scale = 1.5 }}
""".replace("{short}", str(DATA / "face_detection_short_range.tflite"))

LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4a3f0c5e2b8d1e9f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f\nsize 2640568\n")
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Access denied</body></html>\n"


def _write_broken(kind, folder):
    path = folder / "face_landmark.tflite"
    if kind == "git-lfs-pointer":
        path.write_bytes(LFS_POINTER)
    elif kind == "html":
        path.write_bytes(HTML_PAGE)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = LANDMARK_FILE.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "missing":
        pass
    return path


@pytest.fixture
def broken_app(make_app, tmp_path):
    def build(kind):
        path = _write_broken(kind, tmp_path)
        spec = tmp_path / "models.toml"
        spec.write_text(SPEC_TEMPLATE.format(landmarks=path))
        return make_app(MODELS_FILE=str(spec))
    return build


@pytest.mark.parametrize("kind", ["git-lfs-pointer", "html", "empty", "truncated", "missing"])
def test_broken_landmark_file_is_named_everywhere(broken_app, kind):
    from ananacare import load_models

    app = broken_app(kind)  # the app is created without error
    states = {state.spec.name: state for state in load_models(app)}
    assert states["face_detector_short"].status == "ready"
    assert states["face_landmarks"].status == "failed" and states["face_landmarks"].stage == "inspect"
    client = app.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 503
    reason = ready.get_json()["reasons"][0]
    assert reason["model"] == "face_landmarks" and reason["verdict"] == kind and reason["stage"] == "inspect"

    models = {m["name"]: m for m in client.get("/api/diagnostics").get_json()["models"]}
    failed = models["face_landmarks"]
    assert failed["status"] == "failed" and failed["failed_stage"] == "inspect" and kind in failed["error"]
    assert failed["file"]["verdict"] == kind
    if kind != "missing":
        assert failed["file"]["sha256"] and failed["file"]["head_hex"] is not None

    response = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "model_unavailable"
    assert error["details"]["model"] == "face_landmarks" and error["details"]["stage"] == "inspect"
    assert client.get("/healthz").status_code == 200


def test_a_garbled_model_body_is_refused_before_the_runtime(tmp_path, make_app):
    # right header, garbage inside: the FlatBuffer walk finds a table pointing past the end, so the
    # interpreter never parses it (a file that only fails when invoked: test_hub_models, stage warmup)
    path = tmp_path / "garbage.tflite"
    data = bytearray(LANDMARK_FILE.read_bytes())
    data[64:4096] = b"\xff" * (4096 - 64)
    path.write_bytes(bytes(data))
    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=path))
    app = make_app(MODELS_FILE=str(spec))
    from ananacare import load_models

    state = {s.spec.name: s for s in load_models(app)}["face_landmarks"]
    assert state.status == "failed" and state.stage == "inspect"
    assert state.report.verdict == "truncated" and "past the end" in state.error


@pytest.mark.parametrize("kind", ["git-lfs-pointer", "html", "empty", "truncated", "missing"])
def test_inspect_names_each_kind(tmp_path, kind):
    report = inspect_file(_write_broken(kind, tmp_path))
    assert report.verdict == kind and report.problem


def test_real_models_inspect_as_tflite(tmp_path):
    shutil.copy(LANDMARK_FILE, tmp_path / "m.tflite")
    report = inspect_file(tmp_path / "m.tflite")
    assert report.verdict == "tflite" and report.head_hex[8:16] == b"TFL3".hex()
    assert report.size == LANDMARK_FILE.stat().st_size and len(report.sha256) == 64


def test_sha256_pin_mismatch_is_refused(make_app, tmp_path):
    spec = tmp_path / "models.toml"
    pinned = SPEC_TEMPLATE.format(landmarks=LANDMARK_FILE).replace(
        'role = "landmarks"', f'role = "landmarks"\nsha256 = "{"0" * 64}"')
    spec.write_text(pinned)
    from ananacare import load_models

    state = {s.spec.name: s for s in load_models(make_app(MODELS_FILE=str(spec)))}["face_landmarks"]
    assert state.status == "failed" and state.stage == "inspect" and "sha256 mismatch" in state.error


def test_an_unreadable_model_path_is_named(make_app, tmp_path):
    # as root, permissions cannot make a file unreadable; a folder where the file should be can
    folder = tmp_path / "face_landmark.tflite"
    folder.mkdir()
    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=folder))
    from ananacare import load_models

    app = make_app(MODELS_FILE=str(spec))
    load_models(app)
    reason = app.test_client().get("/readyz").get_json()["reasons"][0]
    assert reason["model"] == "face_landmarks" and reason["verdict"] == "unreadable"
    assert "error" not in reason  # the public readiness answer names model, stage and verdict only
    models = {m["name"]: m for m in app.test_client().get("/api/diagnostics").get_json()["models"]}
    assert "IsADirectoryError" in models["face_landmarks"]["error"]  # the operator's diagnostics say why
