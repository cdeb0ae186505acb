"""Simple measurements of a crop's pixels: brightness and sharpness."""
import numpy as np

# ITU-R BT.601 luma weights
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(pixels):
    """Per-pixel luma (0-255) of an RGB uint8 array."""
    return np.asarray(pixels, dtype=np.float32) @ _LUMA


def laplacian_variance(grey):
    """Variance of the 4-neighbour Laplacian: higher is sharper (focus measure)."""
    g = np.asarray(grey, dtype=np.float32)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


def crop_measurements(crop):
    """Mean luminance and Laplacian sharpness of an RGB crop."""
    grey = luminance(np.asarray(crop))
    return {"mean_luminance": round(float(grey.mean()), 3), "sharpness": round(laplacian_variance(grey), 3)}
