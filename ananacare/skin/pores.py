"""Pores: small dark pits on the cheeks and nose, found by a difference of Gaussians.

The difference of Gaussians DoG = G(s2) - G(s1) of the relative lightness with s1 = 0.12 mm and
s2 = 0.35 mm (a Laplacian-of-Gaussian approximation, Lowe 2004) is positive on a pit smaller than
about 0.5 mm; its local maxima above PORE_CONTRAST (% of the skin's lightness) are pores. Raw
value: pores per cm^2; also their mean contrast. Pores read the skin crop at its full resolution
(the face's Detail) where the face itself is measured coarser: the regions' masks are brought up to
it, their areas stay the face's.
"""
import numpy as np
from PIL import Image

from .common import place, region_area_cm2, result, sigma_px, unavailable, window
from .filters import gaussian_filter, maximum_filter
from .heatmaps import Marks

METHOD = "dog_pits (difference of Gaussians 0.12/0.35 mm, local maxima)"
MIN_PX_PER_MM = 4.0  # a 0.12 mm scale is then half a pixel
PORE_CONTRAST = 1.0
REGIONS = ("nose", "right_cheek", "left_cheek")


def measure(face, heatmap=False):
    """The pores concern (heatmap: the pits counted, valued by their contrast)."""
    box = window(face, REGIONS, 4 * sigma_px(face, 0.35))
    if box is None:
        return unavailable("no_region_measured"), None
    if face.detail is None:
        relative, masks, px_per_mm, origin = face.relative[box], _masks(face, box), face.px_per_mm, None
    else:
        relative, masks, origin = _detail(face, box)
        px_per_mm = face.source_px_per_mm
    measured = np.logical_or.reduce(list(masks.values()))
    fine = gaussian_filter(relative, max(0.12 * px_per_mm, 0.5))
    dog = gaussian_filter(relative, 0.35 * px_per_mm) - fine
    size = max(3, int(round(0.5 * px_per_mm)) | 1)
    peaks = (dog == maximum_filter(dog, size=size)) & (dog > PORE_CONTRAST) & measured
    regions, count, area = {}, 0, 0.0
    for name, mask in masks.items():
        n, cm2 = int((peaks & mask).sum()), region_area_cm2(face, face.measured[name])
        regions[name] = {"count": n, "per_cm2": round(n / max(cm2, 1e-6), 2)}
        count, area = count + n, area + cm2
    body = result(METHOD, count / max(area, 1e-6), "pores/cm2", best=5.0, worst=60.0, regions=regions,
                  minimum=MIN_PX_PER_MM, mean_contrast=round(float(dog[peaks].mean()) if count else 0.0, 3))
    if not heatmap:
        return body, None
    if origin is None:
        return body, Marks(place(face, box, dog, peaks), "mark")
    return body, Marks(np.where(peaks, dog, np.nan).astype(np.float32), "mark", detail=True, origin=origin)


def _masks(face, box):
    return {name: face.measured[name][box] for name in REGIONS if name in face.measured}


def _detail(face, box):
    """(relative lightness, region masks, origin (y, x)) of the face's window `box` in the skin crop's
    own pixels: the masks brought up from the face's resolution."""
    detail = face.detail
    y0, x0 = face.origin
    top, left = (y0 + box[0].start) / detail.zoom, (x0 + box[1].start) / detail.zoom
    bottom, right = (y0 + box[0].stop) / detail.zoom, (x0 + box[1].stop) / detail.zoom
    height, width = detail.rgb.shape[:2]
    top, left = max(0, int(round(top))), max(0, int(round(left)))
    bottom, right = min(height, int(round(bottom))), min(width, int(round(right)))
    size = (right - left, bottom - top)
    masks = {name: np.asarray(Image.fromarray(mask.astype(np.uint8)).resize(size, Image.Resampling.NEAREST)) > 0
             for name, mask in _masks(face, box).items()}
    return detail.relative((slice(top, bottom), slice(left, right))), masks, (top, left)
