"""Skin phantom: known spots and fine lines painted into real faces, and the same photo re-captured,
run through the service's own pipeline; how much of what was painted it counts, and how much its
numbers move when nothing on the skin changed (issue 21).

Faces (bench/phantom.py face_sources, in this order; --faces N takes the first N):
  astronaut (scikit-image, whole photo), t1_2, t1_5 (right edge of the group photo), astronaut_head
  (head and shoulders cut), t1_0, t1_3, t1_1 (three-quarter view), astronaut_edge (cut 7 px left of
  her face box, so the crop square reaches past the photo), t1_4 (turned), tom_hanks_grey. t1_* are
  the six people of insightface 2.1's t1.jpg (a group photo; bench/eval_set.py downloads the wheel
  with `pip download --no-deps insightface==2.1` and checks its sha256), each cut 2.4 face widths
  around its labelled box (bench/eval_labels.json); tom_hanks_grey is the wheel's 112 px grey
  aligned face on a grey canvas. Faces whose sample cannot be had are left out with a note. Each is
  enlarged (bicubic) so that its source photo holds 3.0-6.0 px/mm (the service's own scale on a
  first run sets the factor): the face's real skin texture is that of the original, what is
  measured is how painted features of known size survive the service at its default settings
  (skin crop <= SKIN_CROP_MAX_SIDE, so the analysed px/mm is often lower than the source's). The
  service's primary face must be the intended one (its crop centre within the labelled box).

Visible skin (bench/phantom.py visible_skin; independent of the service's regions): on the
unpainted photo's skin crop, the face oval of the 468-point mesh, minus the eyes (grown 3 mm),
brows (2 mm), lips (2 mm) and nostrils, minus hair, beard and deep shadow (L* smoothed 0.5 mm more
than 15 under the oval's median, grown 1.5 mm), minus the crop's padding outside the photo. Split
by mesh geometry: forehead above the line through the brows' lower edges, nose (nasion to alae and
subnasale), chin (under the lower lip between the mouth corners widened by 15 %), upper lip, cheek
(the rest: under-eye, temples under the brow line, cheek to the jaw and the face's edge).

Spots: 2, 3 or 5 mm (half-depth diameter of a soft disc: Gaussian edge of 0.15 diameters), 8-25
L* darker at the centre, painted in CIE L* in the source photo, wholly on visible cheek, chin or
forehead skin (regions in turn), 12 mm + radii apart, a dozen per upload; uploaded as JPEG q95. A
spot is found when a spot the service counted (the spots concern's own functions on the same skin
crop, mesh and px/mm: a kept blob whose centre lies in a measured region) lies within 1.5 mm of it.
A miss says why: outside_measured_regions (its centre is on no measured spots region),
too_faint (no blob over the contrast threshold), too_big_or_merged, too_small, elongated,
straddles_region_edge (under 90 % of the blob on measured skin), kept_but_offset.

Lines: 0.3, 0.4 or 0.5 mm wide bars, 8-20 mm long, 6-20 L* deep (the ideal bar's depth: a 0.3 mm
line's pixels darken less), one orientation per upload (0, 22.5, ... 157.5 degrees in the upright
face), wholly on visible skin, 6 mm apart. Length counted = the service's line-centre pixels (each
counted once per measured wrinkle region holding it, as the concern sums them) within 1.2 mm of
the painted axis and 1.5 mm of its ends, over px/mm, minus the same band on the unpainted upload.
Ratios: added / painted length over all lines, and over lines lying wholly (>= 95 %) on the wrinkle
concern's measured skin (the length estimator alone). A clean synthetic line (no photo) shows the
estimator on its own.

Re-captures of each unpainted photo: JPEG q95 (the reference), q85, q75, scale x0.85 and x1.15,
turn +-5 degrees, exposure x0.9 and x1.1 (linear light), mirror. Coefficient of variation = std /
|mean| of a concern's raw value over the captures where it was measured, per face; the median and
worst over faces are printed, with the ITA spread (max - min, degrees) per face.

Run: .venv/bin/python bench/skin_phantom.py [--faces 10] [--quick] [--seed 21] [--save DIR]
     [--skin-max-side N]   (N: the app's SKIN_CROP_MAX_SIDE, default the app's own)
Full: 10 faces, 4 x 12 spots, 2 x 6 lines per orientation, 10 captures per face (about 5 min on 2
busy cores). --quick: 3 faces, 2 x 12 spots, 6 lines per orientation, 5 captures (about 1 min).
Deterministic for a seed (each face draws from its own generator, so --faces N repeats the first N
faces of a longer run with the same mode). --save DIR writes each face's first painted upload as
DIR/<face>_spots.png: visible skin tinted by region (cheek yellow, chin blue, forehead violet, nose
green, upper lip red), the spots concern's measured regions outlined white, painted spots circled
green (found) or red (missed). --json FILE writes every spot, line and capture row.
"""
import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
from common import print_table

from phantom import (QUICK_RECAPTURES, RECAPTURES, enlarged, face_sources, features, jpeg, judge_spot,
                     line_length_mm, line_measured_share, overlay, paint, place_lines, place_spots, visible_skin)

SIZES_MM = (2.0, 3.0, 5.0)
SPOT_CONTRAST = (8.0, 25.0)
CONTRAST_BANDS = ((8, 12), (12, 18), (18, 25))
ORIENTATIONS = tuple(22.5 * n for n in range(8))
LINE_LENGTH_MM = (8.0, 20.0)
LINE_WIDTHS_MM = (0.3, 0.4, 0.5)
LINE_CONTRAST = (6.0, 20.0)
LINE_BANDS = ((6, 10), (10, 20))
CONCERN_NAMES = ("wrinkles", "spots", "pores", "texture", "redness", "dark_circles", "shine", "tone")
# (worst - best) of each concern's score today (the result(...) call in ananacare/skin/<concern>.py)
SCORE_RANGE = {"wrinkles": 5.5, "spots": 2.0, "pores": 55.0, "texture": 3.2, "redness": 28.0, "dark_circles": 11.0,
               "shine": 5.0, "tone": 8.0}
CV_FLOOR = {**{name: 0.05 * span for name, span in SCORE_RANGE.items()}, "spots count": 2.0, "tone ITA": 0.0}


def prepare(source, registry, settings):
    """(enlarged photo, its unpainted run, factor) or (None, reason, 0)."""
    from phantom import run_service
    first = run_service(jpeg(enlarged(source.image, 2.0)), registry, settings)
    if first is None:
        return None, "no face found", 0
    factor = 2.0 * source.target_px_per_mm / first.source_px_per_mm
    photo = enlarged(source.image, factor)
    base = run_service(jpeg(photo), registry, settings)
    if base is None:
        return None, "no face found after enlarging", 0
    cx, cy = np.asarray(base.validation.geometry.center) / factor
    x0, y0, x1, y1 = source.box
    if not (x0 <= cx <= x1 and y0 <= cy <= y1):
        return None, f"primary face is another one (crop centre {cx:.0f},{cy:.0f})", 0
    return photo, base, factor


def spots_on_face(rng, photo, base, skin, rounds, per_round, registry, settings, save=None, name=""):
    from phantom import run_service
    results, deltas = [], []
    base_count = base.body["concerns"].get("spots", {}).get("count", 0) or 0
    for round_index in range(rounds):
        painted_spots = place_spots(rng, skin, base, per_round, SIZES_MM, SPOT_CONTRAST)
        if not painted_spots:
            break
        painted = paint(photo, spots=painted_spots, source_px_per_mm=base.source_px_per_mm)
        run = run_service(jpeg(painted), registry, settings)
        if run is None:
            results += [(spot, (False, "face_lost", False)) for spot in painted_spots]
            continue
        feats = features(run)
        judged = [judge_spot(spot, run, feats) for spot in painted_spots]
        results += list(zip(painted_spots, judged))
        json_count = run.body["concerns"].get("spots", {}).get("count", 0) or 0
        in_process = sum(weight >= 0.5 for _, _, weight in feats.spot_centres)
        deltas.append((json_count - base_count, len(painted_spots), json_count != in_process))
        if save and round_index == 0:
            overlay(run, base, skin, painted_spots, judged, feats, f"{save}/{name}_spots.png")
    return results, deltas


def lines_on_face(rng, photo, base, base_feats, skin, rounds, per_round, registry, settings):
    from phantom import run_service
    rows = []
    for orientation in ORIENTATIONS:
        for _ in range(rounds):
            lines = place_lines(rng, skin, base, per_round, orientation, LINE_LENGTH_MM, LINE_WIDTHS_MM, LINE_CONTRAST)
            if not lines:
                continue
            painted = paint(photo, lines=lines, source_px_per_mm=base.source_px_per_mm)
            run = run_service(jpeg(painted), registry, settings)
            if run is None:
                continue
            feats = features(run)
            for line in lines:
                added = line_length_mm(run, feats, line) - line_length_mm(base, base_feats, line)
                rows.append((line, added, line_measured_share(run, feats, line)))
    return rows


def concern_values(body):
    """{name: raw value or None} plus the spot count and ITA, and {name: score or None}."""
    concerns = body["concerns"]

    def measured(name):
        return concerns.get(name, {}).get("available")
    values = {name: (concerns[name]["value"] if measured(name) else None) for name in CONCERN_NAMES}
    values["spots count"] = concerns["spots"]["count"] if measured("spots") else None
    values["tone ITA"] = concerns["tone"]["ita"] if measured("tone") else None
    scores = {name: (concerns[name]["score"] if measured(name) else None) for name in CONCERN_NAMES}
    return {"values": values, "scores": scores}


def recaptures(photo, base, names, registry, settings):
    from phantom import run_service
    captured = {}
    for name in names:
        run = base if name == "jpeg q95 (reference)" else run_service(RECAPTURES[name](photo), registry, settings)
        captured[name] = concern_values(run.body) if run is not None else None
    return captured


def synthetic_lines(px_per_mm=3.0, depths=(10.0, 6.0), width_mm=0.4, length_mm=12.0, offsets=(0.0, 0.25, 0.5, 0.75)):
    """{(depth, orientation): counted / painted length} of one clean line on flat skin (no photo),
    drawn as the phantom draws lines (depth in % of the skin's relative lightness), averaged over
    sub-pixel positions of its axis (a line on a pixel row and one between two rows differ)."""
    from scipy.special import erf

    from ananacare.skin.wrinkles import line_weight, valley_response
    face = SimpleNamespace(px_per_mm=px_per_mm)
    size = int(length_mm * px_per_mm * 2.2) | 1
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    edge, taper, half_w = np.hypot(0.1 * px_per_mm, 0.4), 0.5 * px_per_mm, width_mm * px_per_mm / 2
    length = length_mm * px_per_mm
    out = {}
    for depth in depths:
        for orientation in ORIENTATIONS:
            theta = np.radians(orientation)
            u = np.array([np.cos(theta), -np.sin(theta)])
            ratios = []
            for offset in offsets:
                a = np.array([size / 2 + offset, size / 2 + offset / 3]) - u * length / 2
                t = (xx - a[0]) * u[0] + (yy - a[1]) * u[1]
                d = np.abs(-(xx - a[0]) * u[1] + (yy - a[1]) * u[0])
                across = 0.5 * (erf((d + half_w) / (np.sqrt(2) * edge)) - erf((d - half_w) / (np.sqrt(2) * edge)))
                along = 0.5 * (erf(t / (np.sqrt(2) * taper)) - erf((t - length) / (np.sqrt(2) * taper)))
                response, centres, step = valley_response((100 - depth * across * along).astype(np.float32), face)
                band = (d <= 1.2 * px_per_mm) & (t >= -1.5 * px_per_mm) & (t <= length + 1.5 * px_per_mm)
                counted = np.where(centres, line_weight(response) * step, 0)
                ratios.append(float(counted[band].sum()) / length)
            out[(depth, orientation)] = float(np.mean(ratios))
    return out


def _order(item):
    """Table rows by their number when they start with one, else by name."""
    head = item[0].split()[0].split("-")[0]
    try:
        return (0, float(head), "")
    except ValueError:
        return (1, 0.0, item[0])


def _ratio(found, total):
    return f"{found / total:.2f}" if total else "-"


def print_spot_tables(all_spots, deltas):
    print("\n## Spots: recall (found / painted), and on the skin the service measures")
    groups = [("size", lambda s: f"{s.diameter_mm:.0f} mm"),
              ("contrast", lambda s: next(f"{lo}-{hi} L*" for lo, hi in CONTRAST_BANDS if s.contrast < hi or hi == 25)),
              ("region", lambda s: s.region)]
    for title, key in groups:
        table = defaultdict(lambda: [0, 0, 0, 0])
        for spot, (found, _, on_measured) in all_spots:
            row = table[key(spot)]
            row[0] += 1
            row[1] += found
            row[2] += on_measured
            row[3] += found and on_measured
        rows = [[name, n, _ratio(f, n), f"{(n - m) / n:.0%}" if n else "-", m, _ratio(fm, m)]
                for name, (n, f, m, fm) in sorted(table.items(), key=_order)]
        print_table([title, "painted", "recall", "outside measured", "on measured", "recall there"], rows)
        print()
    n = len(all_spots)
    found = sum(r[0] for _, r in all_spots)
    measured = sum(r[2] for _, r in all_spots)
    found_measured = sum(r[0] and r[2] for _, r in all_spots)
    print(f"overall: {n} spots, recall {_ratio(found, n)}; {(n - measured) / max(n, 1):.0%} outside the measured "
          f"regions; recall on measured skin {_ratio(found_measured, measured)}")
    reasons = defaultdict(int)
    for _, (found, reason, _) in all_spots:
        if not found:
            reasons[reason] += 1
    print("misses by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))
    added = sum(d[0] for d in deltas)
    painted = sum(d[1] for d in deltas)
    mismatch = sum(d[2] for d in deltas)
    print(f"JSON count delta (painted upload - unpainted) / painted: {added}/{painted} = {_ratio(added, painted)}"
          f"; in-process spot count differs from the JSON on {mismatch} of {len(deltas)} uploads")


def print_line_tables(rows, synthetic):
    print("\n## Lines: counted length added / painted length")
    for title, key in (("orientation", lambda line: f"{line.orientation:g}"),
                       ("width", lambda line: f"{line.width_mm:.1f} mm"),
                       ("depth", lambda line: next(f"{lo}-{hi} L*" for lo, hi in LINE_BANDS if line.contrast < hi))):
        table = defaultdict(list)
        for line, added, share in rows:
            table[key(line)].append((line, added, share))
        out = []
        for name, items in sorted(table.items(), key=_order):
            painted = sum(line.length_mm for line, _, _ in items)
            added = sum(a for _, a, _ in items)
            full = [(line, a) for line, a, s in items if s >= 0.95]
            full_painted = sum(line.length_mm for line, _ in full)
            on = sum(line.length_mm * s for line, _, s in items)
            out.append([name, len(items), f"{painted:.0f}", f"{on / painted:.0%}", _ratio(added, painted), len(full),
                        _ratio(sum(a for _, a in full), full_painted)])
        print_table([title, "lines", "painted mm", "on measured", "ratio all", "lines on measured",
                     "ratio on measured"], out)
        print()
    depths = sorted({d for d, _ in synthetic}, reverse=True)
    print("clean synthetic line (flat skin, 0.4 mm wide, 12 mm, 3 px/mm, mean of 4 sub-pixel positions; depth in % of "
          "the relative lightness): counted / painted length")
    print_table(["orientation"] + [f"depth {d:g} %" for d in depths],
                [[f"{o:g}"] + [f"{synthetic[(d, o)]:.2f}" for d in depths] for o in ORIENTATIONS])


def _cv(values, floor=0.0):
    """(std / |mean| or None when |mean| < floor, std, n) over the measured values (None: not measured)."""
    values = [v for v in values if v is not None]
    if len(values) < 3:
        return None, None, len(values)
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    return (std / abs(mean) if abs(mean) >= max(floor, 1e-9) else None), std, len(values)


def print_repeatability(captured_by_face):
    print("\n## Repeatability: the same unpainted photo re-captured "
          f"({', '.join(next(iter(captured_by_face.values())).keys())})")
    print("CV = std / |mean| per face, over faces whose mean is at least the floor (5 % of the concern's score "
          "range;\n2 spots); 'score std': the std of the 0-100 score a user sees (every face measured)")
    names = list(CONCERN_NAMES) + ["spots count", "tone ITA"]
    rows = []
    for name in names:
        cvs, stds, score_stds, worst, small = [], [], [], ("", -1.0), 0
        for face, captured in captured_by_face.items():
            cv, std, _ = _cv([c["values"][name] if c else None for c in captured.values()], CV_FLOOR[name])
            if std is None:
                continue
            stds.append(std)
            if name in CONCERN_NAMES:
                score_stds.append(_cv([c["scores"][name] if c else None for c in captured.values()])[1])
            if cv is None:
                small += 1
                continue
            cvs.append(cv)
            if cv > worst[1]:
                worst = (face, cv)
        rows.append([name, len(stds), small, f"{statistics.median(cvs):.1%}" if cvs else "-",
                     f"{worst[1]:.1%} ({worst[0]})" if cvs else "-",
                     f"{statistics.median(stds):.3g}" if stds else "-",
                     f"{statistics.median(score_stds):.1f} / {max(score_stds):.1f}" if score_stds else "-"])
    print_table(["concern (raw value)", "faces", "under floor", "median CV", "worst CV (face)", "median std",
                 "score std median / worst"], rows)
    print("\nper face: ITA over the captures, spot count, pores")
    rows = []
    for face, captured in captured_by_face.items():
        ita = [c["values"]["tone ITA"] for c in captured.values() if c and c["values"]["tone ITA"] is not None]
        counts = [c["values"]["spots count"] for c in captured.values()
                  if c and c["values"]["spots count"] is not None]
        rows.append([face, f"{min(ita):.1f}..{max(ita):.1f}" if ita else "-",
                     f"{max(ita) - min(ita):.1f}" if ita else "-",
                     f"{min(counts)}..{max(counts)}" if counts else "-",
                     sum(1 for c in captured.values() if c and c["values"]["pores"] is not None), len(captured)])
    print_table(["face", "ITA range", "ITA spread", "spot count range", "pores measured", "captures"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=None, help="first N faces of the list (default 10; 3 --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer faces, spots, lines and captures")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--save", default=None, help="folder for overlay PNGs of the painted spots")
    parser.add_argument("--skin-max-side", type=int, default=None, help="the app's SKIN_CROP_MAX_SIDE")
    parser.add_argument("--json", default=None, help="write the per-spot and per-line rows here")
    args = parser.parse_args()
    started = time.perf_counter()
    n_faces = args.faces or (3 if args.quick else 10)
    spot_rounds, line_rounds = (2, 1) if args.quick else (4, 2)
    capture_names = QUICK_RECAPTURES if args.quick else tuple(RECAPTURES)

    from ananacare import create_app, load_models
    from ananacare.models import model_registry
    from ananacare.preprocess import PipelineSettings
    overrides = {"CACHE_DIR": tempfile.mkdtemp(prefix="bench-phantom-")}
    if args.skin_max_side is not None:
        overrides["SKIN_CROP_MAX_SIDE"] = args.skin_max_side
    app = create_app(overrides)
    load_models(app)
    if args.save:
        import os
        os.makedirs(args.save, exist_ok=True)

    all_spots, deltas, line_rows, captured_by_face, face_rows = [], [], [], {}, []
    coverage = defaultdict(lambda: [0.0, 0.0])
    with app.app_context():
        registry = model_registry()
        settings = PipelineSettings.from_config(app.config)
        http_checked = False
        for index, source in enumerate(face_sources()[:n_faces]):
            rng = np.random.default_rng([args.seed, index])
            face_started = time.perf_counter()
            photo, base, factor = prepare(source, registry, settings)
            if photo is None:
                face_rows.append([source.name, "-", "-", "-", "-", "-", "-", "-", base, "-"])
                continue
            if not http_checked:  # the in-process answer is the HTTP one
                client = app.test_client()
                answer = client.post("/api/analyze/image", data=jpeg(photo), content_type="image/jpeg").get_json()
                same = json.dumps(answer["results"]["skin"], sort_keys=True) == json.dumps(
                    json.loads(json.dumps(base.body)), sort_keys=True)
                print(f"check: POST /api/analyze/image gives the same skin answer as the in-process run: {same}")
                http_checked = True
            skin = visible_skin(base, photo.size)
            base_feats = features(base)
            mm2 = base.px_per_mm ** 2 * 100
            for region in ("cheek", "chin", "forehead", "nose"):
                m = skin.mask(region)
                coverage[region][0] += m.sum() / mm2
                coverage[region][1] += (m & base_feats.spots_measured).sum() / mm2
            spot_results, face_deltas = spots_on_face(rng, photo, base, skin, spot_rounds, 12, registry, settings,
                                                      args.save, source.name)
            all_spots += spot_results
            deltas += face_deltas
            line_rows += lines_on_face(rng, photo, base, base_feats, skin, line_rounds, 6, registry, settings)
            captured_by_face[source.name] = recaptures(photo, base, capture_names, registry, settings)
            pores = base.body["concerns"]["pores"]
            face_found = sum(r[0] for _, r in spot_results)
            on_measured = [r for _, r in spot_results if r[2]]
            face_rows.append([source.name, f"{photo.width}x{photo.height}", f"{base.source_px_per_mm:.2f}",
                              f"{base.skin.width}", f"{base.px_per_mm:.2f} {base.body['scale']['method'][:4]}",
                              f"{np.degrees(base.validation.geometry.angle):.0f}",
                              " ".join(f"{r[0]}{skin.mask(r).sum() / mm2:.0f}" for r in ("cheek", "chin", "forehead")),
                              f"{face_found}/{len(spot_results)} ({sum(r[0] for r in on_measured)}/{len(on_measured)})",
                              "yes" if pores.get("available") else pores.get("reason"),
                              f"{time.perf_counter() - face_started:.0f}s"])
            print(f"  {source.name}: done in {time.perf_counter() - face_started:.0f} s", flush=True)

    print(f"\n## Faces (seed {args.seed}; default settings: skin crop <= {settings.skin_max_side} px)")
    print_table(["face", "photo", "src px/mm", "skin px", "skin px/mm", "angle", "visible cm2 (c/ch/f)",
                 "spots found (on measured)", "pores", "time"], face_rows)
    print("\nvisible skin inside the spots concern's measured regions (unpainted uploads, by area):")
    print_table(["region", "visible cm2", "measured share"],
                [[r, f"{v:.0f}", f"{m / v:.0%}" if v else "-"] for r, (v, m) in coverage.items()])
    measured_faces = sum(1 for row in face_rows if row[8] == "yes")
    print(f"pores measured (available) on {measured_faces} of {len(face_rows)} faces")
    if all_spots:
        print_spot_tables(all_spots, deltas)
    if line_rows:
        print_line_tables(line_rows, synthetic_lines())
    if captured_by_face:
        print_repeatability(captured_by_face)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"spots": [{"region": s.region, "diameter_mm": s.diameter_mm, "contrast": round(s.contrast, 2),
                                  "found": bool(r[0]), "reason": r[1], "on_measured": bool(r[2])}
                                 for s, r in all_spots],
                       "lines": [{"orientation": line.orientation, "width_mm": line.width_mm,
                                  "length_mm": round(line.length_mm, 2), "contrast": round(line.contrast, 2),
                                  "added_mm": round(added, 2), "on_measured": round(share, 3)}
                                 for line, added, share in line_rows],
                       "captures": captured_by_face}, out, indent=1)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
