"""Tone: skin colour category (ITA), hue angle and undertone, evenness.

ITA = atan((L* - 50) / b*) in degrees (Chardon et al. 1991; Del Bino et al. 2013): > 55 very light,
41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark. Hue angle h = atan2(b*, a*):
skin lies at about 40-70 degrees; the undertone label (cool < 50 <= neutral < 60 <= warm) is this
service's own cut of that range, not a standard. Evenness: the spread (standard deviation) of L*
within regions, averaged (lower is more even), and the largest colour difference between regions
(CIE76 delta E). Raw value: the mean within-region L* spread.
"""
import math

import numpy as np

from .common import result, unavailable

METHOD = "ita_hue_and_lightness_spread (CIE L*a*b*, Chardon 1991)"
MIN_PX_PER_MM = 0.5
ITA_CATEGORIES = ((55, "very light"), (41, "light"), (28, "intermediate"), (10, "tan"), (-30, "brown"))
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek")


def ita_degrees(lightness, b):
    """Individual Typology Angle from L* and b*."""
    return math.degrees(math.atan2(lightness - 50, b))


def ita_category(ita):
    """The ITA skin category name."""
    for lower, name in ITA_CATEGORIES:
        if ita > lower:
            return name
    return "dark"


def undertone(hue):
    """cool / neutral / warm from the hue angle (degrees)."""
    return "cool" if hue < 50 else ("neutral" if hue < 60 else "warm")


def colour_summary(lab):
    """Mean L*a*b*, ITA and category, redness (mean a*), evenness (L* spread) of N x 3 L*a*b*."""
    lightness, a, b = lab.mean(axis=0)
    ita = ita_degrees(lightness, b)
    return {"lab": [round(float(v), 2) for v in (lightness, a, b)], "ita": round(ita, 2),
            "ita_category": ita_category(ita), "redness": round(float(a), 2),
            "evenness": round(float(lab[:, 0].std()), 3), "pixels": int(len(lab))}


def measure(face, heatmap=False):
    """The tone concern (heatmap: L* distance from the face's median skin lightness)."""
    parts = {name: face.lab_half[face.measured[name][::2, ::2] & ~face.highlight[::2, ::2]]
             for name in REGIONS if name in face.measured}
    parts = {name: lab for name, lab in parts.items() if len(lab) >= 4}
    if not parts:
        return unavailable("no_region_measured"), None
    every = np.concatenate(list(parts.values()))
    overall = colour_summary(every)
    hue = math.degrees(math.atan2(overall["lab"][2], overall["lab"][1]))
    means = {name: lab.mean(axis=0) for name, lab in parts.items()}
    spread = float(np.mean([lab[:, 0].std() for lab in parts.values()]))
    delta_e = max((float(np.linalg.norm(means[a] - means[b])) for a in means for b in means), default=0.0)
    regions = {name: colour_summary(lab) for name, lab in parts.items()}
    body = result(METHOD, spread, "L* std", best=2.0, worst=10.0, regions=regions, minimum=MIN_PX_PER_MM,
                  ita=overall["ita"], ita_category=overall["ita_category"], hue_angle=round(hue, 2),
                  undertone=undertone(hue), max_region_delta_e=round(delta_e, 2), lab=overall["lab"])
    if not heatmap:
        return body, None
    union = np.zeros(face.relative.shape, dtype=bool)
    for name in parts:
        union |= face.measured[name]
    return body, np.where(union, np.abs(face.lightness - overall["lab"][0]), 0)
