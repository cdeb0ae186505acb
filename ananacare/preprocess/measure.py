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


def laplacian_variance(grey):
    """Variance of the 4-neighbour Laplacian: higher is sharper (focus measure)."""
    g = np.asarray(grey, dtype=np.float32)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


def crop_measurements(pixels):
    """Mean luminance and Laplacian sharpness of the crop's face box pixels (crop scale)."""
    grey = luminance(np.asarray(pixels))
    return {"crop_mean_luminance": round(float(grey.mean()), 3),
            "crop_sharpness": round(laplacian_variance(grey), 3)}


def face_exposure(face_pixels):
    """Exposure of an upright face region (H x W x 3): sharpness, luminance, under/overexposure,
    dynamic range (luma p99 - p1) and illumination uniformity (darker half over brighter half)."""
    grey = luminance(face_pixels)
    half = grey.shape[1] // 2
    left, right = float(grey[:, :half].mean()), float(grey[:, half:].mean())
    low, high = np.percentile(grey, [1, 99])
    return {
        "sharpness": round(laplacian_variance(grey), 2),
        "luminance": round(float(grey.mean()), 2),
        "underexposure": round(float((grey < DARK_LEVEL).mean()), 4),
        "overexposure": round(float((grey > BRIGHT_LEVEL).mean()), 4),
        "dynamic_range": round(float(high - low), 2),
        "illumination_uniformity": round(min(left, right) / max(left, right, 1e-6), 4),
    }
