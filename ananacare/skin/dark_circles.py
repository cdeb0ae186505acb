"""Dark circles: how much darker the skin under the eyes is than the cheeks, and of what hue.

delta L* = median L* (cheek skin) - median L* (under-eye skin), per side; positive is darker under
the eye. The cheek skin is the band just beneath the under-eye region (as wide, 1.5 times as tall).
The hue of the difference (delta a*, delta b* under-eye minus cheek) tells the common
kinds apart as in the dark-circle literature (Huang 2014; Park 2016): more blue/violet (b* down)
is vascular, more brown (a* and b* up, darker) pigmented, neither: shadow from structure.
"""
import math

import numpy as np

from .common import result, unavailable
from .regions import band_below
from .heatmaps import Marks

METHOD = "under_eye_vs_cheek_delta_L* (CIE L*a*b*, medians)"
MIN_PX_PER_MM = 0.5
REFERENCE_DEPTH = 1.5


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
        u = lab[face.on_grid(face.measured[under])]
        c = lab[face.on_grid(face.measured[cheek] & band_below(face.measured[under], REFERENCE_DEPTH))]
        if len(u) < 4 or len(c) < 4:
            continue
        du = np.median(c, axis=0) - np.median(u, axis=0)
        dl, da, db = float(du[0]), float(-du[1]), float(-du[2])
        regions[under] = {"delta_lightness": round(dl, 2), "delta_a": round(da, 2), "delta_b": round(db, 2),
                          "hue_angle": round(math.degrees(math.atan2(db, da)), 1), "kind": _kind(da, db)}
        deltas.append((dl, da, db, float(np.median(c[:, 0]))))
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
