"""Spots: round patches darker than the skin around them, 1-10 mm across.

The surround is the skin's own lightness averaged over SURROUND_MM (a Gaussian over skin pixels
only, so hair and brows do not darken it); a pixel is spot-dark where the lightly smoothed
relative lightness lies SPOT_CONTRAST (% of the skin's lightness) under it. Connected dark pixels
are one candidate; it is a spot when its equivalent diameter is 1-10 mm, it is round (major
over minor axis of its second moments under MAX_ELONGATION; longer ones are lines, left to
wrinkles) and it lies on measured skin (90 % of it: a blob reaching into an eye or the hair is
their shadow). Reported: spots per cm^2 (raw value), their area share (%), per region.
"""
import numpy as np

from .common import masked_blur, region_area_cm2, result, sigma_px, unavailable, union
from .filters import binary_opening, gaussian_filter, label

METHOD = "dark_blobs_vs_surround (local background subtraction, 1-10 mm, round)"
MIN_PX_PER_MM = 1.0  # a 1 mm spot is then about one pixel
SURROUND_MM = 6.0
SPOT_CONTRAST = 4.0
DIAMETER_MM = (1.0, 10.0)
MAX_ELONGATION = 3.0
MIN_INSIDE = 0.9  # share of a blob's pixels on measured skin
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek", "right_under_eye", "left_under_eye")


def darkness(face, skin):
    """How much darker than its surround each pixel is (% of the skin's lightness)."""
    smooth = gaussian_filter(face.relative, max(sigma_px(face, 0.2), 0.5))
    surround = masked_blur(face.relative, skin, sigma_px(face, SURROUND_MM))
    return surround - smooth


def _spots(dark, face, measured):
    """A labelled image of the dark blobs, the labels that are spots and their centres: 1-10 mm, round, and inside
    measured skin (a blob reaching into an eye, brow or hair is that feature's shadow, not a spot)."""
    labels, count = label(dark)
    if count == 0:
        return labels, [], []
    where = np.flatnonzero(labels)  # the blobs' pixels only: a few % of the skin crop
    owner = labels.ravel()[where]
    ys, xs = (axis.astype(np.float64) for axis in np.divmod(where, labels.shape[1]))
    area = np.bincount(owner, minlength=count + 1)[1:].astype(np.float64)

    def mean(weights):
        return np.bincount(owner, weights=weights, minlength=count + 1)[1:] / np.maximum(area, 1)

    my, mx = mean(ys), mean(xs)
    vyy, vxx, vxy = mean(ys * ys) - my * my, mean(xs * xs) - mx * mx, mean(xs * ys) - mx * my
    root = np.sqrt(((vxx - vyy) / 2) ** 2 + vxy ** 2)
    major, minor = (vxx + vyy) / 2 + root, np.maximum((vxx + vyy) / 2 - root, 1e-6)
    diameter = 2 * np.sqrt(area / np.pi) / face.px_per_mm
    inside = mean(measured.ravel()[where].astype(np.float64))
    index = np.arange(1, count + 1)
    keep = ((diameter >= DIAMETER_MM[0]) & (diameter <= DIAMETER_MM[1]) & (np.sqrt(major / minor) <= MAX_ELONGATION)
            & (inside >= MIN_INSIDE))
    return labels, list(index[keep]), list(zip(my[keep], mx[keep]))


def measure(face, heatmap=False):
    """The spots concern (and its heatmap: darkness against the surround)."""
    measured = union(face, REGIONS)
    if not measured.any():
        return unavailable("no_region_measured"), None
    dark = darkness(face, face.skin)
    labels, kept, centres = _spots(binary_opening(dark > SPOT_CONTRAST), face, measured)
    spot_mask = np.isin(labels, kept)
    regions, total_count, total_area = {}, 0, 0.0
    for name in REGIONS:
        if name not in face.measured:
            continue
        mask = face.measured[name]
        count = sum(1 for y, x in centres if mask[int(round(y)), int(round(x))])
        cm2 = region_area_cm2(face, mask)
        regions[name] = {"count": count, "per_cm2": round(count / max(cm2, 1e-6), 3),
                         "area_percent": round(100 * float((spot_mask & mask).sum()) / max(mask.sum(), 1), 3)}
        total_count += count
        total_area += cm2
    density = total_count / max(total_area, 1e-6)
    body = result(METHOD, density, "spots/cm2", best=0.0, worst=2.0, regions=regions, minimum=MIN_PX_PER_MM,
                  count=total_count, area_percent=round(100 * float((spot_mask & measured).sum())
                                                        / max(measured.sum(), 1), 3))
    return body, (np.where(measured, np.clip(dark, 0, None), 0) if heatmap else None)
