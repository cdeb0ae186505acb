"""Per model: load time, first and median inference, process RSS before and after loading; and a
timm model's median inference through the registry against a direct `model(x)` call.

Each model is measured in a fresh process (as a gunicorn worker loads it), so RSS figures are the
cost of that model alone. The timm model is resnet18 with random weights (the platform's trained
weights are not public), saved in the hub layout and served from a path: source.

Run: .venv/bin/python bench/models.py [--repeats 50]      Target: registry / direct <= 1.1x
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median_ms, print_table, timed

TIMM_SPEC = """
[models.resnet18_analyzer]
runtime = "timm"
source = "path:{folder}"
role = "analyzer"
"""


def rss_mb():
    """Resident set size of this process in MB (from /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure_one(name, repeats):
    """Load one model in this fresh process and time it; prints one JSON line."""
    from ananacare import create_app
    from ananacare.models import model_registry

    app = create_app({"CACHE_DIR": tempfile.mkdtemp()})
    with app.app_context():
        registry = model_registry()
        before = rss_mb()
        state = registry.load(name)
        after = rss_mb()
        if state.status != "ready":
            print(json.dumps({"name": name, "error": f"[{state.stage}] {state.error}"}))
            return
        model = state.model
        batch = model.neutral_input()
        started = time.perf_counter()
        registry.run(name, *batch)
        first = (time.perf_counter() - started) * 1000
        through_registry = timed(lambda: registry.run(name, *batch), repeats)
        record = {"name": name, "runtime": state.spec.runtime, "load_s": state.load_seconds, "first_ms": first,
                  "median_ms": median_ms(through_registry), "rss_before_mb": before, "rss_after_mb": after}
        if state.spec.runtime == "timm":
            import torch

            tensor = torch.as_tensor(batch[0])

            def direct():
                with torch.inference_mode():
                    model.model(tensor)

            direct_times, registry_times = [], []
            for _ in range(repeats):  # interleaved: both see the same machine state
                direct_times += timed(direct, 1, warmup=0)
                registry_times += timed(lambda: registry.run(name, *batch), 1, warmup=0)
            record |= {"direct_ms": median_ms(direct_times), "registry_ms": median_ms(registry_times)}
        print(json.dumps(record))


def build_timm_folder(folder):
    """resnet18, random weights, 5 classes, saved as timm's save_for_hf writes it."""
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False, num_classes=5)
    labels = ["dry", "normal", "oily", "combination", "sensitive"]
    timm.models.save_for_hf(model, folder, model_config={"label_names": labels}, safe_serialization=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure_one(args.one, args.repeats)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-models-"))
    subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = {[str(ROOT / 'bench')]!r}; "
                    f"from models import build_timm_folder; build_timm_folder({str(work / 'resnet18')!r})"],
                   check=True, capture_output=True)
    from importlib import resources

    spec = work / "models.toml"
    package = resources.files("ananacare.models")  # the default's path: sources, named in full for a copy
    defaults = package.joinpath("default_models.toml").read_text().replace('"path:data/', f'"path:{package}/data/')
    spec.write_text(defaults + TIMM_SPEC.format(folder=work / "resnet18"))
    env = {**os.environ, "ANANACARE_MODELS_FILE": str(spec), "WEB_CONCURRENCY": "1"}
    names = ["face_detector_short", "face_detector_full", "face_landmarks", "resnet18_analyzer"]
    records = []
    for name in names:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--repeats", str(args.repeats)],
                             env=env, capture_output=True, text=True, check=True)
        records.append(json.loads(out.stdout.strip().splitlines()[-1]))

    rows = [[r["name"], r.get("runtime", "-"), f"{r.get('load_s', 0) * 1000:.0f}", f"{r.get('first_ms', 0):.2f}",
             f"{r.get('median_ms', 0):.2f}", f"{r.get('rss_before_mb', 0):.0f}", f"{r.get('rss_after_mb', 0):.0f}",
             f"{r.get('rss_after_mb', 0) - r.get('rss_before_mb', 0):+.0f}"] for r in records]
    print(f"models, {args.repeats} timed inferences each, {os.cpu_count()} cores, one fresh process per model")
    print_table(["model", "runtime", "load ms", "first ms", "median ms", "RSS before MB", "RSS after MB", "delta"],
                rows)
    for record in records:
        if "error" in record:
            print(f"{record['name']}: FAILED {record['error']}")
        if "direct_ms" in record:
            ratio = record["registry_ms"] / record["direct_ms"]
            print(f"{record['name']}: registry {record['registry_ms']:.2f} ms vs direct model(x) "
                  f"{record['direct_ms']:.2f} ms = {ratio:.3f}x (target <= 1.1x)")


if __name__ == "__main__":
    main()
