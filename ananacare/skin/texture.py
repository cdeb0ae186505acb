"""Texture (roughness): the standard deviation of the band-pass G(0.1 mm) - G(1 mm) of the relative
lightness over the skin pixels (% of the skin's lightness): fine relief, not shading or colour.
"""
import numpy as np

from .common import place, result, sigma_px, unavailable, union, window
from .filters import gaussian_filter
from .heatmaps import Marks

METHOD = "bandpass_roughness (std of G(0.1 mm) - G(1 mm))"
MIN_PX_PER_MM = 2.0
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek")


def measure(face, heatmap=False):
    """The texture (roughness) concern (heatmap: the band-pass magnitude)."""
    box = window(face, REGIONS, 4 * sigma_px(face, 1.0))
    if box is None:
        return unavailable("no_region_measured"), None
    measured, relative = union(face, REGIONS)[box], face.relative[box]
    band = (gaussian_filter(relative, max(sigma_px(face, 0.1), 0.3))
            - gaussian_filter(relative, sigma_px(face, 1.0)))
    regions = {name: {"roughness": round(float(band[face.measured[name][box]].std()), 3)}
               for name in REGIONS if name in face.measured}
    body = result(METHOD, float(band[measured].std()), "% lightness", best=0.8, worst=4.0, regions=regions,
                  minimum=MIN_PX_PER_MM)
    return body, (Marks(place(face, box, np.abs(band), measured)) if heatmap else None)
