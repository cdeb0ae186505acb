"""Wrinkles: dark lines on the skin, found by the Hessian of lightness at scales in millimetres.

A wrinkle images as a valley of lightness: across it the second derivative is large and positive,
along it near zero. At each scale s (0.25, 0.4, 0.6 mm; at least MIN_SIGMA_PX) the Hessian of the
relative lightness is taken by Gaussian derivative kernels (equally strong along the axes and the
diagonals); a pixel is on a line where the larger eigenvalue L2, scale-normalised (s^2 L2,
Lindeberg 1998), is large and the smaller one is under half of it (a line, not a blob: the valley
test of Frangi et al. 1998). Line centres: in each column (a line nearer horizontal) or row
(nearer vertical), the one pixel nearest the valley's floor, located by a Taylor step across the
line (valley_response), so a line is one centre thick at any angle.

Length is measured the same at any angle: a centre pixel stands for the step along the line it
makes, 1 / max(|cos|, |sin|) of the line's direction (1 along the axes, sqrt 2 on a diagonal).
Stable: a centre counts with a weight that rises from 0 at LOW_CONTRAST to 1 at FULL_CONTRAST, so a
faint line near the threshold adds a fraction instead of flipping in or out. Reported: line length
per skin area (cm/cm^2, the raw value) and depth contrast (mean response on counted centres, % of
the skin's lightness), per region.
"""
import numpy as np

from .common import place, region_area_cm2, result, sigma_px, unavailable, window
from .filters import derivatives
from .heatmaps import Marks

METHOD = "hessian_valley_lines (Frangi 1998 style; scales 0.25-0.6 mm; isotropic length)"
SCALES_MM = (0.25, 0.4, 0.6)
MIN_SIGMA_PX = 0.8  # sampled derivative kernels narrower than this are no longer isotropic
MIN_PX_PER_MM = 2.0  # a 0.25 mm scale is then 0.5 px: finer is not resolved
LOW_CONTRAST, FULL_CONTRAST = 0.9, 1.5  # s^2 * L2 in % of skin lightness: a centre's weight ramps between
REGIONS = ("forehead", "right_crows_feet", "left_crows_feet", "right_under_eye", "left_under_eye",
           "right_nasolabial", "left_nasolabial", "right_cheek", "left_cheek")


def valley_response(relative, face):
    """(response, centres, step): the strongest valley response over scales, the line-centre pixels,
    and the length in pixels each pixel stands for along its line.

    A centre is the one pixel of its column (a line nearer horizontal) or row (nearer vertical)
    nearest the valley's floor: the floor's offset from each pixel, -gradient / curvature along the
    across direction (a Taylor step), is carried to the column or row, and a pixel is the centre when
    the floor lies within a pixel of it and nearer to it than to its neighbour on the floor's side.
    So a straight line has one centre per column or row at any angle, between two rows included,
    and each stands for 1 / max(|cos|, |sin|) of the line's direction in length."""
    best = np.zeros(relative.shape, dtype=np.float32)
    kept = None  # the derivatives (gy, gx, ryy, rxy, rxx, L2) at each pixel's strongest scale
    for mm in SCALES_MM:
        s = max(sigma_px(face, mm), MIN_SIGMA_PX)
        found = derivatives(relative, s)
        _, _, ryy, rxy, rxx = found
        half_trace, root = (rxx + ryy) / 2, np.sqrt(((rxx - ryy) / 2) ** 2 + rxy ** 2)
        large, small = half_trace + root, half_trace - root
        line = (s * s * large) * (np.abs(small) < 0.5 * np.abs(large)) * (large > 0)
        if kept is None:
            best, kept = line, (*found, large)
            continue
        stronger = line > best
        for old, new in zip((best, *kept), (line, *found, large)):
            np.copyto(old, new, where=stronger)  # in place: no new arrays per scale
    gy, gx, ryy, rxy, rxx, large = kept
    across = 0.5 * np.arctan2(2 * rxy, rxx - ryy)  # the direction of L2's eigenvector: across the line
    ny, nx = np.sin(across), np.cos(across)
    offset = -(gx * nx + gy * ny) / np.maximum(large, 1e-6)  # to the valley's floor, along (nx, ny)
    column = np.abs(ny) >= np.abs(nx)  # the line is nearer horizontal: one centre per column
    grid_offset = offset / np.where(column, ny, nx)  # the floor's offset along the column or row
    height, width = best.shape
    ys, xs = np.nonzero((best >= LOW_CONTRAST) & (np.abs(grid_offset) <= 1.0))
    centres = np.zeros(best.shape, dtype=bool)
    if len(ys):
        mine = grid_offset[ys, xs]
        towards = np.where(mine >= 0, 1, -1)
        qy = np.clip(ys + np.where(column[ys, xs], towards, 0), 0, height - 1)
        qx = np.clip(xs + np.where(column[ys, xs], 0, towards), 0, width - 1)
        theirs = np.abs(grid_offset[qy, qx])
        nearer = (np.abs(mine) < theirs) | ((np.abs(mine) == theirs) & (mine < 0)) | (best[qy, qx] < LOW_CONTRAST)
        centres[ys, xs] = nearer
    dominant = np.maximum(np.abs(ny), np.abs(nx))  # >= 1 / sqrt 2
    return best, centres, (1.0 / dominant).astype(np.float32)


def line_weight(response):
    """How much a centre counts: 0 at LOW_CONTRAST rising to 1 at FULL_CONTRAST."""
    return np.clip((response - LOW_CONTRAST) / (FULL_CONTRAST - LOW_CONTRAST), 0, 1)


def measure(face, heatmap=False):
    """The wrinkle concern (and, for the heatmap, the line centres it counted)."""
    box = window(face, REGIONS, 4 * sigma_px(face, SCALES_MM[-1]))
    if box is None:
        return unavailable("no_region_measured"), None
    response, centres, step = valley_response(face.relative[box], face)
    weight = np.where(centres, line_weight(response), 0.0)
    regions, length_mm, area, depth, depth_weight = {}, 0.0, 0.0, 0.0, 0.0
    counted = np.zeros(response.shape, dtype=bool)
    for name in REGIONS:
        if name not in face.measured:
            continue
        mask = face.measured[name][box]
        counted |= mask & (weight > 0)
        cm2 = region_area_cm2(face, mask)  # the window holds the whole region
        region_length = float((weight * step)[mask].sum()) / face.px_per_mm
        region_weight = float(weight[mask].sum())
        region_depth = float((weight * response)[mask].sum()) / region_weight if region_weight else 0.0
        regions[name] = {"length_cm_per_cm2": round(region_length / 10 / max(cm2, 1e-6), 3),
                         "depth_contrast": round(region_depth, 3)}
        length_mm += region_length
        area += cm2
        depth += region_depth * region_weight
        depth_weight += region_weight
    if area <= 0:
        return unavailable("no_region_measured"), None
    density = length_mm / 10 / area
    body = result(METHOD, density, "cm/cm2", best=0.5, worst=6.0, regions=regions, minimum=MIN_PX_PER_MM,
                  depth_contrast=round(depth / depth_weight if depth_weight else 0.0, 3), depth_unit="% lightness")
    return body, (Marks(place(face, box, response, counted), "mark") if heatmap else None)
