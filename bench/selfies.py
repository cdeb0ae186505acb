"""Validate latency on single-face selfies, this tree against a git ref in the same run.

`validate_image` (the bare pipeline, one thread per model, as a gunicorn worker of 2 on 2 cores)
on scikit-image's astronaut as the 300 px selfie.jpg of the repository, as a 512 px JPEG, and
upscaled to 1 MP and 12 MP (bench/run.py's photos); the ref's `ananacare` runs in a child process,
the two alternating request by request (the machine is shared). Prints medians of the whole
validate and of its `detect` stage, and the ratio of this tree to the ref.

    .venv/bin/python bench/selfies.py [--baseline REF]   # default: main before issue 15's detection
"""
import argparse
import json
import os
import statistics
import sys
import time

from common import ROOT, RefChild, pipeline_validator, worker_registry

from photos import encode, large_selfie, photo


def selfies():
    """{label: JPEG bytes} of the single-face photos measured."""
    return {"selfie.jpg": (ROOT / "selfie.jpg").read_bytes(),
            "astronaut 512": encode(photo("astronaut"), "JPEG", quality=92),
            "1 MP": encode(large_selfie(1), "JPEG", quality=90),
            "12 MP": encode(large_selfie(12), "JPEG", quality=90)}


def validator(code_root):
    """A function: JPEG bytes -> (seconds, detect seconds, faces) with the ananacare under `code_root`."""
    run = pipeline_validator(worker_registry(code_root))

    def validate(data):
        started = time.perf_counter()
        result, timer = run(data)
        return time.perf_counter() - started, timer.stages.get("detect", 0.0), len(result.faces)
    return validate


class Baseline(RefChild):
    """The ref's `ananacare` validating in a child process of this script on request."""

    def __init__(self, ref):
        super().__init__(ref, __file__)

    def validate(self, label):
        return tuple(self.ask(label))


def serve(code):
    """The child's loop: a photo label per line in, [seconds, detect seconds, faces] per line out."""
    validate, photos = validator(code), selfies()
    for line in sys.stdin:
        print(json.dumps(validate(photos[line.strip()])), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="a43b4af^1", help="git ref of the code to compare with "
                        "(default: main before issue 15's detection)")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.code)
        return

    photos = selfies()
    baseline, validate = Baseline(args.baseline), validator(ROOT)
    runs = {label: ([], []) for label in photos}
    try:
        for label, data in photos.items():  # warm up both sides
            baseline.validate(label), validate(data)
        for _ in range(args.repeats):
            for label, data in photos.items():
                runs[label][0].append(baseline.validate(label))
                runs[label][1].append(validate(data))
    finally:
        baseline.close()

    print(f"validate_image, median of {args.repeats} alternating runs, {os.cpu_count()} cores; "
          f"ms: {args.baseline} -> this tree (ratio)")
    print(f"{'photo':14} {'validate':>24} {'detect':>24} {'faces':>6}")
    for label, (before, after) in runs.items():
        cells = []
        for column in (0, 1):
            old = statistics.median(r[column] for r in before) * 1000
            new = statistics.median(r[column] for r in after) * 1000
            cells.append(f"{old:6.1f} -> {new:6.1f} ({new / old:.2f}x)")
        faces = f"{before[0][2]} / {after[0][2]}"
        print(f"{label:14} {cells[0]:>24} {cells[1]:>24} {faces:>6}")


if __name__ == "__main__":
    main()
