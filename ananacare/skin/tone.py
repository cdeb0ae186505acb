"""Tone: skin type by ITA under a white reference, hue angle and undertone, evenness.

ITA = atan((L* - 50) / b*) in degrees (Chardon et al. 1991; Del Bino et al. 2013): > 55 very light,
41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark. As photographed, L* and b*
follow the light (exposure, the light's colour) as much as the skin: `ita` is reported as
photographed, and `ita_corrected` with the skin's colour put under the reference light that the
whites of the eyes give (ananacare.skin.light). The category is derived from the corrected ITA
only, and only when the eyes can serve as that reference; otherwise `ita_category` is null and
`category_reason` says why. Hue angle h = atan2(b*, a*): skin lies at about 40-70 degrees; the
undertone label (cool < 50 <= neutral < 60 <= warm) is this service's own cut of that range.

Evenness (the raw value) is blotchiness, not shading: the robust spread (1.4826 x the median absolute
deviation) of L* about its local mean (a Gaussian of EVEN_SURROUND_MM over skin), so the light
falling off towards the face's edge does not count, blotches of a few millimetres do, and a fold's
shadow or a mole (a few per cent of the pixels) does not set it. Also: the largest colour difference between
regions (CIE76 delta E).
"""
import math

import numpy as np

from .common import masked_blur, result, unavailable
from .heatmaps import Marks
from .light import corrected_lab

METHOD = "ita_under_eye_white_reference_and_local_lightness_spread (CIE L*a*b*, Chardon 1991)"
MIN_PX_PER_MM = 0.5
EVEN_SURROUND_MM = 6.0
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


def colour_summary(lab, local):
    """Mean L*a*b* and ITA as photographed, redness (mean a*) and evenness (the robust spread of L*
    about its local mean; `local`: L* minus its surround) of N x 3 L*a*b*."""
    lightness, a, b = lab.mean(axis=0)
    spread = 1.4826 * np.median(np.abs(local - np.median(local)))
    return {"lab": [round(float(v), 2) for v in (lightness, a, b)], "ita": round(ita_degrees(lightness, b), 2),
            "redness": round(float(a), 2), "evenness": round(float(spread), 3), "pixels": int(len(lab))}


def measure(face, heatmap=False):
    """The tone concern (heatmap: L* about its local mean, on the measured skin)."""
    masks = {name: face.on_grid(face.measured[name] & ~face.highlight) for name in REGIONS if name in face.measured}
    masks = {name: mask for name, mask in masks.items() if mask.sum() >= 4}
    if not masks:
        return unavailable("no_region_measured"), None
    union = np.logical_or.reduce(list(masks.values()))
    lightness = face.lab[..., 0]
    local = lightness - masked_blur(lightness, union, EVEN_SURROUND_MM * face.px_per_mm / face.step)
    every = face.lab[union]
    overall = colour_summary(every, local[union])
    face.colour_overall = overall  # the skin result's overall colour (ananacare.skin.analysis)
    hue = math.degrees(math.atan2(overall["lab"][2], overall["lab"][1]))
    regions = {name: colour_summary(face.lab[mask], local[mask]) for name, mask in masks.items()}
    means = {name: np.array(region["lab"]) for name, region in regions.items()}
    delta_e = max((float(np.linalg.norm(means[a] - means[b])) for a in means for b in means), default=0.0)
    category = _category(face, union)
    body = result(METHOD, overall["evenness"], "L* spread about the local mean", best=2.0, worst=8.0, regions=regions,
                  minimum=MIN_PX_PER_MM, ita=overall["ita"], **category, hue_angle=round(hue, 2),
                  undertone=undertone(hue), max_region_delta_e=round(delta_e, 2), lab=overall["lab"])
    if not heatmap:
        return body, None
    return body, Marks(face.to_full(np.where(union, np.abs(local), np.nan)).astype(np.float32))


def _category(face, union):
    """ita_corrected, ita_category and what the category rests on (or why there is none)."""
    light = face.light or {"reason": "eyes_not_visible"}
    if "gains" not in light:
        return {"ita_corrected": None, "ita_category": None, "category_reason": light["reason"]}
    lab = corrected_lab(face.rgb[union], light["gains"]).mean(axis=0)
    ita = ita_degrees(lab[0], lab[2])
    return {"ita_corrected": round(ita, 2), "ita_category": ita_category(ita),
            "category_basis": "eye_white_reference", "eye_white_lab": light["white_lab"]}
