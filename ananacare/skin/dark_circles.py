"""Dark circles: how much darker the skin under the eyes is than the cheeks, and of what hue.

delta L* = cheek lightness - under-eye lightness, per side (below); positive is darker under the
eye. The cheek skin is the band just beneath the under-eye region (as wide, 1.5 times as tall).
The lightness difference is taken on the relief channel (cube root of linear green over its median,
from which a global exposure change divides out) at the analysed resolution, as the difference of the two
regions' means over their middle 80 % (deaf to highlights, lashes and moles at either end), and
expressed in L* at the cheek's lightness (L* + 16 = 116 cbrt(Y)): re-captures of one face move it
far less than differences of L* medians on the colour grid do.
The hue of the difference (delta a*, delta b* under-eye minus cheek) tells the common
kinds apart as in the dark-circle literature (Huang 2014; Park 2016): more blue/violet (b* down)
is vascular, more brown (a* and b* up, darker) pigmented, neither: shadow from structure.
"""
import math

import numpy as np

from .common import result, unavailable
from .regions import band_below
from .heatmaps import Marks

METHOD = "under_eye_vs_cheek_delta_L* (relief channel, trimmed means, in L*)"
MIN_PX_PER_MM = 0.5
REFERENCE_DEPTH = 1.5


def _trimmed_mean(values):
    """The mean of the middle 80 %: continuous (an 8-bit channel's median moves in steps) and deaf
    to the few highlights, lashes or moles at either end."""
    low, high = np.percentile(values, (10, 90))
    kept = values[(values >= low) & (values <= high)]
    return float(kept.mean()) if kept.size else float(values.mean())


def _kind(da, db):
    if db < -1.5:
        return "vascular (bluish)"
    if da > 1.0 and db > 1.0:
        return "pigmented (brownish)"
    return "structural (shadow)"


def measure(face, heatmap=False):
    """The dark-circle concern (heatmap: L* deficit under the eyes against the cheeks)."""
    lab, regions, deltas = face.lab, {}, []
    for side in ("right", "left"):
        under, cheek = f"{side}_under_eye", f"{side}_cheek"
        if under not in face.measured or cheek not in face.measured:
            continue
        under_mask = face.measured[under]
        cheek_mask = face.measured[cheek] & band_below(face.measured[under], REFERENCE_DEPTH)
        u, c = lab[face.on_grid(under_mask)], lab[face.on_grid(cheek_mask)]
        if len(u) < 4 or len(c) < 4:
            continue
        cheek_lab = np.median(c, axis=0)
        du = cheek_lab - np.median(u, axis=0)
        # lightness from the relief channel (exposure divides out of it), in L* units
        # at the cheek's own lightness: a photo a little brighter or darker moves the difference little
        relief = _trimmed_mean(face.relative[cheek_mask]) - _trimmed_mean(face.relative[under_mask])
        dl, da, db = float(relief / 100 * (cheek_lab[0] + 16)), float(-du[1]), float(-du[2])
        regions[under] = {"delta_lightness": round(dl, 2), "delta_a": round(da, 2), "delta_b": round(db, 2),
                          "hue_angle": round(math.degrees(math.atan2(db, da)), 1), "kind": _kind(da, db)}
        deltas.append((dl, da, db))
    if not deltas:
        return unavailable("no_region_measured"), None
    dl, da, db = (float(np.mean([d[i] for d in deltas])) for i in range(3))
    body = result(METHOD, dl, "delta L*", best=1.0, worst=12.0, regions=regions, minimum=MIN_PX_PER_MM,
                  delta_a=round(da, 2), delta_b=round(db, 2), kind=_kind(da, db))
    if not heatmap:
        return body, None
    values = np.full(face.relative.shape, np.nan, dtype=np.float32)
    for name, region in regions.items():  # each under-eye valued by its own delta L*, as the JSON says
        values[face.measured[name]] = region["delta_lightness"]
    return body, Marks(values)
