"""Wrinkles: dark lines on the skin, found by the Hessian of lightness at scales in millimetres.

A wrinkle images as a valley of lightness: across it the second derivative is large and positive,
along it near zero. At each scale s (0.25, 0.4, 0.6 mm) the Hessian of the relative lightness is
taken by Gaussian derivatives; a pixel is on a line where the larger eigenvalue L2, scale-normalised
(s^2 L2, Lindeberg 1998), exceeds LINE_CONTRAST and the smaller one is under half of it (a line, not
a blob): the valley test of Frangi et al. 1998 with a hard threshold. Line centres (the maximum
across the line) are counted as length. Reported: line length per skin area (cm/cm^2, the raw
value) and depth contrast (the mean response on line centres, % of the skin's lightness), per
region on the forehead, crow's-feet, under-eyes, nasolabial folds, cheeks.
"""
import numpy as np

from .common import place, region_area_cm2, result, sigma_px, unavailable, window
from .filters import gaussian_filter

METHOD = "hessian_valley_lines (Frangi 1998 style; scales 0.25-0.6 mm)"
SCALES_MM = (0.25, 0.4, 0.6)
MIN_PX_PER_MM = 2.0  # a 0.25 mm scale is then 0.5 px: finer is not resolved
LINE_CONTRAST = 1.2  # s^2 * L2 in % of skin lightness
REGIONS = ("forehead", "right_crows_feet", "left_crows_feet", "right_under_eye", "left_under_eye",
           "right_nasolabial", "left_nasolabial", "right_cheek", "left_cheek")


def valley_response(relative, face):
    """(response, centres): the strongest valley response over scales, and line-centre pixels."""
    best = np.zeros(relative.shape, dtype=np.float32)
    direction = np.zeros(relative.shape, dtype=np.float32)
    for mm in SCALES_MM:
        s = max(sigma_px(face, mm), 0.5)
        gy, gx = np.gradient(gaussian_filter(relative, s))
        ryy, rxy = np.gradient(gy)
        rxx = np.gradient(gx, axis=1)
        half_trace, root = (rxx + ryy) / 2, np.sqrt(((rxx - ryy) / 2) ** 2 + rxy ** 2)
        large, small = half_trace + root, half_trace - root
        line = (s * s * large) * (np.abs(small) < 0.5 * np.abs(large)) * (large > 0)
        stronger = line > best
        best = np.where(stronger, line, best)
        direction = np.where(stronger, 0.5 * np.arctan2(2 * rxy, rxx - ryy), direction)  # across the line
    dx, dy = np.rint(np.cos(direction)).astype(int), np.rint(np.sin(direction)).astype(int)
    height, width = best.shape
    ys, xs = np.mgrid[0:height, 0:width]
    ahead = best[np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1)]
    behind = best[np.clip(ys - dy, 0, height - 1), np.clip(xs - dx, 0, width - 1)]
    centres = (best >= LINE_CONTRAST) & (best >= ahead) & (best >= behind)
    return best, centres


def measure(face, heatmap=False):
    """The wrinkle concern on the face (and its heatmap: the valley response)."""
    box = window(face, REGIONS, 4 * sigma_px(face, SCALES_MM[-1]))
    if box is None:
        return unavailable("no_region_measured"), None
    response, centres = valley_response(face.relative[box], face)
    regions, length_mm, area, depth = {}, 0.0, 0.0, []
    union = np.zeros(response.shape, dtype=bool)
    for name in REGIONS:
        if name not in face.measured:
            continue
        mask = face.measured[name][box]
        union |= mask
        found = centres & mask
        cm2 = region_area_cm2(face, mask)  # the window holds the whole region
        region_length = found.sum() / face.px_per_mm  # mm: one centre pixel per pixel of length
        region_depth = float(response[found].mean()) if found.any() else 0.0
        regions[name] = {"length_cm_per_cm2": round(region_length / 10 / max(cm2, 1e-6), 3),
                         "depth_contrast": round(region_depth, 3)}
        length_mm += region_length
        area += cm2
        depth.extend(response[found].tolist())
    if area <= 0:
        return unavailable("no_region_measured"), None
    density = length_mm / 10 / area
    body = result(METHOD, density, "cm/cm2", best=0.5, worst=6.0, regions=regions, minimum=MIN_PX_PER_MM,
                  depth_contrast=round(float(np.mean(depth)) if depth else 0.0, 3), depth_unit="% lightness")
    return body, (place(face, box, np.where(union, response, 0)) if heatmap else None)
