"""create_app: settings from defaults, environment and overrides; no model work, no heavy imports."""
import os
import subprocess
import sys

import pytest

from ananacare import create_app
from ananacare.config import ConfigError
from ananacare.models import SpecError


def test_defaults_and_overrides(make_app):
    app = make_app(CROP_SIZE=256)
    assert app.config["CROP_SIZE"] == 256 and app.config["CROP_MARGIN"] == 0.25
    assert app.testing


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ANANACARE_CROP_SIZE", "384")
    monkeypatch.setenv("ANANACARE_LOAD_MODELS_ON_START", "true")
    app = create_app({"CACHE_DIR": str(tmp_path)})
    assert app.config["CROP_SIZE"] == 384 and app.config["LOAD_MODELS_ON_START"] is True


def test_a_bad_setting_fails_at_start_naming_it(monkeypatch):
    monkeypatch.setenv("ANANACARE_CROP_SIZE", "huge")
    with pytest.raises(ConfigError, match="ANANACARE_CROP_SIZE"):
        create_app()


def test_a_bad_models_file_fails_at_start_naming_entry_and_field(tmp_path):
    spec = tmp_path / "models.toml"
    spec.write_text('[models.mine]\nruntime = "onnx"\nsource = "path:x.onnx"\nrole = "analyzer"\n')
    with pytest.raises(SpecError, match=r"models\.mine: runtime"):
        create_app({"MODELS_FILE": str(spec)})


def test_models_are_not_loaded_by_the_factory(make_app):
    client = make_app().test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert {reason["status"] for reason in ready.get_json()["reasons"]} == {"not_loaded"}
    assert client.get("/healthz").status_code == 200


def test_factory_imports_neither_torch_nor_tensorflow(tmp_path):
    code = ("import sys; from ananacare import create_app; app = create_app(); "
            "app.test_client().get('/api/diagnostics'); "
            "heavy = [m for m in ('torch', 'timm', 'tensorflow') if m in sys.modules]; "
            "assert not heavy, heavy")
    env = {**os.environ, "ANANACARE_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_blueprints_do_not_import_each_other():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "ananacare" / "blueprints"
    names = {"validate", "analyze", "images", "diagnostics", "ui"}
    for name in names:
        source = (folder / f"{name}.py").read_text()
        for other in names - {name}:
            assert f"import {other}" not in source and f".{other} import" not in source


def test_an_unknown_activation_fails_at_start(tmp_path):
    spec = tmp_path / "models.toml"
    spec.write_text('[models.mine]\nruntime = "tflite"\nsource = "path:x.tflite"\nrole = "analyzer"\n'
                    'params = { activation = "sofmax" }\n')
    with pytest.raises(SpecError, match=r"models\.mine: params"):
        create_app({"MODELS_FILE": str(spec)})
