"""Redness: the share of skin redder than this face's own baseline, and the mean a*.

CIE a* (green-red axis) tracks erythema (haemoglobin) in skin colourimetry (Takiwaki 1998;
Clarys 2000). The baseline is the 30th percentile of a* on the forehead and chin (the face's less
red skin; cheeks and nose redden first); a pixel is red where a* exceeds it by RED_DELTA. Raw value: red area share (%)
of the measured skin; per region also mean a*. Specular highlights are left out (they carry the
light's colour).
"""
import numpy as np

from .common import result, unavailable
from .heatmaps import Marks

METHOD = "a_star_above_face_baseline (CIE L*a*b*, delta a* > 4 over the forehead and chin's 30th percentile)"
MIN_PX_PER_MM = 0.5
RED_DELTA = 4.0
# The baseline is the face's less red skin: the 30th percentile of a* on the forehead and chin (all
# the measured skin when neither is measured), not the median over the face: red cheeks are half of
# it, and a median would rise with them and hide them.
BASELINE_PERCENTILE = 30
BASELINE_REGIONS = ("forehead", "chin")
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek")


def measure(face, heatmap=False):
    """The redness concern (heatmap: a* above the baseline)."""
    masks = {name: face.on_grid(face.measured[name] & ~face.highlight)
             for name in REGIONS if name in face.measured}
    if not masks:
        return unavailable("no_region_measured"), None
    a = face.lab[..., 1]
    union = np.logical_or.reduce(list(masks.values()))
    plain = [masks[name] for name in BASELINE_REGIONS if name in masks and masks[name].sum() >= 20]
    baseline = float(np.percentile(a[np.logical_or.reduce(plain) if plain else union], BASELINE_PERCENTILE))
    red = a > baseline + RED_DELTA
    regions = {name: {"area_percent": round(100 * float(red[mask].mean()), 2),
                      "mean_a": round(float(a[mask].mean()), 2)} for name, mask in masks.items()}
    body = result(METHOD, 100 * float(red[union].mean()), "% area", best=2.0, worst=30.0, regions=regions,
                  minimum=MIN_PX_PER_MM, mean_a=round(float(a[union].mean()), 2), baseline_a=round(baseline, 2))
    if not heatmap:
        return body, None
    above = np.where(union & red, a - baseline, np.nan)  # the red area the raw value counts
    return body, Marks(face.to_full(above).astype(np.float32))
