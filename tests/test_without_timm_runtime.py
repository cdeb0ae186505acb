"""A deployment without the timm runtime: a timm model in the models file fails at `load`, naming what to install.

Every process here starts with a sitecustomize that makes `import torch` / `import timm` fail as
if they were not installed (the dev venv has them): the real app under gunicorn, a real worker,
the real `flask` CLI.
"""
import json
import os
import subprocess
import sys

import pytest

from ananacare.models.availability import TIMM_INSTALL_HINT
from photos import jpeg
from server import ROOT, call, gunicorn

HIDE_TIMM_RUNTIME = '''
import sys


class _NotInstalled:
    """Answer for torch and timm as an interpreter without them would."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "timm"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''

BREAK_TORCH = '''
import importlib.machinery
import sys


class _Broken:
    """torch is found but fails to import, as with a wheel whose shared library is missing."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ImportError("libtorch_cpu.so: cannot open shared object file: No such file or directory")


class _FindsBrokenTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            return importlib.machinery.ModuleSpec(name, _Broken())
        return None


sys.meta_path.insert(0, _FindsBrokenTorch())
'''

WORDS = "the timm runtime is not installed (missing: torch, timm): " + TIMM_INSTALL_HINT


@pytest.fixture
def no_timm_env(tmp_path, skin_timm, write_spec):
    """Environment for a process without torch and timm, with a models file naming a timm analyzer."""
    def build(required, sitecustomize=HIDE_TIMM_RUNTIME):
        folder = tmp_path / "skin-folder"
        folder.mkdir(exist_ok=True)
        for name, content in skin_timm.items():
            (folder / name).write_bytes(content)
        hide = tmp_path / "hide"
        hide.mkdir(exist_ok=True)
        (hide / "sitecustomize.py").write_text(sitecustomize)
        spec = (f'[models.skin_type]\nruntime = "timm"\nsource = "path:{folder}"\nrole = "analyzer"\n'
                f'required = {"true" if required else "false"}\n')
        return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hide), os.environ.get("PYTHONPATH")])),
                "ANANACARE_MODELS_FILE": write_spec(spec), "ANANACARE_CACHE_DIR": str(tmp_path / "crops"),
                "HF_HUB_OFFLINE": "1"}
    return build


def test_the_blocker_really_hides_torch(no_timm_env):
    out = subprocess.run([sys.executable, "-c", "import torch"], env=no_timm_env(False), capture_output=True, text=True)
    assert out.returncode == 1 and "No module named 'torch'" in out.stderr


@pytest.mark.slow
def test_the_app_serves_and_names_the_missing_runtime(no_timm_env, tmp_path):
    with gunicorn(tmp_path, workers=1, env=no_timm_env(False)) as base:  # optional analyzer: ready without it
        status, diagnostics, _ = call(base, "/api/diagnostics")
        models = {m["name"]: m for m in diagnostics["models"]}
        assert models["skin_type"]["status"] == "failed" and models["skin_type"]["failed_stage"] == "load"
        assert models["skin_type"]["error"] == WORDS
        assert models["face_landmarks"]["status"] == "ready"
        status, body, _ = call(base, "/api/analyze/image", data=jpeg(), content_type="image/jpeg")
        assert status == 200 and body["validation"]["valid"] and "skin" in body["results"]
        assert body["unavailable"]["skin_type"]["stage"] == "load"  # the face analysis still ran


READY_REASONS = """
import json
from ananacare import create_app, load_models
app = create_app()
load_models(app)
ready = app.test_client().get("/readyz")
print(json.dumps({"status": ready.status_code, "body": ready.get_json(),
                  "torch": __import__("sys").modules.get("torch") is not None}))
"""


def test_readyz_names_a_required_timm_model_at_load(no_timm_env):
    out = subprocess.run([sys.executable, "-c", READY_REASONS], cwd=ROOT, env=no_timm_env(True),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr  # the app is created and its face models load
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503 and not result["torch"]
    reason, = result["body"]["reasons"]
    assert reason["model"] == "skin_type" and reason["stage"] == "load" and "error" not in reason


@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("command", ["verify", "warmup"])
def test_the_cli_fails_with_the_same_words(no_timm_env, command, required):
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "models", command], cwd=ROOT,
                         env=no_timm_env(required), capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr  # even an optional analyzer: the build is wrong
    line, = [row for row in out.stdout.splitlines() if row.startswith("skin_type")]
    assert f"[load] {WORDS}" in line
    assert all(" tflite " in row for row in out.stdout.splitlines() if row.startswith("face_"))


def test_a_broken_torch_install_fails_at_load_with_the_import_error(no_timm_env):
    env = no_timm_env(True, sitecustomize=BREAK_TORCH)  # find_spec sees torch: the import itself fails
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "models", "warmup"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    line, = [row for row in out.stdout.splitlines() if row.startswith("skin_type")]
    assert "[load] ImportError: the timm runtime does not import (libtorch_cpu.so: cannot open shared object" in line
    assert line.endswith(TIMM_INSTALL_HINT)
