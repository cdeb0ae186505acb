"""Face detection on the labelled evaluation set (bench/eval_set.py): recall, precision, photos
whose face count is exact, and median latency per photo, for this service and offline peers,
measured in the same run.

A detection matches a labelled face when its centre lies inside the face's box and its size
(square root of the area) is within 0.5-2x the face's; one detection per face. A detection whose
centre lies in an ignored region counts neither way.

    .venv/bin/python bench/detection.py                       # this tree's service, MediaPipe full range alone
    .venv/bin/python bench/detection.py --baseline main       # and the service as of a git ref, interleaved
    .venv/bin/python bench/detection.py --peers mtcnn         # and MTCNN (pip install mtcnn lz4 joblib)
    .venv/bin/python bench/detection.py --variants            # the same scenes mirrored, rescaled, turned
    .venv/bin/python bench/detection.py --variants --baseline main   # ... for this tree and the ref
    .venv/bin/python bench/detection.py --validate --baseline main   # validate_image timed, not find_faces

--variants: detection should not depend on which way a photo faces, how it is turned or its size,
and a set this small can be fitted by accident; each variant (mirrored, resized with LANCZOS,
turned with its canvas grown; labels following) is one more photo set of the same scenes.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from common import RefChild, pipeline_validator, worker_registry

ROOT = Path(__file__).resolve().parents[1]


def match(detections, faces, ignore):
    """(true positives, false positives) of detection boxes [x1, y1, x2, y2] against labelled ones."""
    free = list(range(len(faces)))
    hits = false = 0
    for box in sorted(detections, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        size = ((box[2] - box[0]) * (box[3] - box[1])) ** 0.5

        def fits(face):
            face_size = ((face[2] - face[0]) * (face[3] - face[1])) ** 0.5
            return face[0] <= cx <= face[2] and face[1] <= cy <= face[3] and 0.5 <= size / face_size <= 2.0
        candidates = [i for i in free if fits(faces[i])]
        if candidates:
            best = min(candidates, key=lambda i: (cx - (faces[i][0] + faces[i][2]) / 2) ** 2
                       + (cy - (faces[i][1] + faces[i][3]) / 2) ** 2)
            free.remove(best)
            hits += 1
        elif not any(g[0] <= cx <= g[2] and g[1] <= cy <= g[3] for g in ignore):
            false += 1
    return hits, false


VARIANTS = (("as is", 1.0, False, 0), ("mirrored", 1.0, True, 0), ("x0.7", 0.7, False, 0), ("x1.5", 1.5, False, 0),
            ("mirrored x0.5", 0.5, True, 0), ("turned 30", 1.0, False, 30), ("turned 135", 1.0, False, 135),
            ("turned 180", 1.0, False, 180), ("turned 270", 1.0, False, 270))


def variant(scene, factor, mirror, turn=0):
    """The scene resized by `factor`, mirrored left to right and/or turned counterclockwise by `turn`
    degrees (the canvas grown to hold it), its labels following."""
    from PIL import Image, ImageOps

    def boxes(items):
        items = [[v * factor for v in box] for box in items]
        items = [[width - b[2], b[1], width - b[0], b[3]] for b in items] if mirror else items
        return [turned_box(b, (width, height), turn) for b in items] if turn else items
    image = scene.image
    if factor != 1:
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                             Image.Resampling.LANCZOS)
    width, height = image.size
    image = ImageOps.mirror(image) if mirror else image
    if turn:
        image = image.rotate(turn, Image.Resampling.BICUBIC, expand=True)
    return type(scene)(scene.name, scene.kind, image, boxes(scene.faces), boxes(scene.ignore))


def turned_box(box, size, degrees):
    """A box [x1, y1, x2, y2] of a width x height image, in the image turned counterclockwise by
    `degrees` with its canvas grown: the box of its turned corners, shrunk about its centre by
    |cos| + |sin| (which that growth is for a square), so a face keeps its size."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    (width, height), grown = size, abs(cos) + abs(sin)
    turned_size = (abs(width * cos) + abs(height * sin), abs(width * sin) + abs(height * cos))
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - width / 2, y - height / 2
        xs.append(dx * cos + dy * sin + turned_size[0] / 2)
        ys.append(-dx * sin + dy * cos + turned_size[1] / 2)
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_w, half_h = (max(xs) - min(xs)) / grown / 2, (max(ys) - min(ys)) / grown / 2
    return [cx - half_w, cy - half_h, cx + half_w, cy + half_h]


def service_detector(code_root, whole_validate=False):
    """find_faces from the ananacare package under `code_root`, on the default models; with
    `whole_validate`, validate_image (decode, detection, checks, crops; what the issue's table timed)
    on the photo as a JPEG (quality 92, encoded on a photo's first call: take the fastest run)."""
    registry = worker_registry(code_root)
    from ananacare.preprocess.faces import find_faces
    if whole_validate:
        return _validator(registry)

    def detect(image):
        return [[f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]] for f in find_faces(image, registry)]
    return detect


def _validator(registry):
    import io
    run, encoded = pipeline_validator(registry), {}

    def validate(image):
        if id(image) not in encoded:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=92)
            encoded[id(image)] = (image, buffer.getvalue())  # the image kept: its id stays its own
        faces = run(encoded[id(image)][1])[0].faces
        return [[f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]] for f in faces]
    return validate


def full_range_detector():
    """MediaPipe's full-range model alone: upright input, its own 0.6 threshold, no mesh check."""
    from ananacare.preprocess.detect import merge_faces, run_detector
    registry = worker_registry()

    def detect(image):
        faces = merge_faces(run_detector(image, registry, "face_detector_full", turns=(0,)), 0.3)
        return [[f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]] for f in faces]
    return detect


def mtcnn_detector():
    """MTCNN 1.0.0 (TensorFlow, weights in its wheel) with its default thresholds."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    from mtcnn import MTCNN
    model = MTCNN(device="CPU:0")

    def detect(image):
        found = model.detect_faces(np.asarray(image))
        return [[d["box"][0], d["box"][1], d["box"][0] + d["box"][2], d["box"][1] + d["box"][3]] for d in found]
    return detect


def dlib_detector():
    """dlib's HOG frontal face detector, upsampling once (its usual setting for small faces)."""
    import dlib
    import numpy as np
    model = dlib.get_frontal_face_detector()

    def detect(image):
        return [[r.left(), r.top(), r.right(), r.bottom()] for r in model(np.asarray(image), 1)]
    return detect


DETECTORS = {"mtcnn": mtcnn_detector, "dlib": dlib_detector, "full_range": full_range_detector}


def evaluate(detect, scenes, repeats):
    """Per photo: (name, kind, faces, hits, false detections, detected count, fastest of the runs in seconds:
    the machine is shared, and the fastest run is the one least disturbed)."""
    detect(scenes[0].image)  # warm up
    rows = []
    for scene in scenes:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            boxes = detect(scene.image)
            times.append(time.perf_counter() - started)
        hits, false = match(boxes, scene.faces, scene.ignore)
        rows.append((scene.name, scene.kind, len(scene.faces), hits, false, len(boxes), min(times)))
    return rows


def summary(rows):
    faces = sum(r[2] for r in rows)
    hits = sum(r[3] for r in rows)
    false = sum(r[4] for r in rows)
    exact = sum(r[3] == r[2] and r[4] == 0 for r in rows)
    return {"recall": hits / faces, "precision": hits / max(1, hits + false), "exact": exact, "photos": len(rows),
            "faces": faces, "hits": hits, "false": false, "median_ms": statistics.median(r[6] for r in rows) * 1000,
            "mean_ms": statistics.mean(r[6] for r in rows) * 1000}


def by_kind(rows, with_faces):
    """Median ms over the photos with (or without) a labelled face: the held-out set's mix of the
    two differs from this set's (5 of 32 photos without a face there, 13 of 30 here)."""
    return statistics.median(r[6] for r in rows if (r[2] > 0) == with_faces) * 1000


class Baseline(RefChild):
    """The service as of git ref `ref` in a child process of this script, detecting on request."""

    def __init__(self, ref, factor=1.0, mirror=False, turn=0, whole_validate=False):
        super().__init__(ref, __file__, "--variant", f"{factor},{int(mirror)},{turn}",
                         *(["--validate"] if whole_validate else []))

    def detect(self, index):
        boxes, seconds = self.ask(index)
        return boxes, seconds


def serve(code, scenes, whole_validate=False):
    """The child's loop: a photo index per line in, [boxes, seconds] per line out."""
    detect = service_detector(code, whole_validate)
    detect(scenes[0].image)
    for line in sys.stdin:
        scene = scenes[int(line)]
        started = time.perf_counter()
        boxes = detect(scene.image)
        print(json.dumps([boxes, time.perf_counter() - started]), flush=True)


def interleaved(baseline, detect, scenes, repeats):
    """Rows (as evaluate's) for the baseline and this tree, their runs alternating photo by photo."""
    detect(scenes[0].image)
    rows = ([], [])
    for index, scene in enumerate(scenes):
        times, found = ([], []), [None, None]
        for _ in range(repeats):
            found[0], seconds = baseline.detect(index)
            times[0].append(seconds)
            started = time.perf_counter()
            found[1] = detect(scene.image)
            times[1].append(time.perf_counter() - started)
        for side in (0, 1):
            hits, false = match(found[side], scene.faces, scene.ignore)
            rows[side].append((scene.name, scene.kind, len(scene.faces), hits, false, len(found[side]),
                               min(times[side])))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="also measure the service as of this git ref (e.g. main)")
    parser.add_argument("--peers", default="full_range", help="comma-separated: " + ", ".join(DETECTORS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-photo", action="store_true")
    parser.add_argument("--variants", action="store_true",
                        help="recall, precision and exact counts on the scenes mirrored, rescaled and turned "
                        "(peers skipped)")
    parser.add_argument("--validate", action="store_true",
                        help="time validate_image on each photo as a JPEG instead of the detection alone")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="1,0,0", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path[:0] = [str(ROOT / "bench")]
    from eval_set import build
    scenes = build()
    if args.serve:  # the baseline's child process
        factor, mirror, turn = args.variant.split(",")
        serve(args.code, [variant(scene, float(factor), mirror == "1", int(turn)) for scene in scenes], args.validate)
        return

    if args.variants:
        variants(args.baseline, scenes, args.repeats, args.validate)
        return
    results = {}
    if args.baseline:
        baseline = Baseline(args.baseline, whole_validate=args.validate)
        try:
            rows = interleaved(baseline, service_detector(ROOT, args.validate), scenes, args.repeats)
        finally:
            baseline.close()
        results[f"service ({args.baseline})"], results["service (this tree)"] = rows
    else:
        results["service (this tree)"] = evaluate(service_detector(ROOT, args.validate), scenes, args.repeats)
    for name in filter(None, args.peers.split(",")):
        try:
            results[name] = evaluate(DETECTORS[name](), scenes, args.repeats)
        except ImportError as error:
            print(f"{name}: not installed ({error})")

    faces = sum(len(s.faces) for s in scenes)
    kinds = ", ".join(f"{k} {sum(s.kind == k for s in scenes)}" for k in dict.fromkeys(s.kind for s in scenes))
    print(f"{len(scenes)} photos ({kinds}), {faces} faces, fastest of {args.repeats} runs per photo, "
          f"{os.cpu_count()} cores")
    print(f"{'detector':24} {'recall':>7} {'precision':>9} {'exact':>7} {'false':>5} {'median ms':>9} {'mean ms':>8}")
    for name, rows in results.items():
        s = summary(rows)
        print(f"{name:24} {s['recall']:7.3f} {s['precision']:9.3f} {s['exact']:3}/{s['photos']:<3} {s['false']:5} "
              f"{s['median_ms']:9.1f} {s['mean_ms']:8.1f}")
    print("median ms by photo: " + "; ".join(
        f"{name} {by_kind(rows, True):.1f} with faces, {by_kind(rows, False):.1f} without"
        for name, rows in results.items() if name.startswith("service")))
    if args.per_photo:
        names = list(results)
        print("\nper photo: hits/faces +false (ms)")
        for i, scene in enumerate(scenes):
            cells = [f"{r[i][3]}/{r[i][2]} +{r[i][4]} ({r[i][6] * 1000:.0f})" for r in results.values()]
            print(f"{scene.name:28} " + "  ".join(f"{c:>18}" for c in cells))
        print(" " * 29 + "  ".join(f"{n[:18]:>18}" for n in names))


def variants(ref, scenes, repeats, whole_validate=False):
    """One line per variant (and per side with a baseline ref), photos missed or with a false face listed."""
    baseline = None
    detect = service_detector(ROOT, whole_validate)
    try:
        print(f"{'variant':14} {'code':10} {'recall':>7} {'precision':>9} {'exact':>7} {'false':>5} "
              f"{'median ms':>9}  misses")
        for label, factor, mirror, turn in VARIANTS:
            changed = [variant(scene, factor, mirror, turn) for scene in scenes]
            if ref:  # a child per variant: it builds its scenes itself
                if baseline:
                    baseline.close()
                baseline = Baseline(ref, factor, mirror, turn, whole_validate)
                sides = dict(zip((ref, "this tree"), interleaved(baseline, detect, changed, repeats)))
            else:
                sides = {"this tree": evaluate(detect, changed, repeats)}
            for code, rows in sides.items():
                s = summary(rows)
                misses = ", ".join(f"{r[0]} -{r[2] - r[3]}" + (f" +{r[4]}" if r[4] else "")
                                   for r in rows if r[3] < r[2] or r[4])
                print(f"{label:14} {code[:10]:10} {s['recall']:7.3f} {s['precision']:9.3f} "
                      f"{s['exact']:3}/{s['photos']:<3} {s['false']:5} {s['median_ms']:9.1f}  {misses}")
    finally:
        if baseline:
            baseline.close()


if __name__ == "__main__":
    main()
