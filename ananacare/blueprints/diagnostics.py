"""Health, readiness and diagnostics: debug production from HTTP instead of a shell."""
import os
import platform
import sys
from functools import cache
from importlib import metadata

from flask_smorest import Blueprint

from .. import __version__
from ..image_cache import crop_store
from ..errors import ApiError
from ..models import UnknownModel, model_registry
from ..models.tflite_runtime import runtime_name
from .schemas import DiagnosticsSchema, HealthSchema, ModelDetailSchema, ReadinessSchema, error_responses

bp = Blueprint("diagnostics", __name__, description="Health, readiness and model diagnostics.")

KEY_PACKAGES = ("flask", "flask-smorest", "marshmallow", "gunicorn", "numpy", "pillow", "ai-edge-litert",
                "gevent", "huggingface_hub", "timm", "torch", "torchvision", "safetensors")


@cache
def package_versions():
    """Installed versions of the packages that matter here, read from metadata once per process."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def hugging_face_cache():
    """Where hub downloads go and whether the process is offline."""
    from huggingface_hub import constants

    return {"hf_home": constants.HF_HOME, "hub_cache": constants.HF_HUB_CACHE,
            "offline": bool(constants.HF_HUB_OFFLINE), "endpoint": constants.ENDPOINT}


@bp.route("/healthz", methods=["GET"])
@bp.response(200, HealthSchema)
def healthz():
    """The process is alive (no model work)."""
    return {"status": "ok"}


@bp.route("/readyz", methods=["GET"])
@bp.response(200, ReadinessSchema)
@bp.alt_response(503, schema=ReadinessSchema, description="Not ready: a required model is not loaded")
def readyz():
    """200 when every required model is loaded in this worker; 503 with the reasons otherwise."""
    ready, reasons = model_registry().readiness()
    body = {"ready": ready, "pid": os.getpid(), "reasons": reasons}
    return body, (200 if ready else 503)


@bp.route("/api/diagnostics", methods=["GET"])
@bp.response(200, DiagnosticsSchema)
def diagnostics():
    """Versions, runtimes, caches, and every model's file facts and state in this worker."""
    registry = model_registry()
    ready, reasons = registry.readiness()
    return {
        "app_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "pid": os.getpid(),
        "packages": package_versions(),
        "tflite_runtime": runtime_name(),
        "hugging_face": hugging_face_cache(),
        "crop_cache": crop_store().stats(),
        "ready": ready,
        "not_ready_reasons": reasons,
        "models": registry.summaries(),
    }


@bp.route("/api/diagnostics/models/<name>", methods=["GET"])
@bp.response(200, ModelDetailSchema)
@bp.doc(responses=error_responses("model_not_found"))
def model_diagnostics(name):
    """One model in detail: file facts, state, input and output tensors (names, shapes, dtypes)."""
    registry = model_registry()
    try:
        state = registry.state(name)
    except UnknownModel as error:
        raise ApiError("model_not_found", error.message, 404, error.details) from None
    return state.detail()
