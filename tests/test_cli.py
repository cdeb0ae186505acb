"""flask models warmup/list/verify and flask cache prune, through the CLI runner."""
import json
import time

from test_model_files import SPEC_TEMPLATE, _write_broken


def test_warmup_loads_and_runs_every_default_model(runner):
    result = runner.invoke(args=["models", "warmup"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5  # three face models, the (optional) selfie segmentation and iris models
    for line in lines:
        name, verdict, status, seconds = line.split()[:4]
        assert verdict == "tflite" and status == "ready" and float(seconds.rstrip("s")) >= 0


def test_warmup_fails_when_a_required_model_is_an_lfs_pointer(make_app, tmp_path):
    path = _write_broken("git-lfs-pointer", tmp_path)
    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=path))
    result = make_app(MODELS_FILE=str(spec)).test_cli_runner().invoke(args=["models", "warmup"])
    assert result.exit_code == 1
    assert "face_landmarks" in result.output and "git-lfs-pointer" in result.output and "[inspect]" in result.output


def test_verify_json_reports_the_verdict_and_exit_code(make_app, tmp_path):
    path = _write_broken("git-lfs-pointer", tmp_path)
    spec = tmp_path / "models.toml"
    spec.write_text(SPEC_TEMPLATE.format(landmarks=path))
    result = make_app(MODELS_FILE=str(spec)).test_cli_runner().invoke(args=["models", "verify", "--json"])
    assert result.exit_code == 1
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["face_landmarks"]["file"]["verdict"] == "git-lfs-pointer" and not rows["face_landmarks"]["ok"]
    assert rows["face_detector_short"]["ok"] and rows["face_detector_short"]["file"]["verdict"] == "tflite"


def test_verify_inspects_without_loading(make_app):
    app = make_app()  # nothing loaded yet
    result = app.test_cli_runner().invoke(args=["models", "verify"])
    assert result.exit_code == 0 and result.output.count(" tflite ") == 5
    registry = app.extensions["ananacare"]["models"]
    for name in registry.names:
        state = registry.state(name)
        assert state.report.verdict == "tflite" and state.status == "not_loaded" and state.model is None


def test_list_json(runner):
    result = runner.invoke(args=["models", "list", "--json"])
    names = [row["name"] for row in json.loads(result.output)]
    assert names == ["face_detector_short", "face_detector_full", "face_landmarks", "selfie_segmentation", "iris"]


def test_cache_prune_removes_expired_crops(make_app):
    app = make_app(CACHE_TTL_SECONDS=1)
    client = app.test_client()
    from photos import jpeg

    image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    store = app.extensions["ananacare"]["crops"]
    assert store.prune() == 0
    assert store.prune(now=time.time() + 5) == 1
    result = app.test_cli_runner().invoke(args=["cache", "prune"])
    assert result.exit_code == 0 and "removed 0" in result.output
    assert client.post("/api/analyze/by-id", json={"image_id": image_id}).status_code == 404


def test_analyze_prints_one_json_line_per_file(runner, tmp_path):
    from photos import jpeg

    face, rocket = tmp_path / "face.jpg", tmp_path / "rocket.jpg"
    face.write_bytes(jpeg("astronaut"))
    rocket.write_bytes(jpeg("rocket"))
    result = runner.invoke(args=["analyze", str(face), str(rocket)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.strip().splitlines())
    assert first["status"] == 200 and first["results"]["landmarks"]["count"] == 468
    assert first["validation"]["valid"] is True and len(first["image_id"]) == 32
    assert second["status"] == 422 and second["error"]["code"] == "no_face_detected"
