"""Skin analysis of an upright face image with its mesh: scale, skin mask, every concern, heatmaps.

The image is the skin crop kept with the stored entry (the face at the source photo's resolution,
bounded in size), or the square crop for entries stored before it existed. Concerns whose
meaning depends on resolution (wrinkles, spots, pores, texture) are measured only on source
pixels; on an old entry they report `available: false` with reason `source_resolution_not_stored`.
"""
import numpy as np

from ..preprocess.colour import MIN_SKIN_CHROMA, srgb_to_lab
from . import dark_circles, pores, redness, shine, spots, texture, tone, wrinkles
from .common import Face, relative_lightness, unavailable
from .filters import binary_fill_holes, label
from .regions import MIN_COVERAGE, classify_skin, coverage_reason, region_masks, region_polygons, skin_reference
from .scale import pixels_per_mm

# name -> (module, needs source resolution, needs colour). Each module has MIN_PX_PER_MM and
# measure(face, heatmap) -> (result, heatmap or None); measure_concern checks what they need.
CONCERNS = {
    "wrinkles": (wrinkles, True, False),
    "spots": (spots, True, False),
    "pores": (pores, True, False),
    "texture": (texture, True, False),
    "redness": (redness, False, True),
    "dark_circles": (dark_circles, False, True),
    "shine": (shine, False, False),
    "tone": (tone, False, True),
}
MIN_REGION_PIXELS = 16
MAX_FEATURE_MM = 12.0  # enclosed non-skin blobs up to this size are skin features (spots, moles)
PAD_PX = 8


def _bounds(points, size):
    """(y0, y1, x0, x1): the regions' bounding box in the image, padded; None when it is empty."""
    corners = np.vstack(list(region_polygons(points).values()))
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - PAD_PX
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + PAD_PX
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(size[0], x1), min(size[1], y1)
    return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None


def _fill_small_holes(skin, max_area):
    """Skin with its small enclosed non-skin blobs filled: a spot, mole or pore surrounded by skin
    is on the skin (a concern measures it), while hair and frames reach beyond it."""
    holes, count = label(binary_fill_holes(skin) & ~skin)
    if count == 0:
        return skin
    sizes = np.bincount(holes.ravel(), minlength=count + 1)[1:]
    small = np.concatenate([[False], sizes <= max_area])
    return skin | small[holes]


def _upsample(mask, shape):
    return np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)[:shape[0], :shape[1]]


def build_face(image, points, px_per_mm):
    """(Face, chroma, coverage) for the image, or (None, 0, coverage) without skin regions."""
    bounds = _bounds(points, image.size)
    if bounds is None:
        return None, 0.0, {}
    y0, y1, x0, x1 = bounds
    rgb = np.asarray(image.convert("RGB"))[y0:y1, x0:x1]
    local = np.asarray(points, dtype=np.float64).copy()
    local[:, 0] -= x0
    local[:, 1] -= y0
    masks = region_masks((x1 - x0, y1 - y0), local)
    if not any(mask.any() for mask in masks.values()):
        return None, 0.0, {}
    half = {name: mask[::2, ::2] for name, mask in masks.items()}
    small = rgb[::2, ::2]
    lab_half = srgb_to_lab(small.reshape(-1, 3), np.float32).reshape(small.shape[:2] + (3,))
    union_half = np.logical_or.reduce(list(half.values()))
    chroma = float(np.hypot(lab_half[..., 1], lab_half[..., 2])[union_half].mean()) if union_half.any() else 0.0
    skin_h, dark_h, high_h, off_h = classify_skin(lab_half, skin_reference(lab_half, half))
    # a highlight is skin that shines: measured for relief and shine, left out of colour by each concern
    skin_h = _fill_small_holes(skin_h | high_h, (MAX_FEATURE_MM * px_per_mm / 2) ** 2 * np.pi / 4)
    skin, dark, highlight = (_upsample(m, rgb.shape) for m in (skin_h, dark_h & ~skin_h, high_h))
    off_hue = _upsample(off_h & ~skin_h, rgb.shape)
    lightness = _upsample(lab_half[..., 0], rgb.shape)  # for heatmaps: relief uses `relative`
    union = np.logical_or.reduce(list(masks.values()))
    relative = relative_lightness(rgb, union & skin if (union & skin).any() else union)
    coverage, measured = {}, {}
    for name, mask in masks.items():
        area = int(mask.sum())
        share = float((mask & skin).sum()) / max(area, 1)
        entry = {"coverage": round(share, 3), "measured": False}
        if area < MIN_REGION_PIXELS:
            entry["reason"] = "outside_photo_or_too_small"
        elif share < MIN_COVERAGE:
            entry["reason"] = coverage_reason(dark, highlight, off_hue, mask, name)
        else:
            entry["measured"] = True
            measured[name] = mask & skin
        coverage[name] = entry
    face = Face(lightness, relative, lab_half if chroma >= MIN_SKIN_CHROMA else None, masks, skin, highlight, dark,
                measured, float(px_per_mm), (int(y0), int(x0)))
    return face, chroma, coverage


def measure_concern(name, face, heatmap=False, source_resolution=True):
    """(result, heatmap or None) of one concern, or why it cannot be measured on this face: pixels
    not at the source's resolution, no colour, or fewer px/mm than the concern's minimum."""
    module, needs_resolution, needs_colour = CONCERNS[name]
    if needs_resolution and not source_resolution:
        return unavailable("source_resolution_not_stored"), None
    if needs_colour and face.lab_half is None:
        return unavailable("no_colour"), None
    if face.px_per_mm < module.MIN_PX_PER_MM:
        return unavailable("resolution_too_low", module.MIN_PX_PER_MM, px_per_mm=face.px_per_mm), None
    return module.measure(face, heatmap)


def analyze_skin(image, points, scale=None, concerns=None, heatmaps=False, source_resolution=True,
                 registry=None, iris_name=None):
    """The skin result (and {concern: heatmap} in the image's pixels when `heatmaps`).

    `points` are the mesh in the image's pixels; `scale` the px/mm dict (measured here when None).
    """
    points = np.asarray(points, dtype=np.float64)
    if scale is None:
        scale = pixels_per_mm(image, points, registry, iris_name)
    face, chroma, coverage = build_face(image, points, scale["px_per_mm"])
    names = list(CONCERNS) if concerns is None else list(concerns)
    body = {"available": False, "scale": scale, "image": {"width": image.width, "height": image.height,
                                                          "source_resolution": source_resolution},
            "chroma": round(chroma, 2), "coverage": coverage, "regions": {}, "overall": None, "concerns": {}}
    maps = {}
    if face is None:
        body["reason"] = "no_skin_pixels"
        return (body, maps) if heatmaps else body
    for name in names:
        body["concerns"][name], maps[name] = measure_concern(name, face, heatmaps, source_resolution)
    colour = face.lab_half is not None
    body["available"] = colour
    if not colour:
        body["reason"] = "no_colour"
    else:
        tone_result = body["concerns"].get("tone") or measure_concern("tone", face)[0]
        if tone_result.get("available"):
            body["regions"] = tone_result["regions"]
            every = np.concatenate([face.lab_half[face.measured[n][::2, ::2] & ~face.highlight[::2, ::2]]
                                    for n in tone_result["regions"]])
            body["overall"] = tone.colour_summary(every)
    if heatmaps:
        full = {}
        for name, values in maps.items():
            if values is not None:
                canvas = np.zeros((image.height, image.width), dtype=np.float32)
                y0, x0 = face.origin
                canvas[y0:y0 + values.shape[0], x0:x0 + values.shape[1]] = values
                full[name] = canvas
        return body, full
    return body
