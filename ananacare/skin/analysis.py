"""Skin analysis of an upright face image with its mesh: scale, skin mask, every concern, heatmaps.

The image is the skin crop kept with the stored entry (the face at the source photo's resolution,
bounded in size), or the square crop for entries stored before it existed. Concerns whose
meaning depends on resolution (wrinkles, spots, pores, texture) are measured only on source
pixels; on an old entry they report `available: false` with reason `source_resolution_not_stored`.
"""
import numpy as np
from PIL import Image

from ..preprocess.colour import MIN_SKIN_CHROMA, srgb_to_lab
from . import dark_circles, light, pores, redness, shine, spots, texture, tone, wrinkles
from .common import Detail, Face, colour_step, green_median, masked_blur, relative_lightness, unavailable
from .filters import binary_fill_holes, binary_opening, gaussian_filter, label
from .heatmaps import Marks
from .regions import (MIN_COVERAGE, classify_skin, coverage_reason, face_outline, local_reference, oval_mask,
                      pixel_colour, region_masks, skin_reference)
from ..preprocess.scale import pixels_per_mm

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
MIN_REGION_CM2 = 0.5  # a region with less visible skin than this is not measured (too little for its numbers)
MAX_FEATURE_MM = 12.0  # enclosed non-skin blobs up to this size are skin features (spots, moles)
PAD_PX = 8
LIGHT_TREND_MM = 12.0  # the scale of the light's fall-off across a face (shading), for the skin test
INTERIOR_MM, INTERIOR_SHARE = 1.0, 0.8  # measured skin: at least this share of skin within about a mm
MIN_PIECE = 0.05  # pieces of skin under this share of the largest are specks between hair strands
# Every concern but pores is measured on the face at no more than this many pixels per millimetre
# (the skin crop area-averaged down to it): wrinkles and spots need 2 and 1, texture 2, colour less;
# pores (4) read the skin crop's full resolution (common.Detail). A 5 px/mm skin crop is measured on
# a third of its pixels, in a third of the time, with numbers that do not depend on the photo's
# resolution beyond what they resolve.
ANALYSIS_PX_PER_MM = 3.0


def _bounds(points, size):
    """(y0, y1, x0, x1): the face outline's bounding box in the image, padded; None when it is empty."""
    corners = face_outline(points)
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


def _main_skin(skin):
    """The skin that belongs to the face: specks of skin colour between hair strands opened away, and
    only the pieces of at least MIN_PIECE of the largest kept (so the holes they leave are not
    filled back as skin features)."""
    opened = binary_opening(skin)
    pieces, count = label(opened)
    if count == 0:
        return opened
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    sizes[0] = 0
    return (sizes >= MIN_PIECE * sizes.max())[pieces]


def _rgb(image):
    """The image in RGB (itself when it is: no copy)."""
    return image if image.mode == "RGB" else image.convert("RGB")


def _upsample(mask, shape, step):
    return np.repeat(np.repeat(mask, step, axis=0), step, axis=1)[:shape[0], :shape[1]]


def build_face(image, points, px_per_mm, inside=None):
    """(Face, chroma, coverage) for the image, or (None, 0, coverage) without skin regions. `inside`
    (boolean, the image's shape) marks the pixels that come from the photo: a crop reaching past the
    photo's border is padded, and padding is never skin."""
    bounds = _bounds(points, image.size)
    if bounds is None:
        return None, 0.0, {}
    y0, y1, x0, x1 = bounds
    rgb = np.asarray(_rgb(image))[y0:y1, x0:x1]
    local = np.asarray(points, dtype=np.float64).copy()
    local[:, 0] -= x0
    local[:, 1] -= y0
    masks = region_masks((x1 - x0, y1 - y0), local, None if inside is None else inside[y0:y1, x0:x1])
    if not any(mask.any() for mask in masks.values()):
        return None, 0.0, {}
    step = colour_step(px_per_mm)
    grid = {name: mask[::step, ::step] for name, mask in masks.items()}
    small = rgb[::step, ::step]
    lab = srgb_to_lab(small.reshape(-1, 3), np.float32).reshape(small.shape[:2] + (3,))
    union_grid = np.logical_or.reduce(list(grid.values()))
    colour = pixel_colour(lab)  # both passes of the skin test read it
    chroma = float(colour[0][union_grid].mean()) if union_grid.any() else 0.0
    reference = skin_reference(lab, grid)
    skin_chroma = float(np.hypot(reference[0][1], reference[0][2]))
    # the skin's lightness around each pixel, from a first pass: shading is no hair, the second pass knows
    trend = masked_blur(lab[..., 0], classify_skin(lab, reference, colour=colour)[0], LIGHT_TREND_MM * px_per_mm / step)
    skin_g, dark_g, high_g, off_g = classify_skin(lab, local_reference(lab, reference, trend, grid), trend, colour)
    # a highlight is skin that shines: measured for relief and shine, left out of colour by each concern
    skin_g = _fill_small_holes(_main_skin(skin_g | high_g), (MAX_FEATURE_MM * px_per_mm / step) ** 2 * np.pi / 4)
    skin, dark, highlight = (_upsample(m, rgb.shape, step) for m in (skin_g, dark_g & ~skin_g, high_g))
    off_hue = _upsample(off_g & ~skin_g, rgb.shape, step)
    # measured skin keeps a rim of INTERIOR_MM from what is not skin: strands at a hairline, the edge
    # of a brow or a beard pass the colour test pixel by pixel but not as a neighbourhood
    interior = _upsample(gaussian_filter(skin_g.astype(np.float32), INTERIOR_MM * px_per_mm / step) >= INTERIOR_SHARE,
                         rgb.shape, step)
    union = np.logical_or.reduce(list(masks.values()))
    median = green_median(rgb, union & skin if (union & skin).any() else union)
    relative = relative_lightness(rgb, None, median)
    coverage, measured = {}, {}
    oval = oval_mask((x1 - x0, y1 - y0), local)  # coverage is judged inside the mesh's oval: the
    for name, mask in masks.items():             # forehead's lift above it may well be hair
        area = int((mask & oval).sum())
        share = float((mask & oval & skin).sum()) / max(area, 1)
        kept = mask & skin & interior
        cm2 = float(kept.sum()) / px_per_mm ** 2 / 100
        entry = {"coverage": round(share, 3), "measured": False, "area_cm2": round(cm2, 2)}
        if area < MIN_REGION_PIXELS:
            entry["reason"] = "outside_photo_or_too_small"
        elif share < MIN_COVERAGE or cm2 < MIN_REGION_CM2:
            entry["reason"] = coverage_reason(dark, highlight, off_hue, mask, name)
        else:
            entry["measured"] = True
            measured[name] = kept
        coverage[name] = entry
    face = Face(relative, lab if chroma >= MIN_SKIN_CHROMA else None, masks, skin, highlight, dark,
                measured, float(px_per_mm), (int(y0), int(x0)), step, small, light.reference(rgb, local, skin_chroma),
                median=median)
    return face, chroma, coverage


def measure_concern(name, face, heatmap=False, source_resolution=True):
    """(result, heatmap or None) of one concern, or why it cannot be measured on this face: pixels
    not at the source's resolution, no colour, or fewer px/mm than the concern's minimum."""
    module, needs_resolution, needs_colour = CONCERNS[name]
    if needs_resolution and not source_resolution:
        return unavailable("source_resolution_not_stored"), None
    if needs_colour and face.lab is None:
        return unavailable("no_colour"), None
    if face.source_px_per_mm < module.MIN_PX_PER_MM:
        return unavailable("resolution_too_low", module.MIN_PX_PER_MM, px_per_mm=face.source_px_per_mm), None
    return module.measure(face, heatmap)


def analyze_skin(image, points, scale=None, concerns=None, heatmaps=False, source_resolution=True,
                 registry=None, iris_name=None, inside=None):
    """The skin result (and, when `heatmaps`, {concern: Marks} on a canvas covering the image at the
    resolution it was measured at; rendering scales it to the crop).

    `points` are the mesh in the image's pixels; `scale` the px/mm dict (measured here when None);
    `inside` the image's pixels that come from the photo (None: all of them).
    """
    points = np.asarray(points, dtype=np.float64)
    if scale is None:
        scale = pixels_per_mm(image, points, registry, iris_name)
    face, chroma, coverage, zoom = build_analysed_face(image, points, scale["px_per_mm"], inside)
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
    colour = face.lab is not None
    body["available"] = colour
    if not colour:
        body["reason"] = "no_colour"
    else:
        tone_result = body["concerns"].get("tone") or measure_concern("tone", face)[0]
        if tone_result.get("available"):
            body["regions"] = tone_result["regions"]
            body["overall"] = {**face.colour_overall, "ita_corrected": tone_result["ita_corrected"],
                               "ita_category": tone_result["ita_category"]}
    if heatmaps:
        return body, {name: _on_canvas(marks, face, image.size, zoom) for name, marks in maps.items()
                      if marks is not None}
    return body


def _on_canvas(marks, face, size, zoom):
    """A concern's Marks placed on a canvas covering the whole analysed image (at the face's
    resolution, or the skin crop's own for detail marks); the heatmap scales it to the crop."""
    if marks.detail:
        shape, (y0, x0) = (size[1], size[0]), marks.origin
    else:
        shape, (y0, x0) = (max(1, round(size[1] * zoom)), max(1, round(size[0] * zoom))), face.origin
    canvas = np.full(shape, np.nan, dtype=np.float32)
    height, width = marks.values.shape
    canvas[y0:y0 + height, x0:x0 + width] = marks.values[:shape[0] - y0, :shape[1] - x0]
    return Marks(canvas, marks.style)


def build_analysed_face(image, points, px_per_mm, inside=None):
    """(Face, chroma, coverage, zoom): the face built at no more than ANALYSIS_PX_PER_MM (the skin crop
    area-averaged down to it, `zoom` its pixels per crop pixel), with the crop at full resolution
    beside it as the face's Detail for pores; below that, at the crop's own resolution (zoom 1)."""
    zoom = min(1.0, ANALYSIS_PX_PER_MM / px_per_mm)
    if zoom > 0.9:
        face, chroma, coverage = build_face(image, points, px_per_mm, inside)
        return face, chroma, coverage, 1.0
    size = (max(1, round(image.width * zoom)), max(1, round(image.height * zoom)))
    zoom = size[0] / image.width
    image = _rgb(image)
    small = image.resize(size, Image.Resampling.BOX)
    small_inside = None
    if inside is not None:
        small_inside = np.asarray(Image.fromarray(inside.astype(np.uint8) * 255).resize(size, Image.BOX)) > 127
    face, chroma, coverage = build_face(small, points * (zoom, zoom, zoom), px_per_mm * zoom, small_inside)
    if face is not None:
        face.detail = Detail(np.asarray(image), zoom, face.median)
    return face, chroma, coverage, zoom
