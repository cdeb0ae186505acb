"""Where skin is measured: regions placed by the 468-point mesh, minus what is not skin in this face.

Regions are polygons in the upright crop, built from MediaPipe canonical-mesh landmarks (face oval,
eye rings, brows, lips, nose) and the inter-eye distance (IED) as the face's own unit. Eyes, brows,
lips and nostrils are cut out by their landmark polygons, grown by a margin. What remains is tested
pixel by pixel against the face's own skin colour: the reference is the median and the median
absolute deviation (MAD) of L*, a*, b* on the cheeks and nose below the eyes (rarely covered by
hair). Hair, beard, glasses frames and deep shadow are much darker than that reference or of
another hue (L* under the median by 3 robust sigmas, at least 12); specular highlights are
brighter (2.5 sigmas, at least 8) and paler (chroma under 70 % of the skin's). A region whose skin coverage falls
under MIN_COVERAGE is not measured and says why.
"""
import numpy as np
from PIL import Image, ImageDraw

from ..preprocess.colour import MIN_SKIN_CHROMA
from ..preprocess.face_measures import LEFT_EYE_RING, RIGHT_EYE_RING, eye_centres

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
RIGHT_LOWER_LID = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_LOWER_LID = (263, 249, 390, 373, 374, 380, 381, 382, 362)
FOREHEAD = (103, 67, 109, 10, 338, 297, 332, 293, 334, 296, 336, 9, 107, 66, 105, 63)
NASION, NOSE_TIP, SUBNASALE = 168, 1, 2
RIGHT_ALA, LEFT_ALA = 129, 358
RIGHT_MOUTH, LEFT_MOUTH = 61, 291
BELOW_LIP, CHIN = 17, 152

MIN_COVERAGE = 0.5  # share of a region's pixels that must be skin for it to be measured
DARK_SIGMAS, DARK_MIN = 3.0, 12.0  # L* this far under the skin's median (robust sigmas, at least): not skin
HIGHLIGHT_SIGMAS, HIGHLIGHT_MIN = 2.5, 8.0  # L* this far over it, and
HIGHLIGHT_CHROMA = 0.7  # paler than this share of the skin's chroma: a specular highlight
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek", "right_under_eye", "left_under_eye",
           "right_crows_feet", "left_crows_feet", "right_nasolabial", "left_nasolabial")
T_ZONE = ("forehead", "nose", "chin")
CHEEKS = ("right_cheek", "left_cheek")


def region_polygons(points):
    """{region: [(x, y), ...]} in the points' pixels (the upright crop)."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    right_eye, left_eye = eye_centres(xy)
    ied = float(np.linalg.norm(left_eye - right_eye))
    down = np.array([0.0, 1.0])

    def under_eye(lid):
        top = xy[list(lid)] + 0.06 * ied * down
        return np.vstack([top, top[::-1] + 0.22 * ied * down])

    def crows_feet(corner, outward):
        c = xy[corner]
        return np.array([c + (0.06 * outward * ied, -0.12 * ied), c + (0.32 * outward * ied, -0.12 * ied),
                         c + (0.32 * outward * ied, 0.16 * ied), c + (0.06 * outward * ied, 0.16 * ied)])

    def cheek(eye, ala, mouth, outward):
        top = eye[1] + 0.36 * ied
        bottom = xy[mouth][1] - 0.05 * ied
        inner = xy[ala][0] + outward * 0.10 * ied
        outer = eye[0] + outward * 0.30 * ied
        return np.array([(inner, top), (outer, top), (outer, bottom), (inner, bottom)])

    def nasolabial(ala, mouth, outward):
        a, m = xy[ala] + (outward * 0.04 * ied, 0.02 * ied), xy[mouth] + (outward * 0.02 * ied, -0.02 * ied)
        w = np.array([outward * 0.09 * ied, 0.0])
        return np.array([a - w * 0.3, a + w, m + w, m - w * 0.5])

    nose_half = 0.13 * ied
    nose_top = xy[NASION][1] + 0.12 * ied
    nose_bottom = xy[NOSE_TIP][1] - 0.02 * ied
    mid = xy[NASION][0], xy[NOSE_TIP][0]
    chin_top, chin_bottom = xy[BELOW_LIP][1] + 0.06 * ied, xy[CHIN][1] - 0.08 * ied
    chin_x = (xy[BELOW_LIP][0] + xy[CHIN][0]) / 2
    return {
        "forehead": xy[list(FOREHEAD)],
        "nose": np.array([(mid[0] - nose_half * 0.6, nose_top), (mid[0] + nose_half * 0.6, nose_top),
                          (mid[1] + nose_half, nose_bottom), (mid[1] - nose_half, nose_bottom)]),
        "chin": np.array([(chin_x - 0.38 * ied, chin_top), (chin_x + 0.38 * ied, chin_top),
                          (chin_x + 0.25 * ied, chin_bottom), (chin_x - 0.25 * ied, chin_bottom)]),
        "right_cheek": cheek(right_eye, RIGHT_ALA, RIGHT_MOUTH, -1),
        "left_cheek": cheek(left_eye, LEFT_ALA, LEFT_MOUTH, 1),
        "right_under_eye": under_eye(RIGHT_LOWER_LID),
        "left_under_eye": under_eye(LEFT_LOWER_LID),
        "right_crows_feet": crows_feet(33, -1),
        "left_crows_feet": crows_feet(263, 1),
        "right_nasolabial": nasolabial(RIGHT_ALA, RIGHT_MOUTH, -1),
        "left_nasolabial": nasolabial(LEFT_ALA, LEFT_MOUTH, 1),
    }


def _fill(size, polygons, width=0):
    """A boolean mask of the polygons (PIL's scan conversion), outlines grown by `width` pixels."""
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        flat = [tuple(map(float, p)) for p in polygon]
        draw.polygon(flat, fill=255)
        if width > 0:
            draw.line(flat + flat[:1], fill=255, width=int(round(width)), joint="curve")
    return np.asarray(canvas) > 0


def excluded_features(size, points):
    """Eyes, brows, lips and nostrils, grown by a margin of a few per cent of the IED."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    right_eye, left_eye = eye_centres(xy)
    ied = float(np.linalg.norm(left_eye - right_eye))
    nostril = []
    for ala in (RIGHT_ALA, LEFT_ALA):  # the nostril: between the ala and the subnasale
        centre = (xy[ala] + xy[SUBNASALE]) / 2
        rx, ry = 0.12 * ied, 0.07 * ied
        nostril.append([(centre[0] + rx * np.cos(t), centre[1] + ry * np.sin(t)) for t in np.linspace(0, 6.28, 16)])
    polygons = [xy[list(RIGHT_EYE_RING)], xy[list(LEFT_EYE_RING)], xy[list(RIGHT_BROW)], xy[list(LEFT_BROW)],
                xy[list(LIPS)], *nostril]
    return _fill(size, polygons, width=0.10 * ied)


def region_masks(size, points):
    """{region: boolean mask} inside the face oval, without the excluded features."""
    inside = _fill(size, [np.asarray(points)[list(FACE_OVAL), :2]]) & ~excluded_features(size, points)
    return {name: _fill(size, [polygon]) & inside for name, polygon in region_polygons(points).items()}


def _robust(values):
    median = np.median(values, axis=0)
    return median, 1.4826 * np.median(np.abs(values - median), axis=0)


def skin_reference(lab, masks):
    """(median, robust sigma) of L*, a*, b* on the cheeks and nose: the face's own skin colour."""
    reference = np.zeros(lab.shape[:2], dtype=bool)
    for name in ("right_cheek", "left_cheek", "nose"):
        reference |= masks[name]
    values = lab[reference] if reference.sum() >= 20 else lab[np.logical_or.reduce(list(masks.values()))]
    median, sigma = _robust(values)
    return median, np.maximum(sigma, (2.5, 1.5, 1.5))  # floors: a flat, noise-free face is still skin


def classify_skin(lab, reference):
    """Per pixel: 'skin', or what it is instead (dark = hair, beard, frames, deep shadow; bright
    highlight; off_hue). Returned as boolean maps (skin, dark, highlight, off_hue)."""
    median, sigma = reference
    d_lightness = lab[..., 0] - median[0]
    chroma_distance = np.hypot((lab[..., 1] - median[1]) / (3.5 * sigma[1] + 2),
                               (lab[..., 2] - median[2]) / (3.5 * sigma[2] + 2))
    reference_chroma = np.hypot(median[1], median[2])
    if reference_chroma < MIN_SKIN_CHROMA:  # a grey photo: brightness alone decides
        pale = np.ones(lab.shape[:2], dtype=bool)
    else:
        pale = np.hypot(lab[..., 1], lab[..., 2]) < HIGHLIGHT_CHROMA * reference_chroma
    dark = d_lightness < -max(DARK_SIGMAS * sigma[0], DARK_MIN)
    highlight = (d_lightness > max(HIGHLIGHT_SIGMAS * sigma[0], HIGHLIGHT_MIN)) & pale
    off_hue = (chroma_distance > 1.0) & ~dark & ~highlight
    return ~(dark | highlight | off_hue), dark, highlight, off_hue


def coverage_reason(dark, highlight, off_hue, region, name):
    """Why a region lacks skin, from what most of its non-skin pixels are."""
    counts = {"dark": int((dark & region).sum()), "highlight": int((highlight & region).sum()),
              "off_hue": int((off_hue & region).sum())}
    kind = max(counts, key=counts.get)
    if kind == "dark":
        if name == "forehead" or name.endswith("crows_feet"):
            return "covered_by_hair"
        return "beard_or_shadow" if name in ("chin", "right_nasolabial", "left_nasolabial",
                                             "right_cheek", "left_cheek") else "dark_or_shadow"
    return "highlight" if kind == "highlight" else "not_skin_colour"
