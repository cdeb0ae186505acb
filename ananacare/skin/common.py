"""What every concern shares: the face's channels, filters in millimetres, scores and severity.

A concern's raw value has a unit; its score maps the raw value linearly from `worst` (0) to `best`
(100) and clips. These anchors are this service's own choice, set on the sample faces in the
tests; they are not calibrated against a population or a dermatologist's grading, and the raw
value is the measurement to compare between photos.
"""
from dataclasses import dataclass

import numpy as np

from ..preprocess.colour import SRGB_TO_LINEAR
from .filters import bounding_box, gaussian_filter

SEVERITY = ((75, "none"), (50, "mild"), (25, "moderate"))  # score >= bound: band; below all: severe


@dataclass
class Face:
    """The pixels and facts every concern reads (built once per analysis)."""

    relative: np.ndarray  # green-channel lightness, % of its median over skin (see relative_lightness)
    lab: np.ndarray | None  # L*a*b* on every `step`-th pixel (colour concerns); None for a grey photo
    masks: dict  # region -> boolean mask (geometry minus features), full resolution
    skin: np.ndarray  # boolean: the pixel looks like this face's skin
    highlight: np.ndarray  # boolean: much brighter and paler than the skin (specular)
    dark: np.ndarray  # boolean: much darker than the skin (hair, beard, frames, deep shadow)
    measured: dict  # region -> boolean mask of its skin pixels, for regions with enough coverage
    px_per_mm: float
    origin: tuple = (0, 0)  # (y, x) of these arrays' top-left pixel in the analysed image
    step: int = 2  # the colour grid's pixel step (colour_step)
    rgb: np.ndarray | None = None  # the sRGB pixels of the colour grid
    light: dict | None = None  # the white reference the eyes give (ananacare.skin.light.reference)
    detail: object = None  # Detail: the skin crop at full resolution, when the face is measured coarser
    median: float = 1.0  # the cube root of the linear green's median over the skin: `relative`'s 100 %
    colour_overall: dict | None = None  # the measured skin's colour summary, set by the tone concern

    @property
    def source_px_per_mm(self):
        """Pixels per millimetre of the skin crop itself (the face's own when it is measured at it)."""
        return self.px_per_mm / self.detail.zoom if self.detail is not None else self.px_per_mm

    def on_grid(self, mask):
        """A full-resolution mask on the colour grid."""
        return mask[::self.step, ::self.step]

    def to_full(self, values):
        """Colour-grid values repeated back to the full resolution."""
        return np.repeat(np.repeat(values, self.step, axis=0), self.step, axis=1)[:self.relative.shape[0],
                                                                                  :self.relative.shape[1]]


def colour_step(px_per_mm):
    """The colour grid's step: colour is smooth on skin, and about 1.5 px/mm resolve a spot's or a
    red patch's millimetres; every second pixel at the least."""
    return max(2, int(round(px_per_mm / 1.5)))


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


def place(face, box, values, where=None):
    """A window's values placed back into a face-sized array, NaN outside `where` (for heatmaps)."""
    full = np.full(face.relative.shape, np.nan, dtype=np.float32)
    full[box] = values if where is None else np.where(where, values, np.nan)
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
    box = bounding_box(union(face, names))
    if box is None:
        return None
    top, bottom, left, right = box
    pad = int(np.ceil(pad_px))
    return slice(max(0, top - pad), bottom + pad + 1), slice(max(0, left - pad), right + pad + 1)


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


@dataclass
class Detail:
    """The skin crop at its full resolution beside a face measured at ANALYSIS_PX_PER_MM: what pores
    (4 px/mm) read. `zoom`: the face's pixels per detail pixel; `median`: the face's green median
    (cube root, linear), so relative lightness is the same measure at both resolutions."""

    rgb: np.ndarray
    zoom: float
    median: float

    def relative(self, box):
        """Relative lightness of the detail pixels in `box` (slices), on the face's median."""
        return (100 / max(self.median, 1e-3) * GREEN_CBRT)[self.rgb[box][..., 1]]


GREEN_CBRT = np.cbrt(SRGB_TO_LINEAR.astype(np.float32))


def green_median(rgb, skin):
    """The cube root of the linear green's median over the skin (from its 8-bit histogram)."""
    green = rgb[..., 1]
    counts = np.bincount((green[skin] if skin.any() else green).ravel(), minlength=256)
    return float(GREEN_CBRT[int(np.searchsorted(np.cumsum(counts), (counts.sum() + 1) / 2))])


def relative_lightness(rgb, skin, median=None):
    """100 x cbrt(linear G) / its median over the skin: the relief channel of wrinkles, spots, pores.

    The cube root is L*'s (L* + 16 = 116 cbrt(Y)), so a global exposure change (linear values times
    k) scales it by cbrt(k), which the division by the median removes. Green, not Y: skin is
    R > G > B, and a bright face clips red first (at +15 % the astronaut's cheeks do), which would
    flatten its relief; green carries most of the luminance and shows melanin and blood well.
    Green is 8-bit: the cube root is a table, the median a histogram's.
    """
    median = green_median(rgb, skin) if median is None else median
    return (100 / max(median, 1e-3) * GREEN_CBRT)[rgb[..., 1]].astype(np.float32)


def region_area_cm2(face, mask):
    """A mask's area in cm^2 on this face."""
    return float(mask.sum()) / (face.px_per_mm ** 2) / 100.0
