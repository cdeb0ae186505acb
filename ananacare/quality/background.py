"""OFIQ's background uniformity: the mean gradient magnitude of the luminance over the background.

OFIQ finds the background with a face-parsing model (BiSeNet, label 0) on its aligned face cut to
the head (354 x 292 px); here MediaPipe's selfie segmentation model (role `segmentation`,
optional; the landscape variant, 144 x 256) separates the person from the background in a
region around the head at the model's input size: 3.2 face sizes wide, 1.8 high, centred on the
face, turned upright by the nearest quarter turn of the face's roll (exact and cheap; neither
the model nor a gradient magnitude needs finer alignment). As in OFIQ: pixels beyond the photo's
border are not background, the background is eroded by a 4 x 4 square, and the gradient is the
3 x 3 Scharr operator (OpenCV's Sobel with ksize -1, which OFIQ calls) on OFIQ's luminance.
"""
import math

import numpy as np
from PIL import Image

from ..models import ModelUnavailable
from ..models.tensors import normalize
from .lighting import linear_luminance

REGION_WIDTH = 3.2  # the region's width in face sizes (its height follows the model's input)
EROSION = 4
_TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}


def segmentation_model(registry):
    """The name of the configured segmentation model, or None."""
    names = registry.names_with_role("segmentation")
    return names[0] if names else None


def _erode(mask, size):
    """Binary erosion by a size x size square anchored like OpenCV's (centre at size // 2), separably."""
    before, after = size // 2, size - 1 - size // 2
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (before, after)
        padded = np.pad(mask, pad, constant_values=True)
        length = mask.shape[axis]
        out = padded.take(range(0, length), axis=axis)
        for shift in range(1, size):
            out = out & padded.take(range(shift, shift + length), axis=axis)
        mask = out
    return mask


def head_region(image, centre, face_side, angle, size):
    """(RGB array, inside mask) of the region around the head, `size` = (width, height) once
    upright; the face's roll `angle` (radians) is undone to the nearest quarter turn. Resampled
    by area averaging (PIL's BOX filter: no aliasing, which would invent gradients); the mask
    marks the pixels that lie inside the photo."""
    width, height = size
    turns = round(angle / (math.pi / 2)) % 4
    across, down = (width, height) if turns % 2 == 0 else (height, width)  # before turning
    k = REGION_WIDTH * face_side / width  # photo pixels per region pixel
    box = (centre[0] - across * k / 2, centre[1] - down * k / 2, centre[0] + across * k / 2, centre[1] + down * k / 2)
    clipped = (max(0.0, box[0]), max(0.0, box[1]), min(float(image.width), box[2]), min(float(image.height), box[3]))
    x0, y0 = round((clipped[0] - box[0]) / k), round((clipped[1] - box[1]) / k)
    x1, y1 = min(across, round((clipped[2] - box[0]) / k)), min(down, round((clipped[3] - box[1]) / k))
    canvas = Image.new("RGB", (across, down))
    inside = np.zeros((down, across), dtype=bool)
    if x1 > x0 and y1 > y0:
        canvas.paste(image.resize((x1 - x0, y1 - y0), Image.Resampling.BOX, box=clipped), (x0, y0))
        inside[y0:y1, x0:x1] = True
    if turns:
        canvas, inside = canvas.transpose(_TURNS[turns]), np.rot90(inside, turns)
    return np.asarray(canvas), inside


def scharr_magnitude(luminance):
    """Gradient magnitude of the 3 x 3 Scharr derivatives (borders reflected, as OpenCV's default)."""
    g = np.pad(np.asarray(luminance, dtype=np.float32), 1, mode="reflect")
    across, down = g[:, 2:] - g[:, :-2], g[2:, :] - g[:-2, :]  # separable: a difference, then [3, 10, 3]
    gx = 3 * (across[:-2] + across[2:]) + 10 * across[1:-1]
    gy = 3 * (down[:, :-2] + down[:, 2:]) + 10 * down[:, 1:-1]
    return np.sqrt(gx * gx + gy * gy)


def background_uniformity(image, geometry, registry):
    """(native value, reason): the mean gradient over background pixels, or (None, why not).
    `geometry` is the face's CropGeometry in `image`'s pixels (centre, side, roll)."""
    name = segmentation_model(registry)
    if name is None:
        return None, "no_segmentation_model"
    try:
        model = registry.get(name)
    except ModelUnavailable:
        return None, "model_unavailable"
    spec = registry.state(name).spec
    height, width = model.input_size
    region, inside = head_region(image, geometry.center, geometry.side, geometry.angle, (width, height))
    outputs = registry.run(name, normalize(region, spec.preprocessing))
    person = next(iter(outputs.values())).reshape(height, width)
    background = _erode((person < spec.param("threshold", 0.5)) & inside, EROSION)
    if not background.any():
        return None, "no_background"
    return float(scharr_magnitude(linear_luminance(region))[background].mean()), None
