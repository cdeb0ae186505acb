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
from .filters import bounding_box

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
OVAL_TOP = (234, 127, 162, 21, 54, 103, 67, 109, 10, 338, 297, 332, 284, 251, 389, 356, 454)  # temple to temple
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
RIGHT_LOWER_LID = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_LOWER_LID = (263, 249, 390, 373, 374, 380, 381, 382, 362)
NASION, SUBNASALE, UPPER_LIP_TOP = 168, 2, 0
RIGHT_ALA, LEFT_ALA = 129, 358
RIGHT_MOUTH, LEFT_MOUTH = 61, 291
BELOW_LIP, CHIN = 17, 152
RIGHT_OUTER_EYE, LEFT_OUTER_EYE = 33, 263

MIN_COVERAGE = 0.2  # share of a region's pixels that must be skin for it to be measured (what is, is)
DARK_SIGMAS, DARK_MIN = 3.0, 12.0  # L* this far under the skin's (robust sigmas, at least): not skin
HIGHLIGHT_SIGMAS, HIGHLIGHT_MIN = 2.5, 8.0  # L* this far over it, and
HIGHLIGHT_CHROMA = 0.7  # paler than this share of the skin's chroma: a specular highlight
HIGHLIGHT_SIGMA_CAP = 5.0  # L*: the lightness spread a highlight must pass is the skin's, at most this
REFERENCE_DEPTH = 3.0  # the cheek skin of the colour reference: under the under-eyes, this many times their height
HAIR_HUE_DEGREES = 12.0  # darker pixels this far towards yellow of the skin's hue angle: light hair
EYE_MARGIN, FEATURE_MARGIN = 0.05, 0.035  # IED: eyes grown about 3 mm, brows and lips about 2 mm
FOREHEAD_ABOVE_OVAL = 0.45  # IED: the mesh's oval stops below most hairlines; the skin test finds the hair
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek", "right_under_eye", "left_under_eye",
           "right_crows_feet", "left_crows_feet", "right_nasolabial", "left_nasolabial", "upper_lip")
T_ZONE = ("forehead", "nose", "chin")
CHEEKS = ("right_cheek", "left_cheek")


def _geometry(points):
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    right_eye, left_eye = eye_centres(xy)
    return xy, float(np.linalg.norm(left_eye - right_eye))


def face_outline(points):
    """The face's outline: the mesh's oval, its top raised FOREHEAD_ABOVE_OVAL IED towards the
    hairline (the skin test then keeps what is skin), as a polygon in the points' pixels."""
    xy, ied = _geometry(points)
    top = set(OVAL_TOP)
    centre = xy[list(FACE_OVAL)].mean(axis=0)
    outline = []
    for index in FACE_OVAL:
        point = xy[index]
        if index in top and point[1] < centre[1]:
            lift = FOREHEAD_ABOVE_OVAL * ied * (centre[1] - point[1]) / max(centre[1] - xy[10][1], 1e-6)
            point = point - (0.0, lift)
        outline.append(point)
    return np.array(outline)


def region_polygons(points):
    """{region: [(x, y), ...]} in the points' pixels (the upright crop), in painting order: each
    region painted later takes its pixels from those before (region_masks), so the regions part the
    face outline among them without overlap; the cheeks are what is left on either side."""
    xy, ied = _geometry(points)
    outline = face_outline(points)
    left_x, right_x = outline[:, 0].min() - ied, outline[:, 0].max() + ied
    top_y, bottom_y = outline[:, 1].min() - ied, outline[:, 1].max() + ied
    mid_x = (xy[NASION][0] + xy[CHIN][0]) / 2
    brow_r, brow_l = xy[list(RIGHT_BROW), 1].max(), xy[list(LEFT_BROW), 1].max()  # brows' lower edges

    def brow_y(x):
        return brow_r + (brow_l - brow_r) * (x - xy[105][0]) / max(xy[334][0] - xy[105][0], 1e-6)

    def under_eye(lid, outward):
        top = xy[list(lid)] + (0.0, 0.05 * ied)
        top = np.vstack([top[:1] + (outward * 0.06 * ied, 0.0), top, top[-1:] - (outward * 0.02 * ied, 0.0)])
        return np.vstack([top, top[::-1] + (0.0, 0.24 * ied)])

    def crows_feet(corner, outward):
        c = xy[corner]
        edge = left_x if outward < 0 else right_x
        return np.array([(c[0] + outward * 0.06 * ied, brow_y(c[0]) + 0.04 * ied), (edge, brow_y(c[0]) + 0.04 * ied),
                         (edge, c[1] + 0.24 * ied), (c[0] + outward * 0.06 * ied, c[1] + 0.24 * ied)])

    def nasolabial(ala, mouth, outward):
        a, m = xy[ala] + (outward * 0.02 * ied, 0.0), xy[mouth] + (outward * 0.02 * ied, 0.0)
        return np.array([a, a + (outward * 0.16 * ied, 0.0), m + (outward * 0.16 * ied, 0.06 * ied),
                         m + (0.0, 0.06 * ied)])

    nose_top = xy[NASION][1]
    nose_half = 0.12 * ied
    chin_top = xy[BELOW_LIP][1] + 0.04 * ied
    chin_half = abs(xy[LEFT_MOUTH][0] - xy[RIGHT_MOUTH][0]) / 2 + 0.12 * ied
    chin_x = (xy[BELOW_LIP][0] + xy[CHIN][0]) / 2
    return {
        "right_cheek": np.array([(left_x, top_y), (mid_x, top_y), (mid_x, bottom_y), (left_x, bottom_y)]),
        "left_cheek": np.array([(mid_x, top_y), (right_x, top_y), (right_x, bottom_y), (mid_x, bottom_y)]),
        "forehead": np.array([(left_x, top_y), (right_x, top_y), (right_x, brow_y(right_x)),
                              (left_x, brow_y(left_x))]),
        "right_crows_feet": crows_feet(RIGHT_OUTER_EYE, -1),
        "left_crows_feet": crows_feet(LEFT_OUTER_EYE, 1),
        "right_under_eye": under_eye(RIGHT_LOWER_LID, -1),
        "left_under_eye": under_eye(LEFT_LOWER_LID, 1),
        "nose": np.array([(xy[NASION][0] - nose_half, nose_top), (xy[NASION][0] + nose_half, nose_top),
                          xy[LEFT_ALA] + (0.05 * ied, 0.0), xy[SUBNASALE], xy[RIGHT_ALA] - (0.05 * ied, 0.0)]),
        "right_nasolabial": nasolabial(RIGHT_ALA, RIGHT_MOUTH, -1),
        "left_nasolabial": nasolabial(LEFT_ALA, LEFT_MOUTH, 1),
        "upper_lip": np.array([xy[RIGHT_ALA], xy[SUBNASALE], xy[LEFT_ALA], xy[LEFT_MOUTH], xy[UPPER_LIP_TOP],
                               xy[RIGHT_MOUTH]]),
        "chin": np.array([(chin_x - chin_half, chin_top), (chin_x + chin_half, chin_top),
                          (chin_x + chin_half, bottom_y), (chin_x - chin_half, bottom_y)]),
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
    """Eyes, brows, lips and nostrils, grown by a margin (EYE_MARGIN, FEATURE_MARGIN of the IED: about
    3 and 2 mm); the skin test and its interior rim then take off what of the margin is not skin."""
    xy, ied = _geometry(points)
    nostril = []
    for ala in (RIGHT_ALA, LEFT_ALA):  # the nostril: between the ala and the subnasale
        centre = (xy[ala] + xy[SUBNASALE]) / 2
        rx, ry = 0.12 * ied, 0.07 * ied
        nostril.append([(centre[0] + rx * np.cos(t), centre[1] + ry * np.sin(t)) for t in np.linspace(0, 6.28, 16)])
    eyes = _fill(size, [xy[list(RIGHT_EYE_RING)], xy[list(LEFT_EYE_RING)]], width=2 * EYE_MARGIN * ied)
    others = _fill(size, [xy[list(RIGHT_BROW)], xy[list(LEFT_BROW)], xy[list(LIPS)]], width=2 * FEATURE_MARGIN * ied)
    return eyes | others | _fill(size, nostril)


def oval_mask(size, points):
    """The mesh's own face oval (no forehead lift): where a region's coverage is judged."""
    return _fill(size, [np.asarray(points)[list(FACE_OVAL), :2]])


def region_masks(size, points, inside=None):
    """{region: boolean mask}: the face outline parted among the regions (no pixel in two), without
    the excluded features, and (`inside`) without what lies outside the photo."""
    keep = _fill(size, [face_outline(points)]) & ~excluded_features(size, points)
    if inside is not None:
        keep &= inside
    owner = np.full((size[1], size[0]), -1, dtype=np.int8)
    polygons = region_polygons(points)
    for index, polygon in enumerate(polygons.values()):
        owner[_fill(size, [polygon])] = index
    return {name: (owner == index) & keep for index, name in enumerate(polygons)}


def _robust(values):
    median = np.median(values, axis=0)
    return median, 1.4826 * np.median(np.abs(values - median), axis=0)


def skin_reference(lab, masks):
    """(median, robust sigma) of L*, a*, b* on the face's own skin colour: the nose and the cheek
    skin beneath the under-eyes (the face's middle: the cheeks out to the jaw also hold the light's
    fall-off towards the face's edge)."""
    median, sigma = _robust(lab[reference_region(masks)])
    return median, np.maximum(sigma, (2.5, 1.5, 1.5))  # floors: a flat, noise-free face is still skin


def reference_region(masks):
    """Where the skin reference is read: the nose and the cheeks beneath the under-eyes."""
    reference = masks["nose"].copy()
    for side in ("right", "left"):
        reference |= masks[f"{side}_cheek"] & band_below(masks[f"{side}_under_eye"], REFERENCE_DEPTH)
    if reference.sum() < 20:
        reference = np.logical_or.reduce(list(masks.values()))
    return reference


def band_below(region, depth=1.5):
    """The band under a region, as wide as it and `depth` times its height."""
    box = bounding_box(region)
    band = np.zeros(region.shape, dtype=bool)
    if box is not None:
        top, bottom, left, right = box
        band[bottom + 1:bottom + 1 + int(depth * (bottom - top + 1)), left:right + 1] = True
    return band


def pixel_colour(lab):
    """(chroma C*, hue angle in degrees) of each L*a*b* pixel."""
    return np.hypot(lab[..., 1], lab[..., 2]), np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))


def classify_skin(lab, reference, trend=None, colour=None):
    """Per pixel: 'skin', or what it is instead (dark = hair, beard, frames, deep shadow; bright
    highlight; off_hue). Returned as boolean maps (skin, dark, highlight, off_hue).

    `trend` (optional): the skin's own lightness around each pixel (ananacare.skin.analysis takes
    it from a first pass): lightness is then judged against it, with `reference`'s sigma for L*
    measured about it too, so the light falling off across a face is no hair and a highlight on the
    shaded side is still one. `colour`: pixel_colour(lab), when the caller has it already."""
    median, sigma = reference
    chroma, hue = pixel_colour(lab) if colour is None else colour
    d_lightness = lab[..., 0] - (median[0] if trend is None else trend)
    chroma_distance = np.hypot((lab[..., 1] - median[1]) / (3.5 * sigma[1] + 2),
                               (lab[..., 2] - median[2]) / (3.5 * sigma[2] + 2))
    reference_chroma = np.hypot(median[1], median[2])
    if reference_chroma < MIN_SKIN_CHROMA:  # a grey photo: brightness alone decides
        pale = np.ones(lab.shape[:2], dtype=bool)
    else:
        pale = chroma < HIGHLIGHT_CHROMA * reference_chroma
    dark = d_lightness < -max(DARK_SIGMAS * sigma[0], DARK_MIN)
    # shading widens the lightness spread; a specular highlight is far brighter than any of it
    highlight = (d_lightness > max(HIGHLIGHT_SIGMAS * min(sigma[0], HIGHLIGHT_SIGMA_CAP), HIGHLIGHT_MIN)) & pale
    off_hue = (chroma_distance > 1.0) & ~dark & ~highlight
    if reference_chroma >= MIN_SKIN_CHROMA:
        # light hair (blond, brown) is of the skin's lightness and chroma but of another hue: more
        # yellow, at a hue angle HAIR_HUE_DEGREES past the skin's, and not brighter than the skin
        reference_hue = np.degrees(np.arctan2(median[2], median[1]))
        off_hue |= ((hue - reference_hue > HAIR_HUE_DEGREES) & (chroma > 0.5 * reference_chroma)
                    & (d_lightness < 0) & ~dark)
    return ~(dark | highlight | off_hue), dark, highlight, off_hue


def local_reference(lab, reference, trend, masks):
    """`reference` with its L* sigma measured about the lightness trend (shading taken out)."""
    median, sigma = reference
    region = reference_region(masks)
    residual = (lab[..., 0] - trend)[region]
    local_sigma = 1.4826 * float(np.median(np.abs(residual - np.median(residual)))) if residual.size else sigma[0]
    return median, np.array([max(local_sigma, 2.5), sigma[1], sigma[2]])


def coverage_reason(dark, highlight, off_hue, region, name):
    """Why a region lacks skin, from what most of its non-skin pixels are."""
    if not region.any():
        return "outside_photo_or_too_small"
    counts = {"dark": int((dark & region).sum()), "highlight": int((highlight & region).sum()),
              "off_hue": int((off_hue & region).sum())}
    kind = max(counts, key=counts.get)
    if kind == "dark":
        if name == "forehead" or name.endswith("crows_feet"):
            return "covered_by_hair"
        return "beard_or_shadow" if name in ("chin", "right_nasolabial", "left_nasolabial",
                                             "right_cheek", "left_cheek") else "dark_or_shadow"
    return "highlight" if kind == "highlight" else "not_skin_colour"
