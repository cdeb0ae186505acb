"""Shared bench helpers: timing loops, medians, the tests' photo builders, a printed table."""
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def timed(function, repeats, warmup=2):
    """Run `function` warmup + repeats times; the list of wall times (seconds) of the timed runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def median_ms(times):
    """Median in milliseconds."""
    return statistics.median(times) * 1000


def p95_ms(times):
    """95th percentile in milliseconds."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] * 1000


def print_table(headers, rows):
    """A plain aligned text table."""
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths)))


def worker_memory():
    """This process's malloc tuned as a gunicorn worker's is (when the code has the tuning)."""
    try:
        from ananacare.worker_memory import tune_malloc
    except ImportError:
        return
    tune_malloc()


def worker_registry(code_root=None):
    """The default models loaded with one thread per model, as in a gunicorn worker of 2 on 2 cores
    (malloc too); `code_root`: the folder whose ananacare to import (a ref's exported copy), put first."""
    if code_root is not None:
        sys.path.insert(0, str(code_root))
    worker_memory()
    from ananacare.models import ModelRegistry, load_specs
    registry = ModelRegistry(load_specs(), threads=1)
    registry.load_all()
    return registry


def pipeline_validator(registry):
    """validate_image on the default settings as a function: photo bytes -> (Validation, StageTimer)."""
    from ananacare.preprocess import PipelineSettings, validate_image
    from ananacare.timing import StageTimer
    settings = PipelineSettings()

    def validate(data):
        timer = StageTimer()
        return validate_image(data, registry, settings, timer), timer
    return validate


def loaded_app():
    """The app on its default models, loaded as a gunicorn worker would be, with a temp crop store."""
    from ananacare import create_app, load_models

    worker_memory()
    app = create_app({"CACHE_DIR": tempfile.mkdtemp(prefix="bench-crops-")})
    load_models(app)
    return app


class RefChild:
    """A git ref's `ananacare` (exported to a temp folder) run by `script --code FOLDER --serve` in a
    child process: one request line in, one JSON line out, so its runs interleave with this tree's."""

    def __init__(self, ref, script, *extra):
        self.folder = tempfile.TemporaryDirectory(prefix="ananacare-baseline-")
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "ananacare"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", self.folder.name], input=archive, check=True)
        self.child = subprocess.Popen([sys.executable, script, "--code", self.folder.name, "--serve", *extra],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True)

    def ask(self, line):
        """Send one request line; the child's JSON answer."""
        self.child.stdin.write(f"{line}\n")
        self.child.stdin.flush()
        return json.loads(self.child.stdout.readline())

    def close(self):
        """Stop the child and remove the exported code."""
        self.child.stdin.close()
        self.child.wait()
        self.folder.cleanup()
