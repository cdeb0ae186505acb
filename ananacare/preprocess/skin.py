"""Skin colour from mesh-placed regions: forehead, both cheeks, chin (eyes, brows, lips excluded).

Colour is CIE L*a*b* (sRGB, D65). The Individual Typology Angle ITA = atan((L* - 50) / b*) in
degrees classifies skin (Chardon et al. 1991; Del Bino et al.): > 55 very light, 41-55 light,
28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark. Redness is mean a*; evenness is the
spread (standard deviation) of L* within a region: lower is more even.

Colour needs colour: a grey photo (or one whose face has almost no chroma, C* = sqrt(a*^2 + b*^2)
under MIN_SKIN_CHROMA; skin measures 10-30) would read as ITA 90 "very light" everywhere, so skin
then reports `{"available": false, "reason": "no_colour"}` instead.
"""
import math

import numpy as np

from .face_measures import (BELOW_LIP, CHIN, GLABELLA, LEFT_BROW_MID, LEFT_CHEEK, LEFT_FACE_EDGE, MID_FOREHEAD,
                            RIGHT_BROW_MID, RIGHT_CHEEK, RIGHT_FACE_EDGE)

MIN_SKIN_CHROMA = 4.0  # mean C* below this: no colour to measure (grey JPEGs measure under 1)
ITA_CATEGORIES = ((55, "very light"), (41, "light"), (28, "intermediate"), (10, "tan"), (-30, "brown"))
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


_LEVELS = np.arange(256) / 255.0
_SRGB_TO_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)


def srgb_to_lab(pixels):
    """N x 3 uint8 sRGB -> N x 3 CIE L*a*b* (D65)."""
    linear = _SRGB_TO_LINEAR[np.asarray(pixels, dtype=np.uint8)]
    xyz = linear @ (_SRGB_TO_XYZ.T / _D65_WHITE)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def mean_chroma(pixels):
    """Mean CIE chroma C* of RGB pixels (any shape ending in 3): about 0 for a grey photo."""
    lab = srgb_to_lab(np.asarray(pixels, dtype=np.uint8).reshape(-1, 3))
    return float(np.hypot(lab[:, 1], lab[:, 2]).mean()) if len(lab) else 0.0


def ita_degrees(lightness, b):
    """Individual Typology Angle from L* and b*."""
    return math.degrees(math.atan2(lightness - 50, b))


def ita_category(ita):
    """The ITA skin category name."""
    for lower, name in ITA_CATEGORIES:
        if ita > lower:
            return name
    return "dark"


def skin_regions(points):
    """{region: (centre x, centre y, radius x, radius y)} ellipses placed by the mesh (crop pixels)."""
    xy = points[:, :2]
    face_width = np.linalg.norm(xy[LEFT_FACE_EDGE] - xy[RIGHT_FACE_EDGE])
    brow_span = np.linalg.norm(xy[LEFT_BROW_MID] - xy[RIGHT_BROW_MID])
    forehead = xy[GLABELLA] + 0.6 * (xy[MID_FOREHEAD] - xy[GLABELLA])
    chin = xy[BELOW_LIP] + 0.55 * (xy[CHIN] - xy[BELOW_LIP])
    return {
        "forehead": (*forehead, 0.35 * brow_span, 0.45 * np.linalg.norm(xy[MID_FOREHEAD] - xy[GLABELLA])),
        "right_cheek": (*xy[RIGHT_CHEEK], 0.09 * face_width, 0.09 * face_width),
        "left_cheek": (*xy[LEFT_CHEEK], 0.09 * face_width, 0.09 * face_width),
        "chin": (*chin, 0.12 * face_width, 0.3 * np.linalg.norm(xy[CHIN] - xy[BELOW_LIP])),
    }


def _region_pixels(pixels, ellipse):
    """The pixels whose centres fall inside the ellipse (only its bounding box is touched)."""
    cx, cy, rx, ry = (float(v) for v in ellipse)
    height, width = pixels.shape[:2]
    x0, x1 = max(0, int(cx - rx)), min(width, int(cx + rx) + 1)
    y0, y1 = max(0, int(cy - ry)), min(height, int(cy + ry) + 1)
    if x1 <= x0 or y1 <= y0 or rx <= 0 or ry <= 0:
        return pixels[:0, :0].reshape(0, 3)
    ys, xs = np.ogrid[y0:y1, x0:x1]
    inside = ((xs + 0.5 - cx) / rx) ** 2 + ((ys + 0.5 - cy) / ry) ** 2 <= 1.0
    return pixels[y0:y1, x0:x1][inside]


def _colour_summary(lab):
    lightness, a, b = lab.mean(axis=0)
    ita = ita_degrees(lightness, b)
    return {"lab": [round(float(v), 2) for v in (lightness, a, b)], "ita": round(ita, 2),
            "ita_category": ita_category(ita), "redness": round(float(a), 2),
            "evenness": round(float(lab[:, 0].std()), 3), "pixels": int(len(lab))}


def skin_analysis(crop, points, step=2):
    """Per region and overall: mean L*a*b*, ITA and category, redness, evenness.

    Measured on every `step`-th pixel of the crop (a 512 crop's regions still hold ~600 pixels
    each): colour means do not change, and the work drops by step squared.
    """
    pixels = np.asarray(crop)[::step, ::step]
    regions, parts = {}, []
    for name, (cx, cy, rx, ry) in skin_regions(points).items():
        region = _region_pixels(pixels, (cx / step, cy / step, rx / step, ry / step))
        if len(region) >= 4:
            parts.append((name, region))
    if not parts:
        return {"available": False, "reason": "no_skin_pixels", "regions": {}, "overall": None}
    lab = srgb_to_lab(np.concatenate([region for _, region in parts]))
    chroma = float(np.hypot(lab[:, 1], lab[:, 2]).mean())
    if chroma < MIN_SKIN_CHROMA:
        return {"available": False, "reason": "no_colour", "chroma": round(chroma, 2), "regions": {}, "overall": None}
    start = 0
    for name, region in parts:
        regions[name] = _colour_summary(lab[start:start + len(region)])
        start += len(region)
    return {"available": True, "chroma": round(chroma, 2), "regions": regions, "overall": _colour_summary(lab)}
