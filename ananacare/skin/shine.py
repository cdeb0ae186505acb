"""Shine: specular highlight share in the T-zone against the cheeks.

A specular reflection is brighter than the face's skin (L* above the skin's local lightness by
more than 2.5 robust sigmas, the sigma capped at 5, and at least 8) and paler (chroma under 70 %
of the skin's: the light's colour): the same test that takes highlights out of the colour measures
(regions.classify_skin). Oily skin
shines first on the T-zone (forehead, nose, chin). Raw value: highlight share of the T-zone (%);
also the cheeks' share and the T-zone over cheek ratio. Runs on a grey photo too, where there is
no chroma to test: brightness alone then decides.
"""
import numpy as np

from .common import result, unavailable
from .heatmaps import Marks
from .regions import CHEEKS, T_ZONE

METHOD = "specular_highlight_share (L* > local skin L* + max(2.5 min(sigma, 5), 8), C* < 0.7 skin C*)"
MIN_PX_PER_MM = 0.5


def _share(face, names):
    mask = np.zeros(face.highlight.shape, dtype=bool)
    for name in names:
        if name in face.masks:
            mask |= face.masks[name] & ~face.dark
    return (100 * float(face.highlight[mask].mean()) if mask.any() else None), mask


def measure(face, heatmap=False):
    """The shine concern (heatmap: highlight pixels in the T-zone and on the cheeks)."""
    t_zone, t_mask = _share(face, T_ZONE)
    cheeks, c_mask = _share(face, CHEEKS)
    if t_zone is None:
        return unavailable("no_region_measured"), None
    regions = {}
    for name in (*T_ZONE, *CHEEKS):
        if name in face.masks:
            mask = face.masks[name] & ~face.dark
            if mask.any():
                regions[name] = {"highlight_percent": round(100 * float(face.highlight[mask].mean()), 3)}
    ratio = round(t_zone / cheeks, 2) if cheeks else None
    body = result(METHOD, t_zone, "% T-zone", best=0.0, worst=5.0, regions=regions, minimum=MIN_PX_PER_MM,
                  cheeks_percent=round(cheeks, 3) if cheeks is not None else None, t_zone_to_cheeks=ratio)
    if not heatmap:
        return body, None
    shining = face.highlight & (t_mask | c_mask)  # the highlights counted, valued by the T-zone's share
    return body, Marks(np.where(shining, t_zone, np.nan).astype(np.float32), "mark")
