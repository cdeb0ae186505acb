"""The service benchmark: real gunicorn with the default models on loopback, against the bare
pipeline measured in the same run. Prints one table and writes bench/results/bench.json and
bench/results/bench.png.

- latency (median, p95) of validate, analyze/image and analyze/by-id for 1, 12 and 24 MP JPEGs
- the bare pipeline (decode, detect, landmarks, checks, crop, encode; called as functions)
- throughput of validate with 1 and 2 workers; time from start to /readyz 200; RSS per worker

Run: make bench   (or .venv/bin/python bench/run.py [--requests 15] [--seconds 8])
Targets: validate <= 1.3x bare; 2 workers >= 1.6x 1 worker; ready <= 3 s; RSS <= 250 MB/worker;
24 MP validate <= 4x 1 MP.
"""
import argparse
import json
import os
import platform
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from common import ROOT, median_ms, p95_ms, print_table, timed, worker_registry

from ananacare.image_cache import encode_crop
from ananacare.image_cache.base import EncodedSkin
from ananacare.preprocess import PipelineSettings, validate_image
from photos import encode, large_selfie
from server import call, gunicorn, memory_mb

RESULTS = ROOT / "bench" / "results"
SIZES = (1, 12, 24)


def bare_pipeline(photos, repeats):
    """The pipeline as functions, in this process: validate_image + encoding the crop and the skin
    crop (what the store writes; the endpoint's store step is then only the I/O)."""
    registry = worker_registry()
    settings = PipelineSettings()

    def run(data):
        result = validate_image(data, registry, settings)
        encode_crop(result.crop)
        if result.skin_crop is not None:
            EncodedSkin.of(result.skin_crop)

    return {mp: timed(lambda data=data: run(data), repeats) for mp, data in photos.items()}


def endpoint_latency(base, photos, repeats):
    """Sequential latency per endpoint and photo size through HTTP."""
    results = {}
    for mp, data in photos.items():
        results[("validate", mp)] = timed(lambda: call(base, "/api/validate/image", data, "image/jpeg"), repeats)
        results[("analyze/image", mp)] = timed(lambda: call(base, "/api/analyze/image", data, "image/jpeg"), repeats)
        image_id = call(base, "/api/validate/image", data, "image/jpeg")[1]["image_id"]
        body = json.dumps({"image_id": image_id}).encode()
        results[("analyze/by-id", mp)] = timed(lambda: call(base, "/api/analyze/by-id", body, "application/json"),
                                               repeats)
    return results


def throughput(base, data, seconds, clients=4):
    """Validate requests per second with `clients` concurrent clients for `seconds` (bounded)."""
    done, failed, stop = [0], [0], time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        while time.monotonic() < stop:
            status = call(base, "/api/validate/image", data, "image/jpeg")[0]
            with lock:
                done[0] += status == 200
                failed[0] += status != 200

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started), failed[0]


def serve_and_measure(workers, photos, args, with_latency):
    """Boot gunicorn with `workers`; readiness time, RSS per worker, latency (optional), throughput."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{workers}w-"))
    started = time.monotonic()
    with gunicorn(work, workers=workers, env={"GUNICORN_LOGLEVEL": "warning"}) as base:
        ready_s = time.monotonic() - started
        deadline = time.monotonic() + 30
        while len(base.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(3):
            call(base, "/api/validate/image", photos[1], "image/jpeg")  # warm every worker's caches
        latency = endpoint_latency(base, photos, args.requests) if with_latency else {}
        rate, failed = throughput(base, photos[1], args.seconds)
        rss = [round(memory_mb(pid), 1) for pid in base.worker_pids()]
    return {"ready_s": ready_s, "rss_mb": rss, "latency": latency, "rps": rate, "failed": failed}


def chart(rows, path):
    """A bar chart (Pillow) of median latency: bare pipeline against the service, per size."""
    from PIL import Image, ImageDraw

    width, height, left, bottom = 900, 420, 70, 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    top = max(max(r["bare_ms"], r["validate_ms"], r["analyze_ms"]) for r in rows) * 1.15
    scale = (height - bottom - 40) / top
    colours = {"bare pipeline": (150, 150, 150), "validate": (242, 169, 0), "analyze/image": (30, 120, 200)}
    group = (width - left - 20) / len(rows)
    for i, row in enumerate(rows):
        for j, (name, key) in enumerate((("bare pipeline", "bare_ms"), ("validate", "validate_ms"),
                                         ("analyze/image", "analyze_ms"))):
            x0 = left + i * group + 20 + j * (group - 40) / 3
            x1 = x0 + (group - 40) / 3 - 6
            y0 = height - bottom - row[key] * scale
            draw.rectangle((x0, y0, x1, height - bottom), fill=colours[name])
            draw.text((x0, y0 - 14), f"{row[key]:.0f}", fill="black")
        draw.text((left + i * group + group / 2 - 20, height - bottom + 8), f"{row['mp']} MP", fill="black")
    draw.line((left, 30, left, height - bottom), fill="black")
    draw.line((left, height - bottom, width - 20, height - bottom), fill="black")
    draw.text((8, 12), "median latency, ms (gunicorn, 2 workers, loopback)", fill="black")
    for k, (name, colour) in enumerate(colours.items()):
        draw.rectangle((left + 10 + k * 170, height - 24, left + 24 + k * 170, height - 12), fill=colour)
        draw.text((left + 30 + k * 170, height - 26), name, fill="black")
    image.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=15, help="sequential requests per endpoint and size")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each throughput run")
    args = parser.parse_args()
    photos = {mp: encode(large_selfie(mp), "JPEG", quality=90) for mp in SIZES}

    bare = bare_pipeline(photos, args.requests)
    one = serve_and_measure(1, photos, args, with_latency=False)
    two = serve_and_measure(2, photos, args, with_latency=True)

    rows = []
    for mp in SIZES:
        names = ("validate", "analyze/image", "analyze/by-id")
        validate, analyze, by_id = (two["latency"][(name, mp)] for name in names)
        rows.append({"mp": mp, "jpeg_mb": round(len(photos[mp]) / 1e6, 2), "bare_ms": median_ms(bare[mp]),
                     "validate_ms": median_ms(validate), "validate_p95_ms": p95_ms(validate),
                     "analyze_ms": median_ms(analyze), "analyze_p95_ms": p95_ms(analyze),
                     "by_id_ms": median_ms(by_id), "by_id_p95_ms": p95_ms(by_id),
                     "overhead": median_ms(validate) / median_ms(bare[mp])})
    summary = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "throughput_rps": {"1 worker": one["rps"], "2 workers": two["rps"], "ratio": two["rps"] / one["rps"]},
        "failed_requests": one["failed"] + two["failed"],
        "ready_s": {"1 worker": one["ready_s"], "2 workers": two["ready_s"]},
        "rss_mb_per_worker": two["rss_mb"],
        "validate_24mp_over_1mp": rows[-1]["validate_ms"] / rows[0]["validate_ms"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(summary, indent=2))
    chart(rows, RESULTS / "bench.png")

    print(f"AnanaCare benchmark, {summary['date']}, {summary['machine']}; gunicorn on loopback, "
          f"{args.requests} sequential requests per cell")
    print_table(["photo", "JPEG MB", "bare ms", "validate med/p95 ms", "analyze med/p95 ms", "by-id med/p95 ms",
                 "validate / bare"],
                [[f"{r['mp']} MP", r["jpeg_mb"], f"{r['bare_ms']:.1f}",
                  f"{r['validate_ms']:.1f} / {r['validate_p95_ms']:.1f}",
                  f"{r['analyze_ms']:.1f} / {r['analyze_p95_ms']:.1f}",
                  f"{r['by_id_ms']:.1f} / {r['by_id_p95_ms']:.1f}", f"{r['overhead']:.2f}x"] for r in rows])
    t = summary["throughput_rps"]
    print(f"throughput (validate 1 MP, 4 clients, {args.seconds:.0f} s): 1 worker {t['1 worker']:.1f} req/s, "
          f"2 workers {t['2 workers']:.1f} req/s, ratio {t['ratio']:.2f}x (target >= 1.6x); "
          f"failed requests: {summary['failed_requests']}")
    print(f"start to /readyz 200: 1 worker {one['ready_s']:.2f} s, 2 workers {two['ready_s']:.2f} s (target <= 3 s)")
    print(f"RSS per worker: {', '.join(f'{v:.0f} MB' for v in two['rss_mb'])} (target <= 250 MB)")
    print(f"24 MP / 1 MP validate: {summary['validate_24mp_over_1mp']:.2f}x (target <= 4x)")
    print(f"written: {RESULTS / 'bench.json'}, {RESULTS / 'bench.png'}")


if __name__ == "__main__":
    main()
