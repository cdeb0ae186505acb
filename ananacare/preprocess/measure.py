"""Pixel measures: brightness, sharpness and exposure of a crop or a face region."""
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
    """Mean luminance and Laplacian sharpness of RGB pixels (an image or an array)."""
    grey = luminance(np.asarray(pixels))
    return {"mean_luminance": round(float(grey.mean()), 3), "sharpness": round(laplacian_variance(grey), 3)}


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
