"""Analyzer models from the (loopback) Hugging Face hub: timm and TFLite, pinned, inspected, offline."""
import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ananacare import load_models
from build_models import COLOUR_INPUT, SKIN_LABELS, colour_probabilities
from photos import jpeg
from server import ROOT, free_port
from tenants import stored as stored_crop
from test_model_files import LFS_POINTER

ANALYZERS = """
[models.skin_type]
runtime = "timm"
source = "hf-hub:{org}/skin-type"
role = "analyzer"
top_k = 3

[models.colour]
runtime = "tflite"
source = "hf-hub:{org}/colour"
file = "colour.tflite"
role = "analyzer"
labels = ["red", "green", "blue"]
preprocessing = {{ mean = [0.0, 0.0, 0.0], std = [255.0, 255.0, 255.0] }}
params = {{ activation = "none" }}
"""


@pytest.fixture
def org(hub, skin_timm, colour_tflite):
    """A fresh hub organisation holding both analyzers (fresh, so tests never share cache entries)."""
    name = f"t{uuid.uuid4().hex[:10]}"
    hub.publish(f"{name}/skin-type", skin_timm)
    hub.publish(f"{name}/colour", {"colour.tflite": colour_tflite})
    return name


@pytest.fixture
def analyzer_app(make_app, write_spec, org):
    def build(spec_extra=None, **settings):
        app = make_app(MODELS_FILE=write_spec(spec_extra or ANALYZERS.format(org=org)), **settings)
        load_models(app)
        return app
    return build


def _validate(client):
    return client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]


def _direct_timm_scores(weights_path, crop):
    """What timm itself says for the crop, without the registry."""
    import timm
    import torch
    from timm.data import create_transform, resolve_model_data_config

    model = timm.create_model(f"local-dir:{Path(weights_path).parent}", pretrained=True).eval()
    transform = create_transform(**resolve_model_data_config(model), is_training=False)
    with torch.inference_mode():
        return torch.softmax(model(transform(crop).unsqueeze(0)), dim=1)[0].numpy()


def test_hub_models_predict_through_by_id(analyzer_app):
    app = analyzer_app()
    client = app.test_client()
    image_id = _validate(client)
    response = client.post("/api/analyze/by-id", json={"image_id": image_id})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["unavailable"] == {}
    models = body["results"]["models"]

    crop = stored_crop(app, image_id).image
    registry = app.extensions["ananacare"]["models"]
    hub_cache = os.path.join(os.environ["HF_HOME"], "hub")
    assert registry.state("skin_type").path.startswith(hub_cache)  # the HF cache, no private folder
    assert registry.state("colour").path.startswith(hub_cache)

    skin = models["skin_type"]["predictions"]
    assert [p["label"] for p in skin] != [] and {p["label"] for p in skin} == set(SKIN_LABELS)
    direct = _direct_timm_scores(registry.state("skin_type").path, crop)
    for prediction in skin:
        assert prediction["score"] == pytest.approx(direct[SKIN_LABELS.index(prediction["label"])], abs=1e-5)

    expected = colour_probabilities(np.asarray(crop.resize((COLOUR_INPUT, COLOUR_INPUT), Image.Resampling.BILINEAR)))
    colour = {p["label"]: p["score"] for p in models["colour"]["predictions"]}
    for index, label in enumerate(("red", "green", "blue")):
        assert colour[label] == pytest.approx(expected[index], abs=1e-4)


def test_colour_classifier_follows_the_colour(analyzer_app):
    registry = analyzer_app().extensions["ananacare"]["models"]
    for label, rgb in (("red", (230, 20, 20)), ("green", (20, 230, 20)), ("blue", (20, 20, 230))):
        result = registry.predict("colour", Image.new("RGB", (64, 64), rgb))
        assert result["predictions"][0]["label"] == label and result["predictions"][0]["score"] > 0.99


def test_requested_models_only(analyzer_app):
    client = analyzer_app().test_client()
    image_id = _validate(client)
    body = client.post("/api/analyze/by-id", json={"image_id": image_id, "models": ["colour"]}).get_json()
    assert list(body["results"]["models"]) == ["colour"]
    by_form = client.post("/api/analyze/image?models=skin_type", data=jpeg(), content_type="image/jpeg").get_json()
    assert list(by_form["results"]["models"]) == ["skin_type"]
    unknown = client.post("/api/analyze/by-id", json={"image_id": image_id, "models": ["nope"]})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "unknown_model"
    assert "colour" in unknown.get_json()["error"]["message"]
    not_analyzer = client.post("/api/analyze/by-id", json={"image_id": image_id, "models": ["face_landmarks"]})
    assert not_analyzer.status_code == 400 and not_analyzer.get_json()["error"]["code"] == "not_an_analyzer"


def test_failed_model_is_503_when_requested_and_listed_otherwise(hub, org, analyzer_app):
    hub.publish(f"{org}/skin-type", {"config.json": b"{}", "model.safetensors": LFS_POINTER})
    client = analyzer_app().test_client()
    image_id = _validate(client)
    requested = client.post("/api/analyze/by-id", json={"image_id": image_id, "models": ["skin_type"]})
    assert requested.status_code == 503
    details = requested.get_json()["error"]["details"]
    assert details == {"model": "skin_type", "stage": "inspect"}  # no paths or hosts for clients
    body = client.post("/api/analyze/by-id", json={"image_id": image_id}).get_json()
    assert body["unavailable"]["skin_type"]["stage"] == "inspect"
    assert body["results"]["models"]["colour"]["predictions"]  # the others still run
    assert client.get("/readyz").status_code == 200  # an optional model does not block readiness


@pytest.mark.parametrize("model, broken", [("skin_type", "truncated"), ("skin_type", "git-lfs-pointer"),
                                           ("colour", "truncated"), ("colour", "git-lfs-pointer")])
def test_truncated_or_pointer_downloads_are_named(hub, org, analyzer_app, skin_timm, colour_tflite, model, broken):
    files = dict(skin_timm) if model == "skin_type" else {"colour.tflite": colour_tflite}
    weights = "model.safetensors" if model == "skin_type" else "colour.tflite"
    files[weights] = LFS_POINTER if broken == "git-lfs-pointer" else files[weights][: len(files[weights]) // 2]
    hub.publish(f"{org}/{'skin-type' if model == 'skin_type' else 'colour'}", files)
    app = analyzer_app()
    state = app.extensions["ananacare"]["models"].state(model)
    assert state.status == "failed" and state.stage == "inspect"
    assert state.report.verdict == broken and broken in state.error
    detail = app.test_client().get(f"/api/diagnostics/models/{model}").get_json()
    assert detail["file"]["verdict"] == broken and detail["inputs"] is None


def test_sha256_pin(org, analyzer_app, colour_tflite):
    import hashlib

    good = hashlib.sha256(colour_tflite).hexdigest()
    for pin, status in ((good, "ready"), ("0" * 64, "failed")):
        spec = ANALYZERS.format(org=org).replace('file = "colour.tflite"', f'file = "colour.tflite"\nsha256 = "{pin}"')
        state = analyzer_app(spec).extensions["ananacare"]["models"].state("colour")
        assert state.status == status
    assert "sha256 mismatch" in state.error and state.stage == "inspect"


def test_missing_hub_file_is_a_download_failure(org, analyzer_app):
    spec = ANALYZERS.format(org=org).replace('file = "colour.tflite"', 'file = "absent.tflite"')
    state = analyzer_app(spec).extensions["ananacare"]["models"].state("colour")
    assert state.status == "failed" and state.stage == "download"


def test_model_failing_at_first_inference_fails_at_warmup(hub, failing_tflite, analyzer_app):
    org = f"t{uuid.uuid4().hex[:10]}"
    hub.publish(f"{org}/broken", {"model.tflite": failing_tflite})
    spec = f'[models.broken]\nruntime = "tflite"\nsource = "hf-hub:{org}/broken"\nrole = "analyzer"\n'
    state = analyzer_app(spec).extensions["ananacare"]["models"].state("broken")
    assert state.status == "failed" and state.stage == "warmup" and "gather index out of bounds" in state.error
    assert state.report.verdict == "tflite"  # the file itself was fine


def test_model_diagnostics_show_tensors(analyzer_app):
    client = analyzer_app().test_client()
    colour = client.get("/api/diagnostics/models/colour").get_json()
    assert colour["inputs"][0] | {"name": None} == {"name": None, "shape": [1, COLOUR_INPUT, COLOUR_INPUT, 3],
                                                    "dtype": "float32"}
    assert colour["outputs"][0]["shape"] == [1, 3] and colour["labels"] == ["red", "green", "blue"]
    skin = client.get("/api/diagnostics/models/skin_type").get_json()
    assert skin["inputs"][0]["shape"][:2] == [1, 3] and skin["labels"] == list(SKIN_LABELS)
    assert skin["file"]["verdict"] == "safetensors" and skin["status"] == "ready"
    missing = client.get("/api/diagnostics/models/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "model_not_found"


def test_concurrent_litert_calls_equal_sequential_ones(analyzer_app):
    registry = analyzer_app().extensions["ananacare"]["models"]
    rng = np.random.default_rng(1)
    images = [Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)) for _ in range(24)]
    sequential = [registry.predict("colour", image) for image in images]
    with ThreadPoolExecutor(6) as pool:
        concurrent = list(pool.map(lambda image: registry.predict("colour", image), images * 4))
    assert concurrent == sequential * 4


def test_warm_cache_works_offline(tmp_path, hub, org, write_spec):
    """`flask models warmup` fills the HF cache; then, offline with the hub unreachable, the CLI and
    the app still load every model and predict."""
    photo = tmp_path / "face.jpg"
    photo.write_bytes(jpeg())
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "ANANACARE_CACHE_DIR": str(tmp_path / "crops"),
           "ANANACARE_MODELS_FILE": write_spec(ANALYZERS.format(org=org))}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]

    def run(args, **extra):
        return subprocess.run(flask + args, cwd=ROOT, env={**env, **extra}, capture_output=True, text=True,
                              timeout=300)

    online = run(["models", "warmup"])
    assert online.returncode == 0, online.stderr
    assert all(" ready " in line for line in online.stdout.strip().splitlines()[1:])  # under the header
    again = run(["models", "warmup"])  # idempotent
    assert again.returncode == 0

    offline = {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    warm = run(["models", "warmup"], **offline)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    analysed = run(["analyze", str(photo)], **offline)
    assert analysed.returncode == 0, analysed.stderr
    record = json.loads(analysed.stdout.strip().splitlines()[-1])
    assert record["status"] == 200 and set(record["results"]["models"]) == {"skin_type", "colour"}

    cold = run(["models", "warmup"], **offline, HF_HOME=str(tmp_path / "empty-hf"))
    assert cold.returncode == 0  # analyzers are optional: the face models still make the app ready
    assert "[download]" in cold.stdout and "not in the Hugging Face cache" in cold.stdout


def test_timm_folder_from_a_path_source(make_app, write_spec, skin_timm, tmp_path):
    folder = tmp_path / "skin-folder"
    folder.mkdir()
    for name, content in skin_timm.items():
        (folder / name).write_bytes(content)
    spec = f'[models.skin_type]\nruntime = "timm"\nsource = "path:{folder}"\nrole = "analyzer"\n'
    app = make_app(MODELS_FILE=write_spec(spec))
    load_models(app)
    registry = app.extensions["ananacare"]["models"]
    assert registry.state("skin_type").status == "ready"
    assert registry.state("skin_type").path == str(folder / "model.safetensors")
    (folder / "config.json").unlink()
    app = make_app(MODELS_FILE=write_spec(spec))
    load_models(app)
    state = app.extensions["ananacare"]["models"].state("skin_type")
    assert state.status == "failed" and state.stage == "resolve" and "config.json" in state.error
