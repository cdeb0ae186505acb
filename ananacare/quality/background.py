"""OFIQ's background uniformity: the mean gradient magnitude of the luminance over the background.

OFIQ finds the background with a face-parsing model (BiSeNet, label 0) on its aligned face image
cut to the head and shoulders; here MediaPipe's selfie segmentation model (role `segmentation`,
optional) separates the person from the background on an upright square around the face, three
face sizes wide, at the model's input size. As in OFIQ: pixels beyond the photo's border are not
background, the background is eroded by a 4 x 4 square, and the gradient is the 3 x 3 Scharr
operator (OpenCV's Sobel with ksize -1, which OFIQ calls) on OFIQ's luminance.
"""
import math

import numpy as np
from PIL import Image

from ..models import ModelUnavailable
from ..models.tensors import normalize
from .lighting import linear_luminance

REGION_MARGIN = 1.0  # the square is the face's extent x (1 + 2 x margin): three face sizes
EROSION = 4


def segmentation_model(registry):
    """The name of the configured segmentation model, or None."""
    names = registry.names_with_role("segmentation")
    return names[0] if names else None


def _erode(mask, size):
    """Binary erosion by a size x size square anchored like OpenCV's (centre at size // 2)."""
    height, width = mask.shape
    padded = np.pad(mask, ((size // 2, size - 1 - size // 2),) * 2, constant_values=True)
    out = np.ones_like(mask)
    for dy in range(size):
        for dx in range(size):
            out &= padded[dy:dy + height, dx:dx + width]
    return out


def upright_square(image, geometry):
    """The upright square a CropGeometry describes, black past the border; a large reduction goes
    through Image.reduce first (nearest-pixel sampling would alias and invent gradients)."""
    factor = max(1, int(geometry.pixels_per_output))
    reach = geometry.side * math.sqrt(2) / 2 + 2
    (cx, cy), side = geometry.center, geometry.side
    left, top = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
    right, bottom = min(image.width, math.ceil(cx + reach)), min(image.height, math.ceil(cy + reach))
    if right - left < 2 * factor or bottom - top < 2 * factor:
        return Image.new("RGB", (geometry.size, geometry.size))
    local = image.crop((left, top, right, bottom)).reduce(factor)
    shrink = local.width / (right - left)
    local_geometry = type(geometry)(((cx - left) * shrink, (cy - top) * shrink), side * shrink, geometry.angle,
                                    geometry.size)
    return local.transform((geometry.size, geometry.size), Image.Transform.AFFINE, local_geometry.affine(),
                           resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0))


def scharr_magnitude(luminance):
    """Gradient magnitude of the 3 x 3 Scharr derivatives (borders reflected, as OpenCV's default)."""
    g = np.pad(np.asarray(luminance, dtype=np.float32), 1, mode="reflect")
    gx = (3 * (g[:-2, 2:] - g[:-2, :-2]) + 10 * (g[1:-1, 2:] - g[1:-1, :-2]) + 3 * (g[2:, 2:] - g[2:, :-2]))
    gy = (3 * (g[2:, :-2] - g[:-2, :-2]) + 10 * (g[2:, 1:-1] - g[:-2, 1:-1]) + 3 * (g[2:, 2:] - g[:-2, 2:]))
    return np.hypot(gx, gy)


def background_uniformity(image, evidence, registry):
    """(native value, reason): the mean gradient over background pixels, or (None, why not)."""
    name = segmentation_model(registry)
    if name is None:
        return None, "no_segmentation_model"
    try:
        model = registry.get(name)
    except ModelUnavailable:
        return None, "model_unavailable"
    spec = registry.state(name).spec
    size = model.input_size[0]
    geometry = evidence.crop_geometry(REGION_MARGIN, size)
    region = np.asarray(upright_square(image, geometry))
    outputs = registry.run(name, normalize(region, spec.preprocessing))
    person = next(iter(outputs.values())).reshape(size, size)
    grid = np.stack(np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5), -1).reshape(-1, 2)
    source = geometry.to_source(grid)
    inside = ((source[:, 0] >= 0) & (source[:, 0] < image.width) & (source[:, 1] >= 0)
              & (source[:, 1] < image.height)).reshape(size, size)
    background = _erode((person < spec.param("threshold", 0.5)) & inside, EROSION)
    if not background.any():
        return None, "no_background"
    return float(scharr_magnitude(linear_luminance(region))[background].mean()), None
