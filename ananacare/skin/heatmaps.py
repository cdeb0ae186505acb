"""Heatmaps: where a concern was found, drawn over the square crop.

Each concern returns a map of its own response in the analysed image's pixels (valley contrast,
darkness against the surround, DoG pit response, a* above the baseline, L* deficit, highlights).
It is scaled to the crop, normalised by its 99th percentile over the pixels that responded (so a
clean face shows faint colour, not noise blown up to full red: the floor is the concern's own
NOISE_FLOOR), and blended from transparent through yellow to red. A concern that could not be
measured gives the crop dimmed.
"""
import numpy as np
from PIL import Image

NOISE_FLOOR = {"wrinkles": 4.0, "spots": 10.0, "pores": 4.0, "texture": 4.0, "redness": 10.0, "dark_circles": 10.0,
               "shine": 1.0, "tone": 10.0}
MAX_ALPHA = 0.75


def _colours(strength):
    """0-1 -> RGB from yellow (255, 230, 0) to red (230, 0, 40)."""
    low, high = np.array([255, 230, 0], np.float32), np.array([230, 0, 40], np.float32)
    return low + strength[..., None] * (high - low)


def render_heatmap(crop, values, concern, name=None):
    """The crop with the concern's map blended over it (values: float map of any size, or None)."""
    base = np.asarray(crop.convert("RGB"), dtype=np.float32)
    if values is None or not concern.get("available"):
        return Image.fromarray((base * 0.45).astype(np.uint8))
    resized = np.asarray(Image.fromarray(values.astype(np.float32), mode="F").resize(
        crop.size, Image.Resampling.BILINEAR))
    positive = resized[resized > 0]
    floor = NOISE_FLOOR.get(name, 1.0)
    top = max(float(np.percentile(positive, 99)) if positive.size else 0.0, floor)
    strength = np.clip(resized / top, 0, 1)
    alpha = (MAX_ALPHA * np.sqrt(strength))[..., None]
    blended = base * (1 - alpha) + _colours(strength) * alpha
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
