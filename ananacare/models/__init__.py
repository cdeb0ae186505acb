"""The model registry: specs, sources, file inspection, runtimes (LiteRT, timm)."""
import os

from flask import current_app

from .registry import BudgetedRegistry, ModelRegistry, ModelUnavailable, UnknownModel
from .spec import SpecError, load_specs

__all__ = ["BudgetedRegistry", "ModelRegistry", "ModelUnavailable", "SpecError", "UnknownModel", "init_app",
           "load_specs", "model_registry"]


def threads_per_worker(configured=0):
    """Intra-op threads for one worker: the setting, or cores / gunicorn workers (at least 1)."""
    if configured:
        return configured
    workers = max(1, int(os.environ.get("WEB_CONCURRENCY", "1") or 1))
    return max(1, (os.cpu_count() or 1) // workers)


def init_app(app):
    """Read and validate the models file; the registry loads nothing until asked."""
    specs = load_specs(app.config["MODELS_FILE"])
    threads = threads_per_worker(app.config["THREADS_PER_WORKER"])
    app.extensions["ananacare"]["models"] = ModelRegistry(specs, threads=threads)


def model_registry():
    """The current app's model registry."""
    return current_app.extensions["ananacare"]["models"]
