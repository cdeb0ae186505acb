"""What every concern shares: the face's channels, filters in millimetres, scores and severity.

A concern's raw value has a unit; its score maps the raw value linearly from `worst` (0) to `best`
(100) and clips. These anchors are this service's own choice, set on the sample faces in the
tests; they are not calibrated against a population or a dermatologist's grading, and the raw
value is the measurement to compare between photos.
"""
from dataclasses import dataclass

import numpy as np

from ..preprocess.colour import SRGB_TO_LINEAR
from .filters import gaussian_filter

SEVERITY = ((75, "none"), (50, "mild"), (25, "moderate"))  # score >= bound: band; below all: severe


@dataclass
class Face:
    """The pixels and facts every concern reads (built once per analysis)."""

    lightness: np.ndarray  # L* per pixel (from every second pixel, repeated: for heatmaps)
    relative: np.ndarray  # green-channel lightness, % of its median over skin (see relative_lightness)
    lab_half: np.ndarray | None  # L*a*b* on every second pixel (colour concerns); None for a grey photo
    masks: dict  # region -> boolean mask (geometry minus features), full resolution
    skin: np.ndarray  # boolean: the pixel looks like this face's skin
    highlight: np.ndarray  # boolean: much brighter and paler than the skin (specular)
    dark: np.ndarray  # boolean: much darker than the skin (hair, beard, frames, deep shadow)
    measured: dict  # region -> boolean mask of its skin pixels, for regions with enough coverage
    px_per_mm: float
    origin: tuple = (0, 0)  # (y, x) of these arrays' top-left pixel in the analysed image


def sigma_px(face, mm):
    """A length in millimetres as pixels on this face."""
    return mm * face.px_per_mm


def masked_blur(values, mask, sigma):
    """Gaussian mean of `values` over the mask's pixels only (normalised convolution).

    A wide blur is taken on a block-averaged copy (blocks of about sigma / 4 pixels) and
    interpolated back: the result is smooth at that scale anyway, and it costs 1 / block^2.
    """
    block = max(1, int(sigma / 4))
    weights = mask.astype(np.float32)
    product = np.where(mask, values, 0).astype(np.float32)
    if block > 1:
        weights, product = _block_mean(weights, block), _block_mean(product, block)
    ratio = (gaussian_filter(product, sigma / block)
             / np.maximum(gaussian_filter(weights, sigma / block), 1e-3))
    if block == 1:
        return ratio
    return _upsample_linear(_upsample_linear(ratio, block, mask.shape[0], 0), block, mask.shape[1], 1)


def _block_mean(values, block):
    height, width = values.shape
    padded = np.pad(values, ((0, -height % block), (0, -width % block)), mode="edge")
    return padded.reshape(padded.shape[0] // block, block, padded.shape[1] // block, block).mean(axis=(1, 3))


def _upsample_linear(values, block, size, axis):
    """Linear interpolation of block centres back to `size` pixels along an axis."""
    position = np.clip((np.arange(size) + 0.5) / block - 0.5, 0, values.shape[axis] - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, values.shape[axis] - 1)
    weight = (position - low).astype(np.float32)
    if axis == 0:
        return values[low] * (1 - weight[:, None]) + values[high] * weight[:, None]
    return values[:, low] * (1 - weight) + values[:, high] * weight


def place(face, box, values):
    """A window's map placed back into a face-sized array of zeros (for heatmaps)."""
    full = np.zeros(face.relative.shape, dtype=np.float32)
    full[box] = values
    return full


def union(face, names):
    """The named measured regions' masks, combined."""
    mask = np.zeros(face.relative.shape, dtype=bool)
    for name in names:
        if name in face.measured:
            mask |= face.measured[name]
    return mask


def window(face, names, pad_px):
    """Slices of the bounding box of the named measured regions, padded: where a concern works."""
    ys, xs = np.nonzero(union(face, names))
    if not len(ys):
        return None
    pad = int(np.ceil(pad_px))
    return (slice(max(0, ys.min() - pad), ys.max() + pad + 1), slice(max(0, xs.min() - pad), xs.max() + pad + 1))


def score(value, best, worst):
    """0-100, 100 at `best` or beyond, 0 at `worst` or beyond (linear between)."""
    fraction = (worst - value) / (worst - best)
    return round(float(np.clip(fraction, 0, 1) * 100), 1)


def severity(value_score):
    """none / mild / moderate / severe from a 0-100 score."""
    for bound, band in SEVERITY:
        if value_score >= bound:
            return band
    return "severe"


def unavailable(reason, minimum=None, **facts):
    """A concern that could not be measured on this photo, and why."""
    body = {"available": False, "reason": reason, **facts}
    if minimum is not None:
        body["min_px_per_mm"] = minimum
    return body


def result(method, value, unit, best, worst, regions, minimum, **extra):
    """The common shape of a measured concern."""
    value_score = score(value, best, worst)
    return {"available": True, "method": method, "value": round(float(value), 4), "unit": unit,
            "score": value_score, "severity": severity(value_score), "regions": regions,
            "min_px_per_mm": minimum, **extra}


def relative_lightness(rgb, skin):
    """100 x cbrt(linear G) / its median over the skin: the relief channel of wrinkles, spots, pores.

    The cube root is L*'s (L* + 16 = 116 cbrt(Y)), so a global exposure change (linear values times
    k) scales it by cbrt(k), which the division by the median removes. Green, not Y: skin is
    R > G > B, and a bright face clips red first (at +15 % the astronaut's cheeks do), which would
    flatten its relief; green carries most of the luminance and shows melanin and blood well.
    """
    green = np.cbrt(SRGB_TO_LINEAR.astype(np.float32)[rgb[..., 1]])
    median = float(np.median(green[skin])) if skin.any() else float(green.mean())
    return (100 * green / max(median, 1e-3)).astype(np.float32)


def region_area_cm2(face, mask):
    """A mask's area in cm^2 on this face."""
    return float(mask.sum()) / (face.px_per_mm ** 2) / 100.0
