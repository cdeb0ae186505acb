"""What a deploy costs: venv size, `make run` from a clean clone to ready, cold start, worker RSS.

Everything happens in a throw-away folder under /tmp (deleted at the end unless --keep):
1. clone the repository's committed HEAD twice; `make run` in the first (fills pip's cache), then
   time `make run` in the second from `git clone` to the first `/readyz` 200 (warm pip cache);
2. size of that `.venv` (requirements.txt alone), largest packages;
3. cold start, process start to `/readyz` 200, for 1 and 2 gunicorn workers (median of --repeats);
4. worker RSS with the default models after a few validate requests;
5. `pip install -r requirements-timm.txt` into the same venv: size, and the nvidia-*/triton share;
6. worker RSS and cold start with one timm analyzer (resnet18, random weights) loaded as well.
The servers run on the fresh venv; this script (with the tests' photo helpers) on the dev venv.
Results: printed, and written to bench/results/deploy.json.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from common import ROOT, print_table
from photos import jpeg
from server import child_pids, free_port, memory_mb, stop

MB = 2 ** 20
CUDA_PREFIXES = ("nvidia", "triton")


def dir_mb(path):
    """Bytes of the regular files under a path, in MB (what an image layer stores)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = os.path.join(folder, name)
            if not os.path.islink(file):
                total += os.path.getsize(file)
    return total / MB


def site_packages(venv):
    """The venv's site-packages folder."""
    return next(Path(venv).glob("lib/python*/site-packages"))


def largest_packages(venv, count=8):
    """[(name, MB)] of the largest top-level entries of site-packages."""
    sizes = [(entry.name, dir_mb(entry)) for entry in site_packages(venv).iterdir() if entry.is_dir()]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def clean_env(work, **extra):
    """The environment of a server under test: no developer settings, offline, a temp store."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANANACARE_", "HF_", "GUNICORN_")) and k not in ("PORT", "PYTHONPATH", "REDIS_URL")}
    return {**env, "ANANACARE_CACHE_DIR": str(work / "crops"), "HF_HOME": str(work / "hf"), "HF_HUB_OFFLINE": "1",
            **extra}


def ready_after(command, cwd, env, port, timeout=900):
    """Start `command`; (seconds until /readyz answers 200, process). The caller stops it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started, process
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.05)
    stop(process)
    raise TimeoutError(f"{command} not ready after {timeout}s")


def post(port, path, data):
    """POST a JPEG; the HTTP status."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "image/jpeg"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def serve(venv_root, work, workers, repeats, models_file=None, requests=()):
    """Cold starts of gunicorn (median s, all) and the worker RSS after `requests` on the last start."""
    extra = {"ANANACARE_MODELS_FILE": str(models_file)} if models_file else {}
    times, rss = [], None
    for attempt in range(repeats):
        port = free_port()
        env = clean_env(work, WEB_CONCURRENCY=str(workers), GUNICORN_BIND=f"127.0.0.1:{port}", **extra)
        seconds, process = ready_after([str(venv_root / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                                       venv_root, env, port)
        times.append(seconds)
        if attempt == repeats - 1:
            for path, data in requests:
                assert post(port, path, data) == 200, path
            time.sleep(0.5)
            rss = max(memory_mb(pid) for pid in child_pids(process.pid))
        stop(process)
    return {"median_s": round(statistics.median(times), 2), "all_s": [round(t, 2) for t in times],
            "worker_rss_mb": round(rss, 1) if rss else None}


def make_run(clone, work):
    """`make run` in a fresh clone: seconds to /readyz 200 (venv built from nothing)."""
    port = free_port()
    seconds, process = ready_after(["make", "run"], clone, clean_env(work, PORT=str(port)), port)
    stop(process)
    return seconds


def timm_models_file(clone, work):
    """A models file: the default entries plus a resnet18 timm analyzer built with the clone's venv."""
    folder = work / "resnet18"
    code = ("import sys; sys.path[:0] = ['bench']; from models import build_timm_folder; "
            f"build_timm_folder({str(folder)!r})")
    subprocess.run([str(clone / ".venv/bin/python"), "-c", code], cwd=clone, check=True, capture_output=True)
    package = clone / "ananacare/models"
    defaults = (package / "default_models.toml").read_text().replace('"path:data/', f'"path:{package}/data/')
    path = work / "models.toml"
    path.write_text(defaults + f'\n[models.resnet18_analyzer]\nruntime = "timm"\nsource = "path:{folder}"\n'
                               f'role = "analyzer"\n')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold starts per worker count")
    parser.add_argument("--skip-timm", action="store_true", help="stop before installing the timm runtime")
    parser.add_argument("--keep", action="store_true", help="keep the /tmp folder")
    parser.add_argument("--timm-extra-index-url", default=None,
                        help="extra index for the timm install, e.g. https://download.pytorch.org/whl/cpu")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ananacare-deploy-", dir="/tmp"))
    results = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "python": platform.python_version()}
    photo = jpeg()
    try:
        first, clone = work / "first", work / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(first)], check=True)
        results["make_run_first_s"] = round(make_run(first, work), 1)
        shutil.rmtree(first)
        started = time.perf_counter()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        results["make_run_warm_s"] = round(time.perf_counter() - started + make_run(clone, work), 1)
        results["venv_mb"] = round(dir_mb(clone / ".venv"), 1)
        results["venv_largest"] = [(name, round(size, 1)) for name, size in largest_packages(clone / ".venv")]
        validate = [("/api/validate/image", photo)] * 3
        for workers in (1, 2):
            results[f"default_{workers}_workers"] = serve(clone, work, workers, args.repeats, requests=validate)
        if not args.skip_timm:
            index = ["--extra-index-url", args.timm_extra_index_url] if args.timm_extra_index_url else []
            subprocess.run([str(clone / ".venv/bin/pip"), "install", "--quiet", "--disable-pip-version-check",
                            *index, "-r", "requirements-timm.txt"], cwd=clone, check=True)
            results["timm_extra_index_url"] = args.timm_extra_index_url
            packages = site_packages(clone / ".venv")
            results["timm_venv_mb"] = round(dir_mb(clone / ".venv"), 1)
            results["timm_cuda_mb"] = round(sum(dir_mb(p) for p in packages.iterdir()
                                                if p.name.lower().startswith(CUDA_PREFIXES)), 1)
            results["timm_torch_mb"] = round(dir_mb(packages / "torch"), 1)
            models_file = timm_models_file(clone, work)
            analyze = [("/api/analyze/image", photo)] * 3
            results["timm_1_worker"] = serve(clone, work, 1, args.repeats, models_file, analyze)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results):
    """Print the figures and write bench/results/deploy.json."""
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "deploy.json").write_text(json.dumps(results, indent=2))
    rows = [["fresh .venv, requirements.txt", f"{results['venv_mb']:.0f} MB", "<= 350 MB"],
            ["make run, clean clone -> readyz 200 (first, cold pip cache)", f"{results['make_run_first_s']} s", ""],
            ["make run, clean clone -> readyz 200 (warm pip cache)", f"{results['make_run_warm_s']} s", "<= 60 s"]]
    for workers in (1, 2):
        cell = results[f"default_{workers}_workers"]
        rows.append([f"cold start -> readyz 200, {workers} worker(s)", f"{cell['median_s']} s {cell['all_s']}", ""])
    rows.append(["worker RSS, default models", f"{results['default_1_workers']['worker_rss_mb']} MB", "<= 150 MB"])
    if "timm_venv_mb" in results:
        source = results["timm_extra_index_url"] or "PyPI torch"
        rows += [[f"+ requirements-timm.txt ({source})", f"{results['timm_venv_mb']:.0f} MB", ""],
                 ["  of which nvidia-* and triton (CUDA)", f"{results['timm_cuda_mb']:.0f} MB", ""],
                 ["  torch package itself", f"{results['timm_torch_mb']:.0f} MB", ""],
                 ["cold start -> readyz 200, 1 worker, + timm analyzer",
                  f"{results['timm_1_worker']['median_s']} s {results['timm_1_worker']['all_s']}", ""],
                 ["worker RSS, default models + timm analyzer", f"{results['timm_1_worker']['worker_rss_mb']} MB", ""]]
    print(f"{results['date']}, {results['machine']}, Python {results['python']}")
    print_table(["measure", "measured", "goal"], rows)
    print("largest packages (requirements.txt):", ", ".join(f"{n} {s:.0f} MB" for n, s in results["venv_largest"]))


if __name__ == "__main__":
    sys.exit(main())
