"""Heatmaps: what a concern counted, drawn over the square crop on a fixed scale, with a legend.

Each concern hands over Marks from the same features or mask its numbers come from, in its own
unit: the outlines of the spots it counted, the centre lines of the wrinkles it measured, the red
area (a* over the face's baseline), the pits it counted as pores, the highlight pixels counted for
shine, and for the area measures (dark circles, texture, tone) the measured skin valued in the
concern's unit. Colours
follow a fixed scale per concern (SCALES: below `low` calm teal, then yellow to red at `high`),
never the picture's own strongest pixel: a faint spot stays visible beside hair. A concern judged
`none` is drawn all calm: what it marks is shown, never in an alarm colour. A legend band at the
bottom of the image names the concern, its severity and what the colours mean. A concern that
could not be measured gives the crop dimmed.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# concern -> (value drawn calm up to, value drawn red from, what the value is)
SCALES = {
    "spots": (4.0, 20.0, "% darker than the skin around"),
    "wrinkles": (1.2, 4.0, "line depth, % of skin lightness"),
    "pores": (1.0, 4.0, "pit depth, % of skin lightness"),
    "texture": (1.0, 4.0, "relief, % of skin lightness"),
    "redness": (4.0, 12.0, "a* over the forehead and chin"),
    "dark_circles": (1.0, 12.0, "L* darker than the cheeks"),
    "shine": (1.0, 5.0, "% of the T-zone shining"),
    "tone": (2.0, 8.0, "L* about its local mean"),
}
CALM = np.array([0, 170, 170], np.float32)
YELLOW = np.array([255, 220, 0], np.float32)
RED = np.array([230, 0, 40], np.float32)
AREA_ALPHA, MARK_ALPHA, CALM_ALPHA = 0.55, 0.95, 0.3
LEGEND_PX = 28


@dataclass
class Marks:
    """What to draw for a concern: `values` in the concern's unit (NaN where nothing is marked);
    `style` "area" (measured skin, filled) or "mark" (outlines, lines, dots: kept thin and at full
    strength when the map is scaled to the crop). A concern hands them over in its face's arrays
    (`detail` False) or in the skin crop's own pixels from `origin` (y, x) (`detail` True: pores,
    measured at the crop's full resolution); analyze_skin places them on a canvas of the image."""

    values: np.ndarray
    style: str = "area"
    detail: bool = False
    origin: tuple = (0, 0)


def colours(values, concern):
    """(RGB, calm) for values on the concern's fixed scale: calm (at or under the scale's low end)
    is drawn teal, the rest yellow to red."""
    low, high, _ = SCALES[concern]
    strength = np.clip((values - low) / max(high - low, 1e-6), 0, 1)
    warm = YELLOW + strength[..., None] * (RED - YELLOW)
    calm = values <= low
    rgb = np.where(calm[..., None], CALM, warm)
    return rgb, calm


def _to_crop(marks, size):
    """The marks' values resampled to the crop's size (marks by their maximum, areas bilinear)."""
    values = marks.values
    height, width = values.shape
    if marks.style == "mark":
        out = np.full((size[1], size[0]), -np.inf, np.float32)
        ys, xs = np.nonzero(np.isfinite(values))
        cy = np.clip((ys + 0.5) * size[1] / height, 0, size[1] - 1).astype(int)
        cx = np.clip((xs + 0.5) * size[0] / width, 0, size[0] - 1).astype(int)
        np.maximum.at(out, (cy, cx), values[ys, xs])
        return np.where(np.isfinite(out), out, np.nan)
    present = np.isfinite(values)
    filled = Image.fromarray(np.where(present, values, 0).astype(np.float32), mode="F").resize(size, Image.BILINEAR)
    weight = Image.fromarray(present.astype(np.float32), mode="F").resize(size, Image.BILINEAR)
    weight = np.asarray(weight)
    return np.where(weight > 0.5, np.asarray(filled) / np.maximum(weight, 1e-6), np.nan)


def render_heatmap(crop, marks, concern_result, name):
    """The crop with the concern's marks drawn on its fixed scale and a legend band (marks: Marks in
    the analysed image's pixels, or None)."""
    base = np.asarray(crop.convert("RGB"), dtype=np.float32)
    if marks is None or not concern_result.get("available"):
        return _with_legend(Image.fromarray((base * 0.45).astype(np.uint8)), name, concern_result)
    values = _to_crop(marks, crop.size)
    present = np.isfinite(values)
    rgb, calm = colours(np.where(present, values, 0), name)
    if concern_result.get("severity") == "none":  # judged none: nothing it marks is drawn as an alarm
        rgb, calm = np.broadcast_to(CALM, rgb.shape), np.ones(calm.shape, dtype=bool)
    alpha = np.where(calm, CALM_ALPHA, MARK_ALPHA if marks.style == "mark" else AREA_ALPHA)
    alpha = np.where(present, alpha, 0.0)[..., None]
    blended = base * (1 - alpha) + rgb * alpha
    return _with_legend(Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8)), name, concern_result)


def _with_legend(image, name, concern_result):
    """The legend band over the bottom of the image: concern, severity, the colour scale and its unit."""
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = image.size
    top = height - LEGEND_PX
    draw.rectangle([0, top, width, height], fill=(0, 0, 0, 170))
    if not concern_result.get("available"):
        draw.text((6, top + 8), f"{name}: not measured ({concern_result.get('reason', 'unknown')})",
                  fill=(255, 255, 255, 255))
        return image
    low, high, unit = SCALES[name]
    bar_left, bar_width = 6, min(120, width // 4)
    ramp = np.linspace(low - (high - low) * 0.25, high, bar_width, dtype=np.float32)
    rgb, _ = colours(ramp, name)
    for offset, colour in enumerate(rgb):
        draw.line([(bar_left + offset, top + 6), (bar_left + offset, top + 14)], fill=tuple(int(c) for c in colour))
    draw.text((bar_left, top + 15), f"{low:g}", fill=(255, 255, 255, 255))
    draw.text((bar_left + bar_width - 18, top + 15), f"{high:g}+", fill=(255, 255, 255, 255))
    label = f"{name}: {concern_result.get('severity', '')} (score {concern_result.get('score', '-')}); {unit}"
    draw.text((bar_left + bar_width + 8, top + 8), label, fill=(255, 255, 255, 255))
    return image
