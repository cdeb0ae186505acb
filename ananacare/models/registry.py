"""The model registry: one entry per spec, loaded once per worker, failures kept and shown.

Loading runs in stages (resolve, download, inspect, load, allocate, warmup). A failure at any
stage is recorded with the stage and the exact error, logged once, shown in diagnostics, and
turned into a 503 `model_unavailable` for requests that need the model. It never raises out of
`create_app()` or a worker's start.
"""
import logging
import threading
import time
from dataclasses import dataclass, field

from ..errors import ApiError
from . import sources
from .availability import TIMM_INSTALL_HINT, runtime_missing
from .inspect import inspect_file
from .outputs import describe_outputs

log = logging.getLogger(__name__)

ACCEPTED_VERDICTS = {"tflite": {"tflite"}, "timm": {"safetensors", "pytorch"}}


class ModelUnavailable(ApiError):
    """A model a request needs is not loaded; names the model and the failed stage."""

    def __init__(self, name, stage, error):
        # the error itself (paths, hosts, exception text) is for operators: logged when the model
        # failed and shown by /api/diagnostics, never in a client's answer
        super().__init__("model_unavailable", f"Model {name!r} is unavailable (failed at stage {stage}); "
                         "the operator's diagnostics say why.", 503, {"model": name, "stage": stage})
        self.error = error


class UnknownModel(ApiError):
    """A name that is not in the registry; the message lists the known ones."""

    def __init__(self, name, known):
        super().__init__("unknown_model", f"No model named {name!r}; known models: {', '.join(known)}",
                         400, {"model": name, "known": list(known)})


class _StageFailure(Exception):
    def __init__(self, stage, message):
        super().__init__(message)
        self.stage = stage


@dataclass
class ModelState:
    """What this worker knows about one model."""

    spec: object
    status: str = "not_loaded"  # not_loaded | loading | ready | failed
    stage: str | None = None
    error: str | None = None
    path: str | None = None
    report: object = None
    model: object = None
    load_seconds: float | None = None
    last_used: float | None = None
    inference_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self):
        """A JSON-ready view for diagnostics and the CLI."""
        spec = self.spec
        return {
            "name": spec.name, "runtime": spec.runtime, "role": spec.role, "required": spec.required,
            "source": spec.source, "sha256_pin": spec.sha256, "path": self.path,
            "file": self.report.to_dict() if self.report else None,
            "status": self.status, "failed_stage": self.stage, "error": self.error,
            "load_seconds": self.load_seconds, "last_used": self.last_used,
            "inference_count": self.inference_count,
        }

    def detail(self):
        """The summary plus tensor metadata (KServe-style) and the spec's preprocessing and labels."""
        ready = self.status == "ready"
        return self.summary() | {
            "inputs": self.model.inputs if ready else None,
            "outputs": self.model.outputs if ready else None,
            "labels": list(self.model.labels) if ready else list(self.spec.labels),
            "preprocessing": self.spec.preprocessing, "params": self.spec.params, "threads": self.spec.threads,
            "top_k": self.spec.top_k,
        }


def _load_runtime(spec, path, threads):
    if spec.runtime == "tflite":
        from .tflite_runtime import TFLiteModel
        return TFLiteModel(path, threads=spec.threads or threads, preprocessing=spec.preprocessing,
                           labels=spec.labels)
    try:
        from .timm_runtime import TimmModel  # torch and timm are imported only here
    except ImportError as error:  # installed but broken (runtime_missing found the packages)
        raise ImportError(f"the timm runtime does not import ({error}): {TIMM_INSTALL_HINT}") from error
    return TimmModel(spec, path, threads=spec.threads or threads)


class ModelRegistry:
    """Every configured model by name; `get(name)` loads it once and returns it."""

    def __init__(self, specs, threads=None):
        self._states = {name: ModelState(spec) for name, spec in specs.items()}
        self._threads = threads
        self.observer = None  # metrics: inference_done(name, seconds), model_load_failed(name, stage)

    # -- lookup ---------------------------------------------------------------------------
    @property
    def names(self):
        """Model names in spec order."""
        return list(self._states)

    def state(self, name):
        """The ModelState of a known name; UnknownModel otherwise."""
        try:
            return self._states[name]
        except KeyError:
            raise UnknownModel(name, self.names) from None

    def names_with_role(self, role):
        """Names of the models that play a role (detector, landmarks, analyzer)."""
        return [name for name, state in self._states.items() if state.spec.role == role]

    def get(self, name):
        """The loaded model; loads it on first use; ModelUnavailable if it cannot be."""
        state = self.load(name)
        if state.status != "ready":
            raise ModelUnavailable(name, state.stage, state.error)
        return state.model

    def run(self, name, *inputs):
        """Run one inference and count it; a runtime error is a 503 naming the model, not a crash."""
        model = self.get(name)
        started = time.perf_counter()
        try:
            outputs = model.run(*inputs)
        except Exception as error:  # the runtime's own error types vary (RuntimeError, ValueError, ...)
            log.exception("model %s failed at inference", name)
            raise ModelUnavailable(name, "inference", f"{type(error).__name__}: {error}") from None
        if self.observer is not None:
            self.observer.inference_done(name, time.perf_counter() - started)
        state = self._states[name]
        state.inference_count += 1
        state.last_used = time.time()
        return outputs

    def predict(self, name, image):
        """Run an analyzer on an RGB image: top-k labels for a classifier, named outputs otherwise."""
        model = self.get(name)
        spec = self._states[name].spec
        outputs = self.run(name, *model.image_input(image))
        return describe_outputs(outputs, model.labels, spec.param("activation", "softmax"), spec.top_k)

    # -- loading --------------------------------------------------------------------------
    def load(self, name):
        """Load a model once (thread-safe); returns its state, ready or failed."""
        state = self.state(name)
        if state.status in ("ready", "failed"):
            return state
        with state.lock:
            if state.status in ("ready", "failed"):
                return state
            state.status = "loading"
            started = time.perf_counter()
            try:
                state.model = self._load_stages(state)
            except _StageFailure as failure:
                state.status, state.stage, state.error = "failed", failure.stage, str(failure)
                log.error("model %s failed at %s: %s (path: %s)", name, failure.stage, failure, state.path)
                if self.observer is not None:
                    self.observer.model_load_failed(name, failure.stage)
            else:
                state.status = "ready"
            state.load_seconds = round(time.perf_counter() - started, 4)
        return state

    def load_all(self, required_only=False):
        """Load every (required) model; returns their states."""
        return [self.load(name) for name, state in self._states.items()
                if state.spec.required or not required_only]

    def inspect(self, name):
        """Check a model's runtime is installed, resolve and inspect its file without loading it."""
        state = self.state(name)
        try:
            self._resolve_and_inspect(state)
        except _StageFailure as failure:
            return failure.stage, str(failure)
        return None, None

    def runtime_missing(self, name):
        """What to install before this model can load here, or None (a deploy mistake, not a bad file)."""
        return runtime_missing(self.state(name).spec.runtime)

    def _resolve_and_inspect(self, state):
        spec = state.spec
        missing = runtime_missing(spec.runtime)
        if missing:  # a load-stage failure, found before anything is downloaded for nothing
            raise _StageFailure("load", missing)
        try:
            state.path = sources.resolve(spec)
        except sources.SourceError as error:
            raise _StageFailure(error.stage, str(error)) from None
        state.report = report = inspect_file(state.path)
        if report.verdict not in ACCEPTED_VERDICTS[spec.runtime]:
            problem = report.problem or f"a {report.verdict} file is not a {spec.runtime} model"
            raise _StageFailure("inspect", f"{report.verdict}: {problem} ({state.path})")
        if spec.sha256 and report.sha256 != spec.sha256:
            raise _StageFailure("inspect", f"sha256 mismatch: pinned {spec.sha256}, file has {report.sha256}")

    def _load_stages(self, state):
        self._resolve_and_inspect(state)
        model = self._stage("load", _load_runtime, state.spec, state.path, self._threads)
        loaded = getattr(model, "sha256", None)
        if loaded and loaded != state.report.sha256:
            raise _StageFailure("load", "the file changed between inspection and loading "
                                        f"(inspected {state.report.sha256}, loaded {loaded})")
        self._stage("allocate", model.allocate)
        self._stage("warmup", lambda: model.run(*model.neutral_input()))
        return model

    @staticmethod
    def _stage(stage, function, *args):
        try:
            return function(*args)
        except Exception as error:  # any runtime error is this stage's failure, recorded verbatim
            raise _StageFailure(stage, f"{type(error).__name__}: {error}") from error

    # -- readiness and reports ------------------------------------------------------------
    def readiness(self):
        """(ready, reasons): ready when every required model is loaded in this worker."""
        reasons = []
        for name, state in self._states.items():
            if not state.spec.required or state.status == "ready":
                continue
            if state.status == "failed":
                verdict = state.report.verdict if state.report else None
                reasons.append({"model": name, "status": "failed", "stage": state.stage, "verdict": verdict})
            else:
                reasons.append({"model": name, "status": state.status})
        return not reasons, reasons

    def summaries(self):
        """Every model's summary, in spec order."""
        return [state.summary() for state in self._states.values()]


class BudgetedRegistry:
    """A view of a registry that charges every model run to one request's WorkBudget (its deadline,
    and within the face search its budget of runs); everything else is the registry's own."""

    def __init__(self, registry, budget):
        self._registry = registry
        self.budget = budget

    def run(self, name, *inputs):
        """Charge, then run one inference."""
        self.budget.spend(name)
        return self._registry.run(name, *inputs)

    def predict(self, name, image):
        """Charge, then run an analyzer."""
        self.budget.spend(name)
        return self._registry.predict(name, image)

    def __getattr__(self, attribute):
        return getattr(self._registry, attribute)
