"""The skin phantom's parts: real faces, the visible skin on them, painted spots and lines, the
service's run and the features it counted (bench/skin_phantom.py puts them together).

Coordinates: `skin` = pixels of the service's skin crop (upright: the eye line levelled), `source`
= pixels of the photo that is uploaded. A run's CropGeometry maps one to the other; every painted
feature is chosen in the skin crop of the unpainted photo's run and painted in the source photo.
Orientation: 0 degrees is horizontal in the upright face, 90 vertical, counter-clockwise as seen.
"""
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.special import erf, erfc
from skimage.color import lab2rgb, rgb2lab

from ananacare import service
from ananacare.preprocess import validate_image
from ananacare.skin import spots as spots_module
from ananacare.skin import wrinkles as wrinkles_module
from ananacare.skin.analysis import build_analysed_face
from ananacare.skin.common import sigma_px, window
from ananacare.preprocess.crop import CropGeometry, inside_photo

UPLOAD_QUALITY = 95  # every upload, painted or not, is a JPEG at this quality (re-captures vary it)

# ---------------------------------------------------------------------------------------------
# Faces
# ---------------------------------------------------------------------------------------------
T1_BOXES = [[55, 278, 165, 390], [268, 140, 392, 272], [462, 298, 572, 402], [738, 368, 832, 458],
            [893, 62, 1003, 198], [1132, 268, 1228, 398]]  # bench/eval_labels.json, insightface_t1
ASTRONAUT_BOX = (172, 55, 282, 175)  # bench/eval_labels.json, skimage_astronaut
TOM_BOX = (8, 4, 104, 112)  # bench/eval_labels.json, insightface_tom_hanks
T1_NAMES = ["t1_0_woman_left", "t1_1_woman_three_quarter", "t1_2_man_smiling", "t1_3_man_laughing",
            "t1_4_man_turned", "t1_5_woman_right_edge"]


@dataclass
class FaceSource:
    """One face: the photo it is cut from (not yet enlarged), and the source px/mm wanted."""

    name: str
    image: Image.Image
    target_px_per_mm: float
    note: str
    box: tuple  # the face's box in `image` (x0, y0, x1, y1): the primary face must be this one


def _wheel_image(name):
    """An insightface 2.1 wheel sample photo ("t1", "tom_hanks"; bench/eval_set.py downloads the
    wheel once with pip and checks its sha256), or None when it cannot be had (offline)."""
    from eval_set import _insightface_image
    try:
        return _insightface_image(name)
    except Exception as error:  # noqa: BLE001 - a missing sample only shortens the face list
        print(f"(insightface sample {name!r} unavailable: {error}; its faces are left out)")
        return None


def _cut(image, box, area):
    """(the photo cut to `area`, the face box in its pixels)."""
    area = (max(0, int(area[0])), max(0, int(area[1])), min(image.width, int(area[2])), min(image.height, int(area[3])))
    return image.crop(area), (box[0] - area[0], box[1] - area[1], box[2] - area[0], box[3] - area[1])


def _square_around(image, box, factor):
    """A square of `factor` face-box widths around the box (clipped to the photo: a face at the
    photo's edge stays at the edge), and the box in it."""
    half = factor * (box[2] - box[0]) / 2
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return _cut(image, box, (cx - half, cy - half, cx + half, cy + half))


def face_sources():
    """The faces, in the order --faces takes them (a mix of photos and scales first)."""
    from skimage import data
    astronaut = Image.fromarray(data.astronaut()).convert("RGB")
    head, head_box = _cut(astronaut, ASTRONAUT_BOX, (75, 0, 375, 300))
    edge, edge_box = _cut(astronaut, ASTRONAUT_BOX, (165, 20, 420, 275))
    faces = {
        "astronaut": FaceSource("astronaut", astronaut, 3.0, "scikit-image astronaut, whole photo", ASTRONAUT_BOX),
        "astronaut_head": FaceSource("astronaut_head", head, 4.5, "astronaut, head and shoulders", head_box),
        "astronaut_edge": FaceSource("astronaut_edge", edge, 6.0,
                                     "astronaut cut 7 px left of her face box (the crop reaches past the photo)",
                                     edge_box),
    }
    t1 = _wheel_image("t1")
    if t1 is not None:
        for index, (box, name) in enumerate(zip(T1_BOXES, T1_NAMES)):
            cut, local = _square_around(t1, box, 2.4)
            faces[name] = FaceSource(name, cut, (3.5, 4.5, 6.0)[index % 3],
                                     "insightface t1.jpg group photo, 2.4 face widths around", local)
    tom = _wheel_image("tom_hanks")
    if tom is not None:
        canvas = Image.new("RGB", (tom.width * 3, tom.height * 3), (128, 128, 128))
        canvas.paste(tom, (tom.width, tom.height))
        faces["tom_hanks_grey"] = FaceSource("tom_hanks_grey", canvas, 3.5,
                                             "insightface 112 px grey aligned face, chin cut, on a grey canvas",
                                             tuple(v + tom.width for v in TOM_BOX))
    order = ["astronaut", "t1_2_man_smiling", "t1_5_woman_right_edge", "astronaut_head", "t1_0_woman_left",
             "t1_3_man_laughing", "t1_1_woman_three_quarter", "astronaut_edge", "t1_4_man_turned", "tom_hanks_grey"]
    return [faces[name] for name in order if name in faces]


def enlarged(image, factor):
    """The photo enlarged (bicubic) by `factor`."""
    return image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                        Image.Resampling.BICUBIC)


def jpeg(image, quality=UPLOAD_QUALITY):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The service's run and what it counted
# ---------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One upload through the service: validate_image + service.skin_results (what analyze/image
    calls), plus the skin crop and mesh in its pixels so features can be read in-process."""

    validation: object
    body: dict  # results.skin of the analyze answer
    skin: Image.Image
    points: np.ndarray  # 468 x 3 in skin-crop pixels

    @property
    def px_per_mm(self):
        return float(self.body["scale"]["px_per_mm"])

    @property
    def geometry(self):
        """The skin crop's CropGeometry in source pixels."""
        g = self.validation.geometry
        return CropGeometry(g.center, g.side, g.angle, self.skin.width)

    def to_skin(self, xy):
        return self.geometry.to_crop(xy)

    def to_source(self, xy):
        return self.geometry.to_source(xy)

    @property
    def source_px_per_mm(self):
        return self.px_per_mm * self.validation.geometry.side / self.skin.width


def run_service(data, registry, settings):
    """The service's answer on these bytes (None without a face or a mesh)."""
    validation = validate_image(data, registry, settings)
    if validation.crop is None or validation.mesh is None or validation.skin_crop is None:
        return None
    photo_area = (validation.geometry, (validation.image["width"], validation.image["height"]))
    body = service.skin_results(validation.crop, validation.skin_crop, validation.mesh, registry,
                                photo_area=photo_area)
    skin = validation.skin_crop
    return Run(validation, body, skin, validation.mesh.points * skin.width / validation.crop.width)


@dataclass
class Features:
    """What the spots and wrinkles concerns found, in skin-crop pixels (the spot labels excepted: they
    stay on the analysed face's grid, `zoom` of the skin crop's pixels)."""

    face: object  # ananacare.skin.common.Face, as the service analyses it
    spot_labels: np.ndarray  # candidate blobs, on the analysed face's arrays
    spot_centres: list  # (y, x, weight) of the spots counted, skin pixels; weight: the share it counts
    spots_measured: np.ndarray  # union of the spots concern's measured regions, skin pixels
    line_weight: np.ndarray  # per pixel: the line length (skin px) the wrinkle concern counts there
    lines_measured: np.ndarray  # union of the wrinkle regions' measured masks, skin pixels
    zoom: float = 1.0  # analysed-face pixels per skin-crop pixel


def _to_skin(face, zoom, y, x):
    """A position in the analysed face's arrays as skin-crop pixels."""
    y0, x0 = face.origin
    return (y + y0 + 0.5) / zoom - 0.5, (x + x0 + 0.5) / zoom - 0.5


def _mask_on_skin(face, zoom, mask, shape):
    """A mask on the analysed face's arrays, resampled (nearest) to the skin crop's pixels."""
    y0, x0 = face.origin
    rows = np.floor((np.arange(shape[0]) + 0.5) * zoom).astype(int) - y0
    columns = np.floor((np.arange(shape[1]) + 0.5) * zoom).astype(int) - x0
    ok_rows, ok_columns = (rows >= 0) & (rows < mask.shape[0]), (columns >= 0) & (columns < mask.shape[1])
    out = np.zeros(shape, dtype=bool)
    out[np.ix_(ok_rows, ok_columns)] = mask[np.ix_(rows[ok_rows], columns[ok_columns])]
    return out


def _length_on_skin(face, zoom, length, shape):
    """Line length per analysed pixel (its px) put at the nearest skin-crop pixel, in skin px: sums
    over an area of the skin crop keep the length the concern counted there."""
    ys, xs = np.nonzero(length)
    sy, sx = _to_skin(face, zoom, ys, xs)
    sy = np.clip(np.round(sy).astype(int), 0, shape[0] - 1)
    sx = np.clip(np.round(sx).astype(int), 0, shape[1] - 1)
    out = np.zeros(shape, dtype=np.float32)
    np.add.at(out, (sy, sx), length[ys, xs] / zoom)
    return out


def features(run):
    """The spots and line centres the service counted on this run (its own functions, same inputs)."""
    image = run.validation.image
    inside = inside_photo(run.validation.geometry, (image["width"], image["height"]), run.skin.width)
    face, _, _, zoom = build_analysed_face(run.skin, run.points, run.px_per_mm, inside)  # as the service does
    shape = (run.skin.height, run.skin.width)
    if face is None:
        empty = np.zeros(shape, dtype=bool)
        return Features(None, np.zeros(shape, np.int32), [], empty, np.zeros(shape, np.float32), empty)
    measured = spots_module.union(face, spots_module.REGIONS)
    found = spots_module.find(face)
    kept = [(*_to_skin(face, zoom, spot.y, spot.x), spot.weight) for spot in found.spots]  # a faint one: a share
    length = np.zeros(face.relative.shape, dtype=np.float32)
    line_union = np.zeros(face.relative.shape, dtype=bool)
    box = window(face, wrinkles_module.REGIONS, 4 * sigma_px(face, wrinkles_module.SCALES_MM[-1]))
    if box is not None:
        response, centres_mask, step = wrinkles_module.valley_response(face.relative[box], face)
        counted = np.where(centres_mask, wrinkles_module.line_weight(response) * step, 0)  # pixels of length
        for name in wrinkles_module.REGIONS:
            if name in face.measured:
                length[box] += np.where(face.measured[name][box], counted, 0).astype(np.float32)
                line_union |= face.measured[name]
    return Features(face, found.labels, kept, _mask_on_skin(face, zoom, measured, shape),
                    _length_on_skin(face, zoom, length, shape), _mask_on_skin(face, zoom, line_union, shape), zoom)


def blob_facts(feats, label):
    """(diameter mm, elongation, share on measured skin) of one candidate blob, as spots._spots sees it."""
    ys, xs = np.nonzero(feats.spot_labels == label)
    face = feats.face  # the spots were found on its arrays
    area = len(ys)
    vyy, vxx, vxy = ys.var(), xs.var(), ((ys - ys.mean()) * (xs - xs.mean())).mean()
    root = np.sqrt(((vxx - vyy) / 2) ** 2 + vxy ** 2)
    major, minor = (vxx + vyy) / 2 + root, max((vxx + vyy) / 2 - root, 1e-6)
    inside = float(face.skin[ys, xs].mean())  # the share on skin, as spots.find judges it
    return 2 * np.sqrt(area / np.pi) / face.px_per_mm, float(np.sqrt(major / minor)), inside


# ---------------------------------------------------------------------------------------------
# Visible skin (the phantom's own definition, not the service's regions)
# ---------------------------------------------------------------------------------------------
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
EYES = ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
        (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466))
BROWS = ((70, 63, 105, 66, 107, 55, 65, 52, 53, 46), (300, 293, 334, 296, 336, 285, 295, 282, 283, 276))
BROW_LOWER = (46, 53, 52, 65, 55, 276, 283, 282, 295, 285)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
NASION, SUBNASALE, RIGHT_ALA, LEFT_ALA, BELOW_LIP, MOUTH_RIGHT, MOUTH_LEFT = 168, 2, 129, 358, 17, 61, 291
EYE_MARGIN_MM, BROW_MARGIN_MM, LIP_MARGIN_MM = 3.0, 2.0, 2.0
HAIR_DELTA_L = 15.0  # L* this far under the face's median skin (smoothed 0.5 mm): hair, beard, nostril, shadow
HAIR_HUE_DELTA_L, HAIR_HUE_DEGREES = 6.0, 8.0  # or this far under it and yellower (hue angle): light hair
HAIR_GROW_MM = 1.5
MIN_PIECE_CM2 = 1.5  # visible skin in pieces smaller than this (islands in the hair) is left out
PAINT_REGIONS = ("cheek", "chin", "forehead")
REGION_CODES = {"cheek": 1, "chin": 2, "forehead": 3, "nose": 4, "upper_lip": 5}


def _polygon_mask(shape, polygons, grow_px=0.0):
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        flat = [tuple(map(float, p)) for p in polygon]
        draw.polygon(flat, fill=255)
        if grow_px > 0:
            draw.line(flat + flat[:1], fill=255, width=max(1, int(round(2 * grow_px))), joint="curve")
    return np.asarray(canvas) > 0


def in_photo(run, source_size):
    """Skin-crop pixels that come from inside the photo (not the crop's padding), 2 px inset."""
    white = Image.new("L", source_size, 255)
    g = run.geometry
    mask = np.asarray(white.transform((g.size, g.size), Image.Transform.AFFINE, g.affine(),
                                      resample=Image.Resampling.NEAREST, fillcolor=0)) > 0
    return ndimage.binary_erosion(mask, iterations=2)


@dataclass
class VisibleSkin:
    """Visible skin of one face in its unpainted run's skin crop, split into regions."""

    regions: np.ndarray  # uint8 code per pixel (REGION_CODES), 0 = not visible skin
    distance_mm: np.ndarray  # distance to the nearest non-visible-skin pixel, mm
    lab: np.ndarray  # the skin crop in L*a*b*

    def mask(self, name=None):
        return self.regions > 0 if name is None else self.regions == REGION_CODES[name]


def visible_skin(run, source_size):
    """The face oval of the mesh minus eyes, brows, lips, nostrils (grown) and minus hair, beard and
    deep shadow (L* far under the face's median skin, or under it and yellower: light hair), inside
    the photo, in pieces of at least MIN_PIECE_CM2; split by mesh geometry into
    forehead (above the brows' lower edge), nose (nasion to alae and subnasale), chin (under the
    lower lip, between the mouth corners widened), upper lip, cheek (the rest: under-eye, temples
    under the brow line, the cheek to the jaw and the face's edge)."""
    xy = run.points[:, :2]
    shape = (run.skin.height, run.skin.width)
    mm = run.px_per_mm
    rgb = np.asarray(run.skin.convert("RGB"), dtype=np.float32) / 255
    lab = rgb2lab(rgb).astype(np.float32)
    oval = _polygon_mask(shape, [xy[list(FACE_OVAL)]])
    ala_span = np.linalg.norm(xy[LEFT_ALA] - xy[RIGHT_ALA])
    nostrils = []
    for ala in (RIGHT_ALA, LEFT_ALA):
        centre = (xy[ala] + xy[SUBNASALE]) / 2
        rx, ry = 0.2 * ala_span + 1.0 * mm, 0.1 * ala_span + 1.5 * mm
        turns = np.linspace(0, 2 * np.pi, 24)
        nostrils.append(np.stack([centre[0] + rx * np.cos(turns), centre[1] + ry * np.sin(turns)], 1))
    features = (_polygon_mask(shape, [xy[list(e)] for e in EYES], EYE_MARGIN_MM * mm)
                | _polygon_mask(shape, [xy[list(b)] for b in BROWS], BROW_MARGIN_MM * mm)
                | _polygon_mask(shape, [xy[list(LIPS)]], LIP_MARGIN_MM * mm)
                | _polygon_mask(shape, nostrils))
    photo = in_photo(run, source_size)
    candidate = oval & ~features & photo
    smooth = np.stack([ndimage.gaussian_filter(lab[..., i], max(0.5 * mm, 0.7)) for i in range(3)], -1)
    median = np.median(lab[candidate], axis=0) if candidate.any() else np.array([50.0, 0.0, 0.0])
    darker = smooth[..., 0] - median[0]
    hue = np.degrees(np.arctan2(smooth[..., 2], smooth[..., 1]))
    coloured = np.hypot(median[1], median[2]) >= 5.0  # a grey photo has no hue to test
    hair = (darker < -HAIR_DELTA_L) | (coloured & (darker < -HAIR_HUE_DELTA_L)
                                       & (hue > np.degrees(np.arctan2(median[2], median[1])) + HAIR_HUE_DEGREES))
    hair = ndimage.binary_dilation(hair, iterations=max(1, int(round(HAIR_GROW_MM * mm))))
    skin = ndimage.binary_opening(candidate & ~hair, iterations=max(1, int(round(0.5 * mm))))
    pieces, count = ndimage.label(skin)
    if count:
        sizes = np.bincount(pieces.ravel())
        small = sizes < MIN_PIECE_CM2 * 100 * mm * mm
        small[0] = False
        skin &= ~small[pieces]
    regions = np.zeros(shape, dtype=np.uint8)
    ys, xs = np.indices(shape)
    # forehead: above the line fitted through the brows' lower edges
    brow = xy[list(BROW_LOWER)]
    slope, intercept = np.polyfit(brow[:, 0], brow[:, 1], 1)
    above_brows = ys < slope * xs + intercept
    ied = np.linalg.norm(xy[list(EYES[1])].mean(axis=0) - xy[list(EYES[0])].mean(axis=0))
    nose = _polygon_mask(shape, [[xy[NASION] + (-0.10 * ied, 0), xy[NASION] + (0.10 * ied, 0),
                                  xy[LEFT_ALA] + (1.0 * mm, 0), xy[SUBNASALE] + (0, 1.0 * mm),
                                  xy[RIGHT_ALA] + (-1.0 * mm, 0)]])
    mouth_w = abs(xy[MOUTH_LEFT][0] - xy[MOUTH_RIGHT][0])
    lo, hi = sorted((xy[MOUTH_RIGHT][0], xy[MOUTH_LEFT][0]))
    band = (xs >= lo - 0.15 * mouth_w) & (xs <= hi + 0.15 * mouth_w)
    chin = band & (ys > xy[BELOW_LIP][1])
    upper_lip = band & (ys > xy[SUBNASALE][1]) & (ys <= xy[BELOW_LIP][1]) & ~nose
    regions[skin] = REGION_CODES["cheek"]
    regions[skin & chin] = REGION_CODES["chin"]
    regions[skin & upper_lip] = REGION_CODES["upper_lip"]
    regions[skin & nose & ~above_brows] = REGION_CODES["nose"]
    regions[skin & above_brows] = REGION_CODES["forehead"]
    distance = ndimage.distance_transform_edt(skin) / mm
    return VisibleSkin(regions, distance.astype(np.float32), lab)


# ---------------------------------------------------------------------------------------------
# Painting in CIE L*
# ---------------------------------------------------------------------------------------------
@dataclass
class Spot:
    skin_xy: tuple  # centre in the unpainted run's skin crop
    source_xy: tuple
    diameter_mm: float
    contrast: float  # L* darker at the centre
    region: str


@dataclass
class Line:
    skin_ends: np.ndarray  # 2 x 2, unpainted run's skin crop
    source_ends: np.ndarray  # 2 x 2
    length_mm: float
    width_mm: float
    contrast: float  # L* depth of the ideal line (before the soft edge and pixel blur)
    orientation: float  # degrees, in the upright face
    region: str


def _darken(array, box, deficit):
    """Subtract `deficit` (L*) inside box = (y0, y1, x0, x1) of the uint8 RGB array, in place."""
    y0, y1, x0, x1 = box
    patch = array[y0:y1, x0:x1].astype(np.float64) / 255
    lab = rgb2lab(patch)
    lab[..., 0] = np.clip(lab[..., 0] - deficit, 0, 100)
    out = np.clip(lab2rgb(lab), 0, 1)
    touched = deficit > 1e-3
    patch[touched] = out[touched]
    array[y0:y1, x0:x1] = np.round(patch * 255).astype(np.uint8)


def _box(cx, cy, reach, shape):
    return (max(0, int(cy - reach)), min(shape[0], int(cy + reach) + 2),
            max(0, int(cx - reach)), min(shape[1], int(cx + reach) + 2))


def paint(image, spots=(), lines=(), source_px_per_mm=3.0):
    """The photo with the spots (soft discs: the L* deficit is the disc convolved with a Gaussian
    of 0.15 diameters, so its half-depth diameter is the spot's) and lines (a bar `width` wide
    and `length` long, its edges blurred by hypot(0.1 mm, 0.4 px), ends tapered over 0.5 mm)
    darkened in CIE L*."""
    array = np.array(image.convert("RGB"))
    k = source_px_per_mm
    for spot in spots:
        radius, soft = spot.diameter_mm / 2 * k, 0.15 * spot.diameter_mm * k
        box = _box(*spot.source_xy, radius + 4 * soft, array.shape)
        yy, xx = np.mgrid[box[0]:box[1], box[2]:box[3]]
        r = np.hypot(xx - spot.source_xy[0], yy - spot.source_xy[1])
        _darken(array, box, spot.contrast * 0.5 * erfc((r - radius) / (np.sqrt(2) * soft)))
    edge = np.hypot(0.1 * k, 0.4)
    taper = 0.5 * k
    for line in lines:
        a, b = np.asarray(line.source_ends, dtype=np.float64)
        length = float(np.linalg.norm(b - a))
        u = (b - a) / max(length, 1e-9)
        half_w = line.width_mm * k / 2
        centre = (a + b) / 2
        box = _box(centre[0], centre[1], length / 2 + 3 * taper + half_w + 4 * edge, array.shape)
        yy, xx = np.mgrid[box[0]:box[1], box[2]:box[3]]
        t = (xx - a[0]) * u[0] + (yy - a[1]) * u[1]
        d = np.abs(-(xx - a[0]) * u[1] + (yy - a[1]) * u[0])
        across = 0.5 * (erf((d + half_w) / (np.sqrt(2) * edge)) - erf((d - half_w) / (np.sqrt(2) * edge)))
        along = 0.5 * (erf(t / (np.sqrt(2) * taper)) - erf((t - length) / (np.sqrt(2) * taper)))
        _darken(array, box, line.contrast * across * along)
    return Image.fromarray(array)


# ---------------------------------------------------------------------------------------------
# Placing features at random on visible skin
# ---------------------------------------------------------------------------------------------
def place_spots(rng, skin, run, count, sizes, contrast_range, spacing_mm=12.0, regions=PAINT_REGIONS):
    """Up to `count` spots, regions taken in turn, each wholly on visible skin (its centre at least
    radius + 1 mm from anything else), centres at least spacing + both radii apart."""
    chosen = []
    usable = [name for name in regions if skin.mask(name).any()]
    for n in range(count):
        if not usable:
            break
        region = usable[n % len(usable)]
        diameter = float(sizes[rng.integers(len(sizes))])
        contrast = float(rng.uniform(*contrast_range))
        where = np.flatnonzero(skin.mask(region) & (skin.distance_mm >= diameter / 2 + 1.0))
        if not len(where):
            continue
        for _ in range(60):
            y, x = np.divmod(int(where[rng.integers(len(where))]), skin.regions.shape[1])
            if all(np.hypot(x - s.skin_xy[0], y - s.skin_xy[1]) / run.px_per_mm
                   >= spacing_mm + (diameter + s.diameter_mm) / 2 for s in chosen):
                source = run.to_source([(x, y)])[0]
                chosen.append(Spot((float(x), float(y)), (float(source[0]), float(source[1])), diameter, contrast,
                                   region))
                break
    return chosen


def _segment_distance(p, a, b):
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1)
    return float(np.linalg.norm(p - (a + t * ab)))


def _segments_apart(a, b, c, d):
    """Smallest distance between segments ab and cd (sampled)."""
    ts = np.linspace(0, 1, 21)
    return min(min(_segment_distance(a + t * (b - a), c, d) for t in ts),
               min(_segment_distance(c + t * (d - c), a, b) for t in ts))


def place_lines(rng, skin, run, count, orientation, length_range, widths, contrast_range, spacing_mm=6.0,
                regions=PAINT_REGIONS):
    """Up to `count` lines of one orientation, regions in turn, each wholly on visible skin (every
    point 1 mm + half its width inside), at least spacing_mm apart."""
    chosen = []
    usable = [name for name in regions if skin.mask(name).any()]
    theta = np.radians(orientation)
    u = np.array([np.cos(theta), -np.sin(theta)])
    height, width = skin.regions.shape
    for n in range(count):
        if not usable:
            break
        region = usable[n % len(usable)]
        where = np.flatnonzero(skin.mask(region) & (skin.distance_mm >= 1.5))
        if not len(where):
            continue
        for _ in range(80):
            length = float(rng.uniform(*length_range))
            line_width = float(widths[rng.integers(len(widths))])
            y, x = np.divmod(int(where[rng.integers(len(where))]), width)
            half = u * length / 2 * run.px_per_mm
            a, b = np.array([x, y]) - half, np.array([x, y]) + half
            samples = a + np.linspace(0, 1, max(2, int(length * 2) + 1))[:, None] * (b - a)
            sx, sy = np.round(samples[:, 0]).astype(int), np.round(samples[:, 1]).astype(int)
            if sx.min() < 0 or sy.min() < 0 or sx.max() >= width or sy.max() >= height:
                continue
            if (skin.regions[sy, sx] == 0).any() or (skin.distance_mm[sy, sx] < 1.0 + line_width / 2).any():
                continue
            if any(_segments_apart(a, b, *line.skin_ends) / run.px_per_mm < spacing_mm for line in chosen):
                continue
            chosen.append(Line(np.array([a, b]), run.to_source([a, b]), length, line_width,
                               float(rng.uniform(*contrast_range)), float(orientation), region))
            break
    return chosen


# ---------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------
MATCH_MM = 1.5


def judge_spot(spot, run, feats):
    """(found, reason, centre on measured skin) for one painted spot on the painted photo's run.
    reason: found | outside_measured_regions | too_faint | too_big_or_merged | too_small |
    elongated | straddles_region_edge | kept_but_offset."""
    cx, cy = run.to_skin([spot.source_xy])[0]
    mm = run.px_per_mm
    shape = feats.spots_measured.shape
    iy, ix = int(round(cy)), int(round(cx))
    on_measured = 0 <= iy < shape[0] and 0 <= ix < shape[1] and bool(feats.spots_measured[iy, ix])
    for y, x, weight in feats.spot_centres:
        if weight >= 0.5 and np.hypot(x - cx, y - cy) <= MATCH_MM * mm:
            return True, "found", on_measured
    if not on_measured:
        return False, "outside_measured_regions", on_measured
    if feats.face is None:
        return False, "too_faint", on_measured
    y0, x0 = feats.face.origin
    zoom = feats.zoom  # the labels are on the analysed face's arrays
    radius = spot.diameter_mm / 2 * mm * zoom
    ly, lx = (cy + 0.5) * zoom - 0.5 - y0, (cx + 0.5) * zoom - 0.5 - x0
    labels = feats.spot_labels
    ys0, ys1 = max(0, int(ly - radius)), min(labels.shape[0], int(ly + radius) + 1)
    xs0, xs1 = max(0, int(lx - radius)), min(labels.shape[1], int(lx + radius) + 1)
    window_labels = labels[ys0:ys1, xs0:xs1]
    yy, xx = np.mgrid[ys0:ys1, xs0:xs1]
    inside = np.hypot(yy - ly, xx - lx) <= radius
    present = window_labels[inside & (window_labels > 0)]
    if not len(present):
        return False, "too_faint", on_measured
    label = int(np.bincount(present).argmax())
    diameter, elongation, share = blob_facts(feats, label)
    if diameter > spots_module.DIAMETER_MM[1]:
        return False, "too_big_or_merged", on_measured
    if diameter < spots_module.DIAMETER_MM[0]:
        return False, "too_small", on_measured
    if elongation > spots_module.MAX_ELONGATION:
        return False, "elongated", on_measured
    if share < spots_module.MIN_ON_SKIN:
        return False, "straddles_region_edge", on_measured
    return False, "kept_but_offset", on_measured


def line_band(run, line, shape, across_mm=1.2, beyond_mm=1.5):
    """Pixels of a run's skin crop within across_mm of the painted line's axis and beyond_mm of its ends."""
    a, b = run.to_skin(line.source_ends)
    mm = run.px_per_mm
    length = np.linalg.norm(b - a)
    u = (b - a) / max(length, 1e-9)
    reach = length / 2 + (beyond_mm + across_mm) * mm
    centre = (a + b) / 2
    box = _box(centre[0], centre[1], reach, shape)
    yy, xx = np.mgrid[box[0]:box[1], box[2]:box[3]]
    t = (xx - a[0]) * u[0] + (yy - a[1]) * u[1]
    d = np.abs(-(xx - a[0]) * u[1] + (yy - a[1]) * u[0])
    band = (d <= across_mm * mm) & (t >= -beyond_mm * mm) & (t <= length + beyond_mm * mm)
    return box, band


def line_length_mm(run, feats, line):
    """Line length the service counts inside the painted line's band on this run (mm)."""
    box, band = line_band(run, line, feats.line_weight.shape)
    weight = feats.line_weight[box[0]:box[1], box[2]:box[3]]
    return float(weight[band].sum()) / run.px_per_mm


def line_measured_share(run, feats, line):
    """Share of the painted line's length on the wrinkle concern's measured skin (this run)."""
    a, b = run.to_skin(line.source_ends)
    samples = a + np.linspace(0, 1, 41)[:, None] * (b - a)
    sx, sy = np.round(samples[:, 0]).astype(int), np.round(samples[:, 1]).astype(int)
    shape = feats.lines_measured.shape
    ok = (sx >= 0) & (sy >= 0) & (sx < shape[1]) & (sy < shape[0])
    hits = np.zeros(len(sx), dtype=bool)
    hits[ok] = feats.lines_measured[sy[ok], sx[ok]]
    return float(hits.mean())


# ---------------------------------------------------------------------------------------------
# Re-captures of the same photo
# ---------------------------------------------------------------------------------------------
def _linear(image):
    c = np.asarray(image, dtype=np.float64) / 255
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


def _srgb(linear):
    c = np.clip(linear, 0, 1)
    return Image.fromarray(np.round(255 * np.where(c > 0.0031308, 1.055 * c ** (1 / 2.4) - 0.055, 12.92 * c))
                           .astype(np.uint8))


def _turned(image, degrees):
    edge = np.asarray(image)
    fill = tuple(int(v) for v in np.concatenate([edge[0], edge[-1], edge[:, 0], edge[:, -1]]).mean(axis=0))
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill)


RECAPTURES = {
    "jpeg q95 (reference)": lambda im: jpeg(im, 95),
    "jpeg q85": lambda im: jpeg(im, 85),
    "jpeg q75": lambda im: jpeg(im, 75),
    "scale x0.85": lambda im: jpeg(enlarged(im, 0.85)),
    "scale x1.15": lambda im: jpeg(enlarged(im, 1.15)),
    "turn +5 deg": lambda im: jpeg(_turned(im, 5)),
    "turn -5 deg": lambda im: jpeg(_turned(im, -5)),
    "exposure x0.9": lambda im: jpeg(_srgb(_linear(im) * 0.9)),
    "exposure x1.1": lambda im: jpeg(_srgb(_linear(im) * 1.1)),
    "mirror": lambda im: jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
}
QUICK_RECAPTURES = ("jpeg q95 (reference)", "jpeg q75", "turn +5 deg", "exposure x0.9", "mirror")


def overlay(run, base, skin, spots_painted, results, feats, path):
    """A PNG to look at: the painted run's skin crop, visible skin (found on the unpainted run `base`)
    tinted by region (cheek yellow, chin blue, forehead violet, nose green, upper lip red), the
    service's measured spot regions outlined in white, painted spots circled (green found, red missed)."""
    base_pixels = np.asarray(run.skin.convert("RGB"), dtype=np.float32)
    height, width = base_pixels.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    there = base.to_skin(run.to_source(np.stack([xs.ravel(), ys.ravel()], 1)))
    bx, by = np.round(there[:, 0]).astype(int), np.round(there[:, 1]).astype(int)
    ok = (bx >= 0) & (by >= 0) & (bx < skin.regions.shape[1]) & (by < skin.regions.shape[0])
    codes = np.zeros(len(bx), dtype=np.uint8)
    codes[ok] = skin.regions[by[ok], bx[ok]]
    codes = codes.reshape(height, width)
    tint = {1: (255, 200, 0), 2: (0, 160, 255), 3: (200, 0, 255), 4: (0, 255, 120), 5: (255, 90, 90)}
    out = base_pixels.copy()
    for code, colour in tint.items():
        m = codes == code
        out[m] = 0.75 * out[m] + 0.25 * np.array(colour, np.float32)
    edge = feats.spots_measured & ~ndimage.binary_erosion(feats.spots_measured, iterations=2)
    out[edge] = (255, 255, 255)
    image = Image.fromarray(out.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for spot, (found, _, _) in zip(spots_painted, results):
        x, y = run.to_skin([spot.source_xy])[0]
        r = spot.diameter_mm / 2 * run.px_per_mm + 3
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(0, 220, 0) if found else (255, 0, 0), width=2)
    image.save(path)
