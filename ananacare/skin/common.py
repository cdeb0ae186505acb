"""What every concern shares: the face's channels, filters in millimetres, scores and severity.

A concern's raw value has a unit; its score maps the raw value linearly from `worst` (0) to `best`
(100) and clips. These anchors are this service's own choice, set on the sample faces in the
tests; they are not calibrated against a population or a dermatologist's grading, and the raw
value is the measurement to compare between photos.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..preprocess.colour import _SRGB_TO_LINEAR

SEVERITY = ((75, "none"), (50, "mild"), (25, "moderate"))  # score >= bound: band; below all: severe


@dataclass
class Face:
    """The pixels and facts every concern reads (built once per analysis)."""

    lightness: np.ndarray  # L* per pixel, full resolution
    relative: np.ndarray  # green-channel lightness, % of its median over skin (see relative_lightness)
    lab_half: np.ndarray | None  # L*a*b* on every second pixel (colour concerns); None for a grey photo
    masks: dict  # region -> boolean mask (geometry minus features), full resolution
    skin: np.ndarray  # boolean: the pixel looks like this face's skin
    highlight: np.ndarray  # boolean: much brighter and paler than the skin (specular)
    dark: np.ndarray  # boolean: much darker than the skin (hair, beard, frames, deep shadow)
    measured: dict  # region -> boolean mask of its skin pixels, for regions with enough coverage
    px_per_mm: float
    rgb: np.ndarray
    origin: tuple = (0, 0)  # (y, x) of these arrays' top-left pixel in the analysed image


def sigma_px(face, mm):
    """A length in millimetres as pixels on this face."""
    return mm * face.px_per_mm


def masked_blur(values, mask, sigma):
    """Gaussian mean of `values` over the mask's pixels only (normalised convolution)."""
    weight = ndimage.gaussian_filter(mask.astype(np.float32), sigma)
    blurred = ndimage.gaussian_filter(np.where(mask, values, 0).astype(np.float32), sigma)
    return blurred / np.maximum(weight, 1e-3)


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


def srgb_lightness(rgb):
    """L* of an sRGB uint8 image (H x W x 3), float32."""
    linear = _SRGB_TO_LINEAR.astype(np.float32)
    y = (linear[rgb[..., 0]] * np.float32(0.2126729) + linear[rgb[..., 1]] * np.float32(0.7151522)
         + linear[rgb[..., 2]] * np.float32(0.072175))
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * np.float32(903.3)).astype(np.float32)


def relative_lightness(rgb, skin):
    """100 x cbrt(linear G) / its median over the skin: the relief channel of wrinkles, spots, pores.

    The cube root is L*'s (L* + 16 = 116 cbrt(Y)), so a global exposure change (linear values times
    k) scales it by cbrt(k), which the division by the median removes. Green, not Y: skin is
    R > G > B, and a bright face clips red first (at +15 % the astronaut's cheeks do), which would
    flatten its relief; green carries most of the luminance and shows melanin and blood well.
    """
    green = np.cbrt(_SRGB_TO_LINEAR.astype(np.float32)[rgb[..., 1]])
    median = float(np.median(green[skin])) if skin.any() else float(green.mean())
    return (100 * green / max(median, 1e-3)).astype(np.float32)


def region_area_cm2(face, mask):
    """A mask's area in cm^2 on this face."""
    return float(mask.sum()) / (face.px_per_mm ** 2) / 100.0
