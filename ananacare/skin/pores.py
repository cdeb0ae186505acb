"""Pores: small dark pits on the cheeks and nose, found by a difference of Gaussians.

The difference of Gaussians DoG = G(s2) - G(s1) of the relative lightness with s1 = 0.12 mm and
s2 = 0.35 mm (a Laplacian-of-Gaussian approximation, Lowe 2004) is positive on a pit smaller than
about 0.5 mm; its local maxima above PORE_CONTRAST (% of the skin's lightness) are pores. Raw
value: pores per cm^2; also their mean contrast.
"""

from .common import place, region_area_cm2, result, sigma_px, unavailable, union, window
from .filters import gaussian_filter, maximum_filter
from .heatmaps import Marks

METHOD = "dog_pits (difference of Gaussians 0.12/0.35 mm, local maxima)"
MIN_PX_PER_MM = 4.0  # a 0.12 mm scale is then half a pixel
PORE_CONTRAST = 1.0
REGIONS = ("nose", "right_cheek", "left_cheek")


def measure(face, heatmap=False):
    """The pores concern (heatmap: the DoG pit response)."""
    box = window(face, REGIONS, 4 * sigma_px(face, 0.35))
    if box is None:
        return unavailable("no_region_measured"), None
    measured, relative = union(face, REGIONS)[box], face.relative[box]
    fine = gaussian_filter(relative, max(sigma_px(face, 0.12), 0.5))
    dog = gaussian_filter(relative, sigma_px(face, 0.35)) - fine
    size = max(3, int(round(sigma_px(face, 0.5))) | 1)
    peaks = (dog == maximum_filter(dog, size=size)) & (dog > PORE_CONTRAST) & measured
    regions, count, area = {}, 0, 0.0
    for name in REGIONS:
        if name in face.measured:
            n, cm2 = int((peaks & face.measured[name][box]).sum()), region_area_cm2(face, face.measured[name])
            regions[name] = {"count": n, "per_cm2": round(n / max(cm2, 1e-6), 2)}
            count, area = count + n, area + cm2
    body = result(METHOD, count / max(area, 1e-6), "pores/cm2", best=5.0, worst=60.0, regions=regions,
                  minimum=MIN_PX_PER_MM, mean_contrast=round(float(dog[peaks].mean()) if count else 0.0, 3))
    return body, (Marks(place(face, box, dog, peaks), "mark") if heatmap else None)
