"""Peak RSS of a worker for one upload of each input kind at the largest size the limits admit.

Each upload runs in a fresh process (tests/memory_probe.py) on the default models; VmHWM before the
request is the baseline of the same run. Prints a table; goal: every kind <= 400 MB.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time

from common import ROOT, print_table

from memory_probe import KINDS, big_upload
from photos import photo


def probe(data, content_type):
    """The child's JSON answer for one upload."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        result = subprocess.run([sys.executable, str(ROOT / "tests" / "memory_probe.py"), handle.name, content_type],
                                capture_output=True, text=True, timeout=300, cwd=ROOT)
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(sides=(7000,)):
    """Probe every kind at each side length."""
    face = photo("astronaut")
    rows = []
    for side in sides:
        for kind, (_, _, content_type) in KINDS.items():
            started = time.perf_counter()
            data = big_upload(kind, side, side, face)
            answer = probe(data, content_type)
            rows.append([kind, f"{side}x{side}", f"{len(data) / 1e6:.2f} MB", answer["status"], answer["code"] or "-",
                         answer["hwm_before_mb"], answer["hwm_after_mb"], f"{time.perf_counter() - started:.1f}s"])
            print(rows[-1], flush=True)
    print_table(["kind", "pixels", "upload", "status", "code", "VmHWM before (MB)", "VmHWM after (MB)", "time"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sides", nargs="*", type=int, default=[7000], help="side lengths in pixels (default 7000)")
    main(tuple(parser.parse_args().sides))
