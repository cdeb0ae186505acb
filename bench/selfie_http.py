"""The typical selfie over HTTP: validate, analyze/image and analyze/by-id on real gunicorn (one
worker), this tree against a git ref served side by side and asked in turn, request by request;
validate against the bare floor measured in the same run; and two workers' throughput against one's.

The bare floor is what no validate can do without: Pillow's draft decode, BlazeFace short range on
the letterboxed photo, and the square crop, as functions in this process (no web stack, no mesh,
no checks, no store).

    .venv/bin/python bench/selfie_http.py                   # against the session's starting main
    .venv/bin/python bench/selfie_http.py --ref main~5 --requests 30 --seconds 10
"""
import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from common import worker_registry  # noqa: E402
from photos import encode, large_selfie  # noqa: E402
from server import call, gunicorn  # noqa: E402

DEFAULT_REF = "4de1827"  # main when this round of work began
ENDPOINTS = ("validate", "analyze/image", "analyze/by-id")


def _exported(ref, folder):
    """The ref's service files (package, wsgi.py, gunicorn.conf.py) in `folder`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "ananacare", "wsgi.py", "gunicorn.conf.py"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def _timed_call(base, data, path="/api/validate/image", content_type="image/jpeg"):
    started = time.perf_counter()
    status, body, headers = call(base, path, data, content_type)
    assert status == 200, (status, body)
    return (time.perf_counter() - started) * 1000


def _requests(base, data):
    """{endpoint: (path, body, content type)} for one photo on one server (by-id on its stored crop)."""
    status, body, _ = call(base, "/api/validate/image", data, "image/jpeg")
    assert status == 200, (status, body)
    by_id = json.dumps({"image_id": body["image_id"]}).encode()
    return {"validate": ("/api/validate/image", data, "image/jpeg"),
            "analyze/image": ("/api/analyze/image", data, "image/jpeg"),
            "analyze/by-id": ("/api/analyze/by-id", by_id, "application/json")}


def bare_floor(data, repeats):
    """Median ms of draft decode + BlazeFace short range + the 512 square crop, in process."""
    from PIL import Image

    from ananacare.preprocess.crop import crop_geometry, cut_square
    from ananacare.preprocess.detect import run_detector
    registry = worker_registry()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (1600, 1600))
        image = image.convert("RGB")
        faces = run_detector(image, registry, "face_detector_short", turns=(0,))
        cut_square(image, crop_geometry(max(faces, key=lambda f: f.size), 0.25, 512))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def throughput(base, data, seconds, clients=4):
    """Validates per second with `clients` clients asking back to back for `seconds`."""
    done = []
    stop = time.monotonic() + seconds

    def client():
        while time.monotonic() < stop:
            call(base, "/api/validate/image", data, "image/jpeg")
            done.append(1)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default=DEFAULT_REF, help="the git ref to compare with (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=20, help="requests per photo and server")
    parser.add_argument("--seconds", type=float, default=8, help="seconds per throughput run")
    args = parser.parse_args()
    photos = {"1 MP": encode(large_selfie(1), "JPEG", quality=90),
              "12 MP": encode(large_selfie(12), "JPEG", quality=90)}
    floors = {name: bare_floor(data, args.requests) for name, data in photos.items()}
    env = {"ANANACARE_STORE_MAX_BYTES": str(64 * 1024 ** 3)}
    with ExitStack() as stack:
        ref_folder = _exported(args.ref, stack.enter_context(tempfile.TemporaryDirectory(prefix="ref-")))
        here = stack.enter_context(gunicorn(Path(stack.enter_context(tempfile.TemporaryDirectory())), 1, env))
        there = stack.enter_context(gunicorn(Path(stack.enter_context(tempfile.TemporaryDirectory())), 1, env,
                                             root=Path(ref_folder)))
        asks = {(name, side): _requests(base, data) for name, data in photos.items()
                for side, base in (("tree", here), ("ref", there))}
        latency = {(name, side, endpoint): [] for (name, side) in asks for endpoint in ENDPOINTS}
        for (name, side), requests in asks.items():  # warm both
            for request in requests.values():
                _timed_call(here if side == "tree" else there, request[1], request[0], request[2])
        for index in range(args.requests):
            for name in photos:
                for endpoint in ENDPOINTS:
                    order = (("tree", here), ("ref", there)) if index % 2 == 0 else (("ref", there), ("tree", here))
                    for side, base in order:
                        path, data, content_type = asks[(name, side)][endpoint]
                        latency[(name, side, endpoint)].append(_timed_call(base, data, path, content_type))
        one = throughput(here, photos["1 MP"], args.seconds)
    with tempfile.TemporaryDirectory() as folder, gunicorn(Path(folder), 2, env) as both:
        two = throughput(both, photos["1 MP"], args.seconds)
    print(f"over HTTP, 1 worker, median of {args.requests} (this tree and {args.ref} asked in turn):")
    print(f"{'endpoint':>13}  {'photo':>6}  {'bare floor':>10}  {args.ref:>10}  {'this tree':>10}  {'ratio':>6}  "
          f"{'x floor':>8}")
    for endpoint in ENDPOINTS:
        for name in photos:
            ref, tree = (statistics.median(latency[(name, side, endpoint)]) for side in ("ref", "tree"))
            floor = f"{floors[name]:>8.1f}ms" if endpoint == "validate" else f"{'':>10}"
            times_floor = f"{tree / floors[name]:>7.2f}x" if endpoint == "validate" else ""
            print(f"{endpoint:>13}  {name:>6}  {floor}  {ref:>8.1f}ms  {tree:>8.1f}ms  {tree / ref:>5.2f}x  "
                  f"{times_floor}")
    print(f"throughput on 1 MP selfies (4 clients, {args.seconds:g} s): 1 worker {one:.1f}/s, 2 workers {two:.1f}/s,"
          f" {two / one:.2f}x")


if __name__ == "__main__":
    main()
