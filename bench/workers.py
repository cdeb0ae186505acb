"""Throughput of the gunicorn worker classes, measured in the same run: sync (the old default) against
gevent (the default since slow clients were found to stop sync workers).

Validate at 1 MP with 4 concurrent clients for SECONDS against 2 workers of each class, interleaved
ROUNDS times so load from elsewhere on the machine hits both alike; prints medians and the ratio.
"""
import argparse
import statistics
import tempfile
from pathlib import Path

from common import print_table

from photos import encode, large_selfie
from run import throughput
from server import call, gunicorn

ROUNDS, SECONDS = 3, 8.0


def measure(worker_class, data):
    """req/s of one fresh server with this worker class."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{worker_class}-"))
    env = {"GUNICORN_WORKER_CLASS": worker_class, "GUNICORN_LOGLEVEL": "warning"}
    with gunicorn(work, workers=2, env=env) as base:
        for _ in range(4):
            call(base, "/api/validate/image", data, "image/jpeg")  # warm both workers
        rate, failed = throughput(base, data, SECONDS)
    assert failed == 0, f"{failed} failed requests with {worker_class}"
    return rate


def main(classes=("sync", "gevent")):
    """Interleaved rounds per worker class; the table and the ratio to the first class."""
    data = encode(large_selfie(1), "JPEG", quality=90)
    rates = {name: [] for name in classes}
    for round_number in range(ROUNDS):
        for name in classes:
            rates[name].append(measure(name, data))
            print(f"round {round_number + 1}: {name} {rates[name][-1]:.1f} req/s", flush=True)
    baseline = statistics.median(rates[classes[0]])
    print_table(["worker class", "median req/s", "rounds", f"vs {classes[0]}"],
                [[name, f"{statistics.median(v):.1f}", " ".join(f"{x:.1f}" for x in v),
                  f"{statistics.median(v) / baseline:.2f}x"] for name, v in rates.items()])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("classes", nargs="*", default=["sync", "gevent"],
                        help="gunicorn worker classes, the first the baseline (default: sync gevent)")
    main(tuple(parser.parse_args().classes))
