"""Pixel measures: brightness, sharpness and exposure of a crop or a face region.

Sharpness (variance of the Laplacian) depends on the scale it is measured at: upscaling blurs.
Two scales are reported, under two names. The quality check `sharpness` is measured on the face
as the mesh model sees it (the face box at 128 px: the model's 192 px input over roi_scale 1.5),
whatever the photo's or crop's size. The analysis measurement `crop_sharpness` is measured on the
stored crop's face box, every second pixel (about 170 px at CROP_SIZE 512), so it changes with
CROP_SIZE and is typically about half the check's value."""
import numpy as np

# ITU-R BT.601 luma weights
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
DARK_LEVEL, BRIGHT_LEVEL = 25, 245  # luma below / above: near-black / clipped


def luminance(pixels):
    """Per-pixel luma (0-255) of an RGB uint8 array."""
    return np.asarray(pixels, dtype=np.float32) @ _LUMA


def laplacian_variance(grey, inside=None):
    """Variance of the 4-neighbour Laplacian: higher is sharper (focus measure); with `inside`, only
    where the pixel and its four neighbours are in it (a photo's border is no detail of the face)."""
    g = np.asarray(grey, dtype=np.float32)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    if inside is not None:
        keep = (inside[1:-1, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:] & inside[:-2, 1:-1] & inside[2:, 1:-1])
        lap = lap[keep] if keep.any() else lap
    return float(lap.var())


def crop_measurements(pixels):
    """Mean luminance and Laplacian sharpness of the crop's face box pixels (crop scale)."""
    grey = luminance(np.asarray(pixels))
    return {"crop_mean_luminance": round(float(grey.mean()), 3),
            "crop_sharpness": round(laplacian_variance(grey), 3)}


def face_exposure(face_pixels, inside=None):
    """Exposure of an upright face region (H x W x 3): sharpness, luminance, under/overexposure,
    dynamic range (luma p99 - p1) and illumination uniformity (darker half over brighter half).
    `inside` (boolean, H x W) marks the pixels that come from the photo: a face at the border has
    padding in its region, which is no underexposed skin."""
    grey = luminance(face_pixels)
    if inside is None or not inside.any():
        inside = np.ones(grey.shape, dtype=bool)
    half = grey.shape[1] // 2
    left_side, right_side = grey[:, :half][inside[:, :half]], grey[:, half:][inside[:, half:]]
    left = float(left_side.mean()) if left_side.size else float(right_side.mean())
    right = float(right_side.mean()) if right_side.size else left
    values = grey[inside]
    low, high = np.percentile(values, [1, 99])
    return {
        "sharpness": round(laplacian_variance(grey, inside), 2),
        "luminance": round(float(values.mean()), 2),
        "underexposure": round(float((values < DARK_LEVEL).mean()), 4),
        "overexposure": round(float((values > BRIGHT_LEVEL).mean()), 4),
        "dynamic_range": round(float(high - low), 2),
        "illumination_uniformity": round(min(left, right) / max(left, right, 1e-6), 4),
    }
