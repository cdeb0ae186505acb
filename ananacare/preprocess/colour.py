"""CIE L*a*b* (sRGB, D65) and chroma: the colour primitives that quality checks and skin share.

Colour needs colour: a grey photo (or one whose face has almost no chroma, C* = sqrt(a*^2 + b*^2)
under MIN_SKIN_CHROMA; skin measures 10-30) has no skin colour to measure.
"""
import numpy as np

MIN_SKIN_CHROMA = 4.0  # mean C* below this: no colour to measure (grey JPEGs measure under 1)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


_LEVELS = np.arange(256) / 255.0
SRGB_TO_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)


def srgb_to_lab(pixels, dtype=np.float64):
    """N x 3 uint8 sRGB -> N x 3 CIE L*a*b* (D65); float32 is about 3x faster and within 1e-4."""
    return linear_to_lab(SRGB_TO_LINEAR.astype(dtype)[np.asarray(pixels, dtype=np.uint8)], dtype)


def linear_to_lab(linear, dtype=np.float64):
    """N x 3 linear-light sRGB (0-1) -> N x 3 CIE L*a*b* (D65)."""
    linear = np.asarray(linear, dtype=dtype)
    xyz = linear @ (_SRGB_TO_XYZ.T / _D65_WHITE).astype(dtype)
    f = np.cbrt(xyz)
    low = xyz <= (6 / 29) ** 3  # the linear toe near black: rare on a face, so patched in place
    if low.any():
        f[low] = xyz[low] * dtype(1 / (3 * (6 / 29) ** 2)) + dtype(4 / 29)
    lab = np.empty_like(f)
    lab[:, 0] = 116 * f[:, 1] - 16
    lab[:, 1] = 500 * (f[:, 0] - f[:, 1])
    lab[:, 2] = 200 * (f[:, 1] - f[:, 2])
    return lab


def mean_chroma(pixels):
    """Mean CIE chroma C* of RGB pixels (any shape ending in 3): about 0 for a grey photo."""
    lab = srgb_to_lab(np.asarray(pixels, dtype=np.uint8).reshape(-1, 3))
    return float(np.hypot(lab[:, 1], lab[:, 2]).mean()) if len(lab) else 0.0
