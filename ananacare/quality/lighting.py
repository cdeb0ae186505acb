"""OFIQ's light and colour measures on the face: luminance mean and variance, under- and
over-exposure, dynamic range, illumination uniformity, natural colour.

Luminance is OFIQ's: sRGB linearised, Y = 0.2126 R + 0.7152 G + 0.0722 B, as 0-255 integers.
The face region is the convex hull of the mesh points from the eyebrows down (OFIQ: the hull of
ADNet's 98 points, which reach the brows, not the forehead). Measured on the upright face region
the mesh model saw (the face box x 1.5 at 192 px), not on OFIQ's aligned 616 px face: histograms
and shares do not depend on that scale. OFIQ also removes occluded pixels (a segmentation model
this service does not have) before the exposure shares.
"""
import numpy as np
from PIL import Image, ImageDraw

from .geometry import cheek_zones

# mesh points of the eyebrows' upper edge: the face region starts there
BROW_TOP = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
# the mesh's outer face contour (MediaPipe's FACE_OVAL), clockwise from the forehead's top
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
_SRGB = np.arange(256) / 255.0
_LINEAR = np.where(_SRGB > 0.04045, ((_SRGB + 0.055) / 1.055) ** 2.4, _SRGB / 12.92)  # OFIQ's ColorConvert
# Y x 255 contributed by each channel's 0-255 level: three table look-ups per pixel instead of the power law
_Y_TABLES = [(_LINEAR * weight * 255).astype(np.float32) for weight in (0.2126, 0.7152, 0.0722)]


def linear_luminance(pixels):
    """OFIQ's luminance image (uint8) of an RGB uint8 array: linear-light Y x 255, rounded."""
    pixels = np.asarray(pixels)
    y = _Y_TABLES[0][pixels[..., 0]] + _Y_TABLES[1][pixels[..., 1]] + _Y_TABLES[2][pixels[..., 2]]
    return np.floor(y + 0.5).astype(np.uint8)


def convex_hull(points):
    """The convex hull of 2D points, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=float)))

    def half(sequence):
        chain = []
        for p in sequence:
            while len(chain) >= 2 and ((chain[-1][0] - chain[-2][0]) * (p[1] - chain[-2][1])
                                       - (chain[-1][1] - chain[-2][1]) * (p[0] - chain[-2][0])) <= 0:
                chain.pop()
            chain.append(p)
        return chain[:-1]
    return half(pts) + half(reversed(pts))


def face_mask(points, size):
    """Boolean mask (height x width) of the face: the hull of the mesh points from the brows down."""
    xy = np.asarray(points)[:, :2]
    top = xy[list(BROW_TOP), 1].min()
    outline = xy[list(FACE_OVAL + BROW_TOP)]  # the outer points: the hull of all points is theirs
    canvas = Image.new("1", size, 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in convex_hull(outline[outline[:, 1] >= top])], fill=1)
    return np.asarray(canvas, dtype=bool)


def _histogram(values):
    counts = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _entropy(histogram):
    nonzero = histogram[histogram > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def _zone(image, x, y, side):
    """A square zone clipped to the image (OFIQ's rectangle inside the aligned face)."""
    return image[max(y, 0):max(y + side, 0), max(x, 0):max(x + side, 0)]


def _lab_ab(rgb_mean):
    """CIE a*, b* (D50, OFIQ's matrices) of one mean sRGB colour (0-255)."""
    c = np.asarray(rgb_mean, dtype=np.float64) / 255.0
    linear = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    x = linear @ (0.43605, 0.38508, 0.14309) / 0.964221
    y = linear @ (0.22249, 0.71689, 0.06062)
    z = linear @ (0.01393, 0.09710, 0.71419) / 0.825211
    k, eps = 24289 / 27.0, 216 / 24389.0  # OFIQ's constants (the CIE's kappa is 24389/27)

    def f(t):
        return np.cbrt(t) if t > eps else (k * t + 16) / 116
    return 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def natural_colour_distance(a, b):
    """How far the cheeks' mean a*, b* lie outside a* in [5, 25], b* in [5, 35] (100 if either < 0)."""
    if a < 0 or b < 0:
        return 100.0
    return float(np.hypot(max(5 - a, a - 25, 0.0), max(5 - b, b - 35, 0.0)))


def lighting_measures(region, points, inside=None):
    """OFIQ's native light and colour values of the upright face region (RGB uint8) and its mesh;
    `inside` keeps padding beyond the photo's border out of the face (OFIQ's own image has none)."""
    pixels = np.asarray(region)
    height, width = pixels.shape[:2]
    mask = face_mask(points, (width, height))
    if inside is not None and (mask & inside).any():
        mask = mask & inside
    luminance = linear_luminance(pixels)
    histogram = _histogram(luminance[mask])
    levels = np.arange(256) / 255.0
    mean = float((histogram * levels).sum())
    # OFIQ reads the cheek zones of the face with everything outside the face region set to 0
    zones = cheek_zones(points)
    inside = [_zone(mask, *zone) for zone in zones]
    lum_zones = [_zone(luminance, *zone) * m for zone, m in zip(zones, inside)]
    colour_zones = [(_zone(pixels, *zone) * m[..., None]).reshape(-1, 3) for zone, m in zip(zones, inside)]
    uniformity = (float(np.minimum(*(_histogram(z) for z in lum_zones)).sum())
                  if all(z.size for z in lum_zones) else None)
    if not (pixels[..., 0] != pixels[..., 1]).any() and not (pixels[..., 1] != pixels[..., 2]).any():
        natural = 0.0  # OFIQ: an image without colour scores 0 (its own convention, QC 100)
    elif all(z.size for z in colour_zones):
        natural = natural_colour_distance(*_lab_ab(np.concatenate(colour_zones).mean(axis=0)))
    else:
        natural = None
    return {
        "luminance": mean,
        "luminance_variance": float((histogram * (levels - mean) ** 2).sum()),
        "underexposure": float(histogram[:26].sum()),
        "overexposure": float(histogram[247:].sum()),
        "dynamic_range": _entropy(histogram),
        "illumination_uniformity": uniformity,
        "natural_colour": natural,
    }
