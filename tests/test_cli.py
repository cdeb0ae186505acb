"""flask models warmup/list/verify and flask cache prune, through the CLI runner."""
import json
import logging
import time

from test_model_files import SPEC_TEMPLATE, _write_broken


def test_warmup_loads_and_runs_every_default_model(runner):
    result = runner.invoke(args=["models", "warmup"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.strip().splitlines()
    assert header.split() == ["model", "verdict", "status", "load"]  # no problem column: nothing failed
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


def _column_starts(line):
    """Where each cell of a table line starts (cells are separated by two or more spaces)."""
    import re

    return [match.start() for match in re.finditer(r"(?:^|(?<=  ))\S", line)]


def test_tables_align_their_columns(make_app, tmp_path, write_spec):
    # a name longer than any default one, and a role longer than the old fixed width (segmentation)
    spec = write_spec('''
[models.a_rather_long_model_name_for_the_table]
runtime = "tflite"
source = "path:/nonexistent/model.tflite"
role = "analyzer"
required = false
''')
    runner = make_app(MODELS_FILE=spec).test_cli_runner()
    for args, header in ((["models", "list"], "model runtime role required source"),
                         (["models", "verify"], "model verdict bytes sha256 problem"),
                         (["models", "warmup"], "model verdict status load problem")):
        result = runner.invoke(args=args)
        lines = result.output.strip().splitlines()
        assert lines[0].split() == header.split(), result.output
        starts = _column_starts(lines[0])
        for line in lines[1:]:
            cells = _column_starts(line)
            # every cell starts where its header does, or ends where a right-aligned header ends
            for start, header_start, name in zip(cells, starts, lines[0].split()):
                if name in ("bytes", "load"):
                    continue
                assert start == header_start, f"{args}: {line!r} against {lines[0]!r}"
            assert "a_rather_long_model_name_for_the_table" in result.output


def test_numbers_are_right_aligned_under_their_header(runner):
    header, *lines = runner.invoke(args=["models", "verify"]).output.strip().splitlines()
    end = header.index("bytes") + len("bytes")
    for line in lines:
        size = line.split()[2]
        assert line[end - len(size):end] == size and line[end] == " ", line


def test_open_mode_warning_only_where_a_command_acts_as_a_tenant(runner, tmp_path, caplog):
    from photos import jpeg

    photo = tmp_path / "face.jpg"
    photo.write_bytes(jpeg())

    def warnings(args):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ananacare"):
            assert runner.invoke(args=args).exit_code == 0
        return [r for r in caplog.records if "no API keys are set" in r.getMessage()]

    for args in (["models", "list"], ["models", "verify"], ["cache", "prune"]):
        assert warnings(args) == [], args
    assert len(warnings(["analyze", str(photo), str(photo)])) == 1  # once per run, not per photo
