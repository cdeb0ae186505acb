"""What each skin concern means, pinned on a real face (scikit-image's astronaut) by how it must
respond when the photo changes: drawn spots are counted, drawn lines raise wrinkles, smoothing
lowers texture, highlights raise shine, a darker under-eye raises dark circles by about that much,
redder cheeks raise the red area. Global brightness, resolution and mirroring must not change
what is measured (beyond the stated tolerances).

The astronaut photo holds the face at about 0.7 px/mm; it is enlarged (bicubic) to the px/mm each
test needs and run through the real validate pipeline (detector, mesh, iris), so the regions,
mask and scale are the service's own.
"""
import math
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage
from skimage.color import lab2rgb, rgb2lab

from ananacare.models import ModelRegistry, load_specs
from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.skin import analyze_skin, pixels_per_mm
from ananacare.skin.analysis import build_face
from ananacare.skin.regions import region_masks
from photos import encode, photo


@lru_cache(maxsize=None)
def _registry():
    models = ModelRegistry(load_specs(), threads=1)
    models.load_all()
    return models


@lru_cache(maxsize=None)
def skin_face(factor, mirrored=False, brightness=1.0):
    """(skin crop, mesh in its pixels, scale) of the astronaut enlarged `factor` times."""
    image = photo("astronaut")
    if mirrored:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.resize((512 * factor, 512 * factor), Image.Resampling.BICUBIC)
    settings = PipelineSettings(decode_max_side=4096, skin_max_side=4096)
    validation = validate_image(encode(image, "PNG", compress_level=1), _registry(), settings)
    skin = validation.skin_crop
    points = validation.mesh.points * skin.width / validation.crop.width
    return skin, points, pixels_per_mm(skin, points, _registry(), "iris")


def analyse(image, points, scale, concerns=None):
    return analyze_skin(image, points, scale, concerns=concerns)


def spots_inside(mask, radius_px, count, spacing_px):
    """`count` centres inside the mask (eroded by the radius), at least spacing apart."""
    inner = ndimage.binary_erosion(mask, iterations=int(radius_px) + 3)
    ys, xs = np.nonzero(inner)
    chosen = []
    for y, x in zip(ys[::7], xs[::7]):
        if all((y - cy) ** 2 + (x - cx) ** 2 >= spacing_px ** 2 for cy, cx in chosen):
            chosen.append((y, x))
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"room for {len(chosen)} spots only")


def in_lab(image, mask, dl=0.0, da=0.0):
    """The image with L* and a* shifted by dl, da where mask is true."""
    rgb = np.asarray(image, dtype=np.float64) / 255
    lab = rgb2lab(rgb)
    lab[..., 0] += dl * mask
    lab[..., 1] += da * mask
    out = np.clip(lab2rgb(lab), 0, 1)
    return Image.fromarray(np.round(np.where(mask[..., None], out, rgb) * 255).astype(np.uint8))


def measured_mask(image, points, scale, name):
    """The pixels of a region the analysis measures (skin, away from hair and features), image-sized."""
    face, _, coverage = build_face(image, points, scale["px_per_mm"])
    assert coverage[name]["measured"], coverage[name]
    mask = np.zeros((image.height, image.width), dtype=bool)
    y0, x0 = face.origin
    region = face.measured[name]
    mask[y0:y0 + region.shape[0], x0:x0 + region.shape[1]] = region
    return mask


def draw_spots(image, centres, radius_px, darker=0.72):
    pixels = np.asarray(image, dtype=np.float64)
    yy, xx = np.indices(pixels.shape[:2])
    for cy, cx in centres:
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius_px ** 2
        pixels[disc] *= darker
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def draw_lines(image, mask, count, darker, length_px, width_px):
    """`count` thin horizontal dark lines across the region."""
    ys, xs = np.nonzero(ndimage.binary_erosion(mask, iterations=3))
    top, bottom, centre = ys.min(), ys.max(), int(np.median(xs))
    pixels = np.asarray(image, dtype=np.float64).copy()
    canvas = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(canvas)
    for n in range(count):
        y = top + (n + 1) * (bottom - top) / (count + 1)
        draw.line([(centre - length_px / 2, y), (centre + length_px / 2, y + 0.1 * length_px)], fill=255,
                  width=max(1, int(round(width_px))))
    line = (np.asarray(canvas) > 0) & mask
    pixels[line] *= darker
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def test_the_astronauts_bangs_are_left_out_and_the_forehead_below_them_is_measured():
    image, points, scale = skin_face(4)
    skin = analyse(image, points, scale)
    assert scale["method"] == "iris" and 2.4 < scale["px_per_mm"] < 3.1
    assert 55 < scale["inter_eye_mm"] < 72  # the iris scale puts her eyes an adult's distance apart
    forehead = skin["coverage"]["forehead"]
    assert forehead["measured"] and 0.2 <= forehead["coverage"] < 0.75, forehead  # most of it is her bangs
    for name in ("nose", "chin", "right_cheek", "left_cheek", "right_under_eye", "left_under_eye"):
        assert skin["coverage"][name]["measured"], (name, skin["coverage"][name])
    hue = {name: math.degrees(math.atan2(region["lab"][2], region["lab"][1]))
           for name, region in skin["regions"].items()}
    assert abs(hue["forehead"] - hue["right_cheek"]) < 6, hue  # skin's hue, not her light brown hair's


@pytest.mark.parametrize("count", [3, 6])
def test_drawn_spots_of_2_to_4_mm_are_counted(count):
    image, points, scale = skin_face(4)
    px_mm = scale["px_per_mm"]
    mask = measured_mask(image, points, scale, "left_cheek") | measured_mask(image, points, scale, "right_cheek")
    centres = spots_inside(mask, 2 * px_mm, count, 7 * px_mm)
    radii = [(1.0 + (n % 3) * 0.5) * px_mm for n in range(count)]  # 2, 3, 4 mm across
    spotted = image
    for centre, radius in zip(centres, radii):
        spotted = draw_spots(spotted, [centre], radius)
    before = analyse(image, points, scale, ["spots"])["concerns"]["spots"]
    after = analyse(spotted, points, scale, ["spots"])["concerns"]["spots"]
    assert abs(after["count"] - before["count"] - count) <= 1, (before["count"], after["count"])
    assert after["value"] > before["value"] and after["area_percent"] > before["area_percent"]
    assert after["score"] <= before["score"]


def test_more_and_darker_lines_raise_wrinkles_monotonically():
    image, points, scale = skin_face(4)
    px_mm = scale["px_per_mm"]
    mask = measured_mask(image, points, scale, "left_cheek")
    by_count = [analyse(draw_lines(image, mask, n, 0.8, 15 * px_mm, 0.6 * px_mm), points, scale,
                        ["wrinkles"])["concerns"]["wrinkles"]["regions"]["left_cheek"]["length_cm_per_cm2"]
                for n in (0, 2, 4, 6)]
    assert all(b > a for a, b in zip(by_count, by_count[1:])), by_count
    by_contrast = [analyse(draw_lines(image, mask, 4, darker, 15 * px_mm, 0.6 * px_mm), points, scale,
                           ["wrinkles"])["concerns"]["wrinkles"]["regions"]["left_cheek"]["depth_contrast"]
                   for darker in (0.9, 0.8, 0.65)]
    assert all(b > a for a, b in zip(by_contrast, by_contrast[1:])), by_contrast


def test_smoothing_the_skin_lowers_texture_and_pores():
    image, points, scale = skin_face(7)
    assert scale["px_per_mm"] >= 4.0
    px_mm = scale["px_per_mm"]
    mask = measured_mask(image, points, scale, "left_cheek") | measured_mask(image, points, scale, "right_cheek")
    centres = spots_inside(mask, 0.3 * px_mm, 25, 2.5 * px_mm)
    pitted = draw_spots(image, centres, 0.2 * px_mm, darker=0.85)  # 0.4 mm pits: pores
    smooth = pitted.filter(ImageFilter.GaussianBlur(0.6 * px_mm))
    plain, with_pits, smoothed = (analyse(i, points, scale, ["pores", "texture"])["concerns"]
                                  for i in (image, pitted, smooth))
    assert with_pits["pores"]["value"] > plain["pores"]["value"]
    assert abs((with_pits["pores"]["regions"]["left_cheek"]["count"] + with_pits["pores"]["regions"]["right_cheek"]
                ["count"]) - (plain["pores"]["regions"]["left_cheek"]["count"]
                              + plain["pores"]["regions"]["right_cheek"]["count"]) - 25) <= 3
    assert smoothed["pores"]["value"] < with_pits["pores"]["value"]
    assert smoothed["texture"]["value"] < 0.8 * with_pits["texture"]["value"]
    assert smoothed["texture"]["score"] >= with_pits["texture"]["score"]


def test_highlights_on_the_t_zone_raise_shine():
    image, points, scale = skin_face(4)
    px_mm = scale["px_per_mm"]
    nose = measured_mask(image, points, scale, "nose")
    centres = spots_inside(nose, 1.0 * px_mm, 4, 3 * px_mm)
    pixels = np.asarray(image).copy()
    yy, xx = np.indices(pixels.shape[:2])
    for cy, cx in centres:
        pixels[(yy - cy) ** 2 + (xx - cx) ** 2 <= (1.0 * px_mm) ** 2] = (250, 248, 245)
    before = analyse(image, points, scale, ["shine"])["concerns"]["shine"]
    after = analyse(Image.fromarray(pixels), points, scale, ["shine"])["concerns"]["shine"]
    painted = 100 * 4 * np.pi * px_mm ** 2 / nose.sum()  # % of the nose's measured skin painted white
    added = after["regions"]["nose"]["highlight_percent"] - before["regions"]["nose"]["highlight_percent"]
    assert after["value"] > before["value"] + 0.2 and 0.6 * painted < added < 1.6 * painted, (painted, added)
    assert after["score"] < before["score"] or before["score"] == 100 and after["score"] < 100


@pytest.mark.parametrize("delta", [4.0, 8.0])
def test_darker_under_eyes_raise_dark_circles_by_about_that(delta):
    image, points, scale = skin_face(4)
    masks = region_masks(image.size, points)
    under = masks["right_under_eye"] | masks["left_under_eye"]
    before = analyse(image, points, scale, ["dark_circles"])["concerns"]["dark_circles"]["value"]
    after = analyse(in_lab(image, under, dl=-delta), points, scale, ["dark_circles"])["concerns"]["dark_circles"]
    assert after["value"] - before == pytest.approx(delta, abs=1.5)


def test_redder_cheeks_raise_the_red_area():
    image, points, scale = skin_face(4)
    masks = region_masks(image.size, points)
    cheeks = masks["right_cheek"] | masks["left_cheek"]
    before = analyse(image, points, scale, ["redness"])["concerns"]["redness"]
    after = analyse(in_lab(image, cheeks, da=8.0), points, scale, ["redness"])["concerns"]["redness"]
    assert after["value"] > before["value"] + 10
    assert after["regions"]["left_cheek"]["mean_a"] > before["regions"]["left_cheek"]["mean_a"] + 6
    assert after["regions"]["left_cheek"]["area_percent"] > 50


def _brightened(image, factor):
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) * factor, 0, 255).astype(np.uint8))


def _featured(factor):
    """The enlarged astronaut with 6 spots (3 mm), 4 lines (15 mm) and 25 pits (0.4 mm) drawn on the cheeks."""
    image, points, scale = skin_face(factor)
    px_mm = scale["px_per_mm"]
    mask = measured_mask(image, points, scale, "left_cheek") | measured_mask(image, points, scale, "right_cheek")
    featured = draw_spots(image, spots_inside(mask, 2 * px_mm, 6, 7 * px_mm), 1.5 * px_mm)
    featured = draw_lines(featured, measured_mask(image, points, scale, "left_cheek"), 4, 0.8, 15 * px_mm, 0.6 * px_mm)
    featured = draw_spots(featured, spots_inside(mask, 0.3 * px_mm, 25, 2.5 * px_mm), 0.2 * px_mm, darker=0.85)
    return featured, points, scale


@pytest.mark.parametrize("factor", [0.85, 1.15])
def test_global_brightness_changes_wrinkles_spots_pores_by_under_10_percent(factor):
    # The photo itself is bright: at +15 % its cheeks clip in red (53 % of pixels) and green (3.5 %),
    # and clipped relief is lost relief. The test starts from it at 90 % exposure, as a camera
    # exposing the face normally would give, and goes 15 % either way.
    featured, points, scale = _featured(7)
    names = ["wrinkles", "spots", "pores"]
    base = analyse(_brightened(featured, 0.9), points, scale, names)["concerns"]
    changed = analyse(_brightened(featured, 0.9 * factor), points, scale, names)["concerns"]
    for name in names:
        # spots by 12 %: one shadow where her cheek meets her ear passes as a spot in the darker photo
        assert changed[name]["value"] == pytest.approx(base[name]["value"], rel=0.12 if name == "spots" else 0.10), name


def test_densities_agree_at_two_resolutions():
    featured, points, scale = _featured(6)
    assert scale["px_per_mm"] >= 4.0
    smaller = featured.resize((round(featured.width * 0.6),) * 2, Image.Resampling.LANCZOS)
    ratio = smaller.width / featured.width
    low = dict(scale, px_per_mm=scale["px_per_mm"] * ratio)
    assert low["px_per_mm"] >= 2.0
    names = ["wrinkles", "spots", "texture"]
    high_values = analyse(featured, points, scale, names)["concerns"]
    low_values = analyse(smaller, points * ratio, low, names)["concerns"]
    for name in names:
        assert low_values[name]["value"] == pytest.approx(high_values[name]["value"], rel=0.20), name


SWAP = {"right_": "left_", "left_": "right_"}
MIDLINE = (0, 1, 2, 4, 5, 6, 9, 10, 17, 151, 152, 164, 168, 175, 195, 197, 199, 200)


def _clearly(entry):
    """A region clearly measured or clearly not: well off the coverage and area thresholds."""
    return entry["coverage"] >= 0.4 and entry["area_cm2"] >= 1.0 or entry["coverage"] < 0.1


def _other(name):
    return next((name.replace(a, b, 1) for a, b in SWAP.items() if name.startswith(a)), name)


def mirrored_mesh(points, width):
    """The mesh of the mirrored image: landmark k sits where its partner (the landmark nearest to
    k's reflection about the face's midline) was, reflected about the image's centre."""
    xy = points[:, :2]
    middle = xy[list(MIDLINE), 0].mean()
    reflected = np.column_stack([2 * middle - xy[:, 0], xy[:, 1]])
    partner = np.argmin(((reflected[:, None, :] - xy[None, :, :]) ** 2).sum(-1), axis=1)
    mirrored = points[partner].copy()
    mirrored[:, 0] = width - mirrored[:, 0]
    return mirrored


def test_mirroring_swaps_left_and_right_and_nothing_else():
    image, points, scale = skin_face(4)
    flipped = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    skin = analyse(image, points, scale)
    mirrored = analyse(flipped, mirrored_mesh(points, image.width), scale)
    for name, entry in skin["coverage"].items():
        if _clearly(entry):  # a region on the edge of the measured rules (a crow's-feet under hair) may flip
            assert mirrored["coverage"][_other(name)]["measured"] == entry["measured"], name
        # colour is classified on a grid of every second or third pixel: after a flip that grid samples
        # other pixels, so a region's edge along the hair or a feature's margin moves by a pixel
        slack = 0.1 if entry["coverage"] >= 0.5 else 0.15  # more where it borders the hair
        assert mirrored["coverage"][_other(name)]["coverage"] == pytest.approx(entry["coverage"], abs=slack), name
    for name, region in skin["regions"].items():
        # along the bangs that pixel decides whether a strand is skin: the forehead's mean moves by up to 2 L*
        tolerance = 1.0 if skin["coverage"][name]["coverage"] > 0.8 else 2.0
        assert np.allclose(mirrored["regions"][_other(name)]["lab"], region["lab"], atol=tolerance), name
    for concern, result in skin["concerns"].items():
        if not result["available"]:
            assert mirrored["concerns"][concern] == result, concern
            continue
        assert mirrored["concerns"][concern]["value"] == pytest.approx(result["value"], rel=0.1, abs=0.2), concern
        for name, values in result["regions"].items():
            assert set(mirrored["concerns"][concern]["regions"][_other(name)]) == set(values), (concern, name)


def test_a_mirrored_photo_measures_the_mirrored_regions():
    """Through the whole pipeline (detected and meshed afresh, so region edges move a little)."""
    image, points, scale = skin_face(4)
    mirror_image, mirror_points, mirror_scale = skin_face(4, mirrored=True)
    assert mirror_scale["px_per_mm"] == pytest.approx(scale["px_per_mm"], rel=0.05)
    skin = analyse(image, points, scale)
    mirrored = analyse(mirror_image, mirror_points, mirror_scale)
    for name, entry in skin["coverage"].items():
        if _clearly(entry):
            assert mirrored["coverage"][_other(name)]["measured"] == entry["measured"], name
    # wrinkles and redness are left to the exact-mirror test above: on this smooth face their values
    # are small counts near the threshold (0.47 and 0.63 cm/cm2 here), which moving edges shift
    for concern, tolerance in (("dark_circles", 1.0), ("tone", 0.5), ("texture", 0.1)):
        expected = skin["concerns"][concern]["value"]
        assert mirrored["concerns"][concern]["value"] == pytest.approx(expected, rel=0.2, abs=tolerance), concern


def test_resolution_bound_concerns_say_what_they_need():
    image, points, scale = skin_face(1)
    assert scale["px_per_mm"] < 1.0
    concerns = analyse(image, points, scale)["concerns"]
    for name, minimum in (("wrinkles", 2.0), ("spots", 1.0), ("pores", 4.0), ("texture", 2.0)):
        assert concerns[name] == {"available": False, "reason": "resolution_too_low", "min_px_per_mm": minimum,
                                  "px_per_mm": scale["px_per_mm"]}, name
    for name in ("redness", "dark_circles", "shine", "tone"):
        assert concerns[name]["available"] is True and concerns[name]["min_px_per_mm"] <= scale["px_per_mm"]


def test_inter_eye_distance_is_the_fallback_scale():
    image, points, _ = skin_face(4)
    fallback = pixels_per_mm(image, points)
    iris = pixels_per_mm(image, points, _registry(), "iris")
    assert fallback["method"] == "inter_eye_distance" and fallback["iris"] == "not_configured"
    assert fallback["px_per_mm"] == pytest.approx(iris["px_per_mm"], rel=0.15)
