"""Whether a runtime's packages are installed here, found without importing them.

The default service installs no torch (requirements.txt); the timm runtime is an extra
(requirements-timm.txt). A models file that names a timm model in a deployment without it must
not crash anything: the model fails at its `load` stage with a sentence that says what to install.
"""
from importlib import util

TIMM_PACKAGES = ("torch", "torchvision", "timm", "safetensors")
TIMM_INSTALL_HINT = "pip install -r requirements-timm.txt (CPU wheels: see docs/operations.md)"


def _installed(module):
    try:
        return util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses the name, or a half-removed package
        return False


def runtime_missing(runtime):
    """What to install for `runtime` (one sentence), or None when it can be imported here."""
    if runtime != "timm":
        return None  # LiteRT is in requirements.txt (TensorFlow's interpreter is its fallback)
    missing = [name for name in TIMM_PACKAGES if not _installed(name)]
    if not missing:
        return None
    return f"the timm runtime is not installed (missing: {', '.join(missing)}): {TIMM_INSTALL_HINT}"
