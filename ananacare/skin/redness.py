"""Redness: the share of skin redder than this face's own baseline, and the mean a*.

CIE a* (green-red axis) tracks erythema (haemoglobin) in skin colourimetry (Takiwaki 1998;
Clarys 2000). The baseline is the median a* over every measured skin pixel of the face; a pixel
is red where a* exceeds it by RED_DELTA. Raw value: red area share (%) of the measured skin; per
region also mean a*. Specular highlights are left out (they carry the light's colour).
"""
import numpy as np

from .common import result, unavailable

METHOD = "a_star_above_face_baseline (CIE L*a*b*, delta a* > 4)"
MIN_PX_PER_MM = 0.5
RED_DELTA = 4.0
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek")


def measure(face, heatmap=False):
    """The redness concern (heatmap: a* above the baseline)."""
    masks = {name: face.measured[name][::2, ::2] & ~face.highlight[::2, ::2]
             for name in REGIONS if name in face.measured}
    if not masks:
        return unavailable("no_region_measured"), None
    a = face.lab_half[..., 1]
    union = np.logical_or.reduce(list(masks.values()))
    baseline = float(np.median(a[union]))
    red = a > baseline + RED_DELTA
    regions = {name: {"area_percent": round(100 * float(red[mask].mean()), 2),
                      "mean_a": round(float(a[mask].mean()), 2)} for name, mask in masks.items()}
    body = result(METHOD, 100 * float(red[union].mean()), "% area", best=2.0, worst=30.0, regions=regions,
                  minimum=MIN_PX_PER_MM, mean_a=round(float(a[union].mean()), 2), baseline_a=round(baseline, 2))
    return body, (np.where(union, np.clip(a - baseline, 0, None), 0) if heatmap else None)
