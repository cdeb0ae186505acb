"""Heatmaps show what was counted, where the numbers say: each concern's marks lie on the regions its
answer reports, a mirrored photo gives the mirrored map, painted features are marked where painted,
and a concern judged none is drawn in no alarm colour."""
import numpy as np
import pytest
from PIL import Image

from ananacare.skin import analyze_skin
from ananacare.skin.heatmaps import render_heatmap
from ananacare.skin.regions import region_masks
from test_skin_concerns import draw_spots, in_lab, measured_mask, mirrored_mesh, skin_face, spots_inside


def _centres(image, points, scale):
    """Where the four spots go: well inside her left cheek's measured skin."""
    px_mm = scale["px_per_mm"]
    return spots_inside(measured_mask(image, points, scale, "left_cheek"), 4 * px_mm, 4, 7 * px_mm)


def _painted():
    """The astronaut at 4x, four 3 mm spots painted on her left cheek and her right cheek reddened."""
    image, points, scale = skin_face(4)
    spotted = draw_spots(image, _centres(image, points, scale), 1.5 * scale["px_per_mm"], darker=0.7)
    right = region_masks(image.size, points)["right_cheek"]
    return in_lab(spotted, right, da=10.0), points, scale


@pytest.fixture(scope="module")
def painted():
    image, points, scale = _painted()
    body, maps = analyze_skin(image, points, scale, heatmaps=True)
    return image, points, body, maps


@pytest.fixture(scope="module")
def mirrored():
    """The same painted photo mirrored, with its mesh mirrored (each landmark where its partner was)."""
    image, points, scale = _painted()
    flipped, flipped_points = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), mirrored_mesh(points, image.width)
    body, maps = analyze_skin(flipped, flipped_points, scale, heatmaps=True)
    return flipped, flipped_points, body, maps


def _marked(maps, name):
    return np.isfinite(maps[name].values)


@pytest.mark.parametrize("name", ["wrinkles", "spots", "texture", "redness", "dark_circles", "tone"])
def test_marks_lie_on_the_regions_the_answer_reports(painted, name):
    image, points, body, maps = painted
    concern = body["concerns"][name]
    assert concern["available"], concern
    regions = region_masks(image.size, points)
    reported = np.zeros((image.height, image.width), dtype=bool)
    for region in concern["regions"]:
        reported |= regions[region]
    marked = _marked(maps, name)
    assert marked.any(), name
    assert (marked & reported).sum() >= 0.98 * marked.sum(), (name, marked.sum(), (marked & ~reported).sum())


def test_the_spots_map_outlines_the_spots_counted_where_they_were_painted(painted):
    image, points, body, maps = painted
    assert body["concerns"]["spots"]["regions"]["left_cheek"]["count"] >= 4
    unpainted, _, scale = skin_face(4)
    ys, xs = np.nonzero(_marked(maps, "spots"))
    for cy, cx in _centres(unpainted, points, scale):  # an outline around each painted spot: 1.5 mm out
        distance = np.hypot(ys - cy, xs - cx) / scale["px_per_mm"]
        assert ((distance > 0.8) & (distance < 2.5)).sum() >= 8, (cy, cx)


def test_the_redness_map_marks_the_reddened_cheek_at_full_size(painted):
    image, points, body, maps = painted
    regions = region_masks(image.size, points)
    marked = _marked(maps, "redness")
    right, left = (marked & regions["right_cheek"]).sum(), (marked & regions["left_cheek"]).sum()
    assert right > 5 * max(left, 1), (right, left)
    ys, xs = np.nonzero(marked)
    assert ys.max() > image.height / 2 and xs.max() > image.width / 2 or xs.min() < image.width / 2
    assert body["concerns"]["redness"]["regions"]["right_cheek"]["area_percent"] > 50


@pytest.mark.parametrize("name", ["spots", "redness", "wrinkles"])
def test_a_mirrored_photo_gives_the_mirrored_map(painted, mirrored, name):
    width = painted[0].width
    xs = np.nonzero(_marked(painted[3], name))[1]
    mirrored_xs = np.nonzero(_marked(mirrored[3], name))[1]
    assert abs(np.median(mirrored_xs) - (width - 1 - np.median(xs))) < 0.04 * width, name


def test_a_concern_judged_none_is_drawn_calm(painted):
    image, points, body, maps = painted
    crop = image.resize((512, 512))
    judged = [name for name, concern in body["concerns"].items()
              if concern.get("available") and concern["severity"] == "none" and name in maps]
    assert judged, {name: concern.get("severity") for name, concern in body["concerns"].items()}
    for name in judged:
        drawn = np.asarray(render_heatmap(crop, maps[name], body["concerns"][name], name), dtype=np.int16)
        face = drawn[:-40]  # above the legend band
        warm = (face[..., 0] - face[..., 2] > 120) & (face[..., 0] - np.asarray(crop, np.int16)[:-40, :, 0] > 30)
        assert warm.sum() == 0, (name, warm.sum())


def test_every_map_has_a_legend(painted):
    image, points, body, maps = painted
    crop = image.resize((512, 512))
    drawn = np.asarray(render_heatmap(crop, maps["spots"], body["concerns"]["spots"], "spots"))
    band = drawn[-28:]
    assert band.mean() < np.asarray(crop)[-28:].mean()  # the darkened legend band
    assert len(np.unique(band.reshape(-1, 3), axis=0)) > 20  # its colour bar and its words
    unmeasured = render_heatmap(crop, None, {"available": False, "reason": "resolution_too_low"}, "pores")
    assert np.asarray(unmeasured)[:200].mean() < 0.6 * np.asarray(crop)[:200].mean()  # dimmed
    assert isinstance(unmeasured, Image.Image)
