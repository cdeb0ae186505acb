"""A bounded load run: real gunicorn (2 workers) on loopback, validate and by-id offered at twice
the measured capacity for about 60 s by concurrent clients. Checks: no 5xx other than deliberate
503s, every image_id handed out is retrievable afterwards, worker RSS grows under 10%.

Run: make load   (or .venv/bin/python bench/load.py [--seconds 60] [--factor 2])
Exits 1 when a check fails.
"""
import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from common import median_ms, p95_ms

from photos import encode, photo
from PIL import ImageEnhance
from server import call, gunicorn, memory_mb


def uploads(count):
    """Distinct 1 MP-ish selfies (brightness steps), so each upload has its own id."""
    base = photo("astronaut").resize((1024, 1024))
    return [encode(ImageEnhance.Brightness(base).enhance(0.75 + 0.5 * i / count), "JPEG", quality=88)
            for i in range(count)]


def offered_load(base, photos, rate, seconds, clients=64):
    """Open-loop: requests start on a fixed schedule (rate per second), whatever the answers;
    nothing new starts after `seconds`."""
    statuses, latencies, ids = Counter(), [], []
    lock = threading.Lock()
    schedule = iter(range(int(rate * seconds)))
    started = time.monotonic()

    def client():
        while True:
            with lock:
                index = next(schedule, None)
            if index is None or time.monotonic() - started > seconds:
                return
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            begun = time.monotonic()
            try:
                if index % 2 == 0 or not ids:
                    status, body, _ = call(base, "/api/validate/image", photos[index % len(photos)], "image/jpeg",
                                           timeout=120)
                    if status == 200 and body.get("image_id"):
                        with lock:
                            ids.append(body["image_id"])
                else:
                    with lock:
                        image_id = ids[index % len(ids)]
                    status = call(base, "/api/analyze/by-id", json.dumps({"image_id": image_id}).encode(),
                                  "application/json", timeout=120)[0]
            except OSError:
                status = "connection error"
            with lock:
                statuses[status] += 1
                latencies.append(time.monotonic() - begun)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, latencies, ids, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--factor", type=float, default=2.0, help="offered load over measured capacity")
    args = parser.parse_args()
    photos = uploads(200)
    work = Path(tempfile.mkdtemp(prefix="load-"))
    env = {"GUNICORN_MAX_REQUESTS": "0", "GUNICORN_LOGLEVEL": "warning"}  # no recycling: RSS is comparable
    with gunicorn(work, workers=2, env=env) as base:
        # capacity for the same mix (half validate, half by-id): as fast as the clients can go, 6 s
        warm_statuses, _, _, warm_elapsed = offered_load(base, photos, 10_000, 6.0)
        capacity = sum(warm_statuses.values()) / warm_elapsed
        pids = base.worker_pids()
        rss_before = {pid: memory_mb(pid) for pid in pids}
        rate = capacity * args.factor
        print(f"capacity (half validate, half by-id) {capacity:.1f} req/s; "
              f"offering {rate:.1f} req/s for {args.seconds:.0f} s")
        statuses, latencies, ids, elapsed = offered_load(base, photos, rate, args.seconds)
        rss_after = {pid: memory_mb(pid) for pid in base.worker_pids()}
        missing = [image_id for image_id in set(ids) if call(
            base, "/api/analyze/by-id", json.dumps({"image_id": image_id}).encode(), "application/json")[0] != 200]
    server_errors = {status: n for status, n in statuses.items() if status != 503 and (
        not isinstance(status, int) or status >= 500)}
    growth = {pid: (rss_after.get(pid, float("nan")) - rss_before[pid]) / rss_before[pid] for pid in rss_before}
    print(f"{sum(statuses.values())} requests in {elapsed:.0f} s: {dict(statuses)}")
    print(f"latency under overload: median {median_ms(latencies):.0f} ms, p95 {p95_ms(latencies):.0f} ms")
    print(f"image_ids handed out: {len(set(ids))}; not retrievable afterwards: {len(missing)}")
    print("worker RSS: " + ", ".join(f"{rss_before[p]:.0f} -> {rss_after.get(p, float('nan')):.0f} MB "
                                     f"({growth[p] * 100:+.1f}%)" for p in rss_before))
    problems = []
    if server_errors:
        problems.append(f"5xx or connection errors: {server_errors}")
    if missing:
        problems.append(f"{len(missing)} image_ids not retrievable")
    if any(not g < 0.10 for g in growth.values()):
        problems.append("worker RSS grew by 10% or more (or a worker was replaced)")
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
