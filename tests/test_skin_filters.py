"""ananacare/skin/filters.py against the SciPy it replaces (SciPy is a dev dependency, for these
checks only): random arrays and masks of many shapes and densities, shapes the labelling could get
wrong, the astronaut's real skin crop, and a whole skin analysis with SciPy's filters swapped in.

Masks and the maximum filter must come out identical (labels numbered as SciPy numbers them);
Gaussians equal within float32 rounding.
"""
import time
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from ananacare.models import ModelRegistry, load_specs
from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.skin import analysis, common, filters, pores, spots, texture, wrinkles
from ananacare.skin import analyze_skin, pixels_per_mm
from ananacare.skin.analysis import build_face
from photos import encode, photo

SHAPES = [(1, 1), (1, 17), (23, 1), (2, 2), (5, 9), (31, 30), (64, 97), (200, 150)]
SIGMAS = [0.3, 0.5, 1.07, 1.71, 2.57, 4.28, 9.0]  # the concerns' range at 2-8 px/mm, and wider than some shapes


def same_gaussian(values, sigma):
    expected, got = ndimage.gaussian_filter(values, sigma), filters.gaussian_filter(values, sigma)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * max(float(np.abs(values).max()), 1e-30))


def same_labels(mask):
    expected, expected_count = ndimage.label(mask)
    got, count = filters.label(mask)
    assert count == expected_count and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def same_masks(mask):
    same_labels(mask)
    np.testing.assert_array_equal(filters.binary_fill_holes(mask), ndimage.binary_fill_holes(mask))
    np.testing.assert_array_equal(filters.binary_opening(mask), ndimage.binary_opening(mask))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_filter_matches_scipy(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    values = (rng.normal(100, 20, shape)).astype(dtype)
    for sigma in SIGMAS:
        same_gaussian(values, sigma)
    same_gaussian(np.zeros(shape, dtype), 1.0)


def test_gaussian_filter_of_integers_is_float_and_matches_scipy_on_floats():
    values = np.arange(60, dtype=np.uint8).reshape(6, 10)
    got = filters.gaussian_filter(values, 1.5)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ndimage.gaussian_filter(values.astype(np.float64), 1.5), rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [3, 5, 7, 9])
def test_maximum_filter_matches_scipy_exactly(shape, size):
    rng = np.random.default_rng(sum(shape) + size)
    for values in (rng.normal(size=shape).astype(np.float32), rng.integers(0, 4, shape).astype(np.float32)):  # ties
        np.testing.assert_array_equal(filters.maximum_filter(values, size), ndimage.maximum_filter(values, size=size))
    with pytest.raises(ValueError):
        filters.maximum_filter(np.zeros((4, 4)), 4)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("density", [0.0, 0.2, 0.45, 0.59, 0.75, 1.0])
def test_label_fill_holes_and_opening_match_scipy_on_random_masks(shape, density):
    rng = np.random.default_rng(sum(shape) + int(100 * density))
    for _ in range(3):
        same_masks(rng.random(shape) < density)


@pytest.mark.parametrize("seed", range(6))
def test_label_fill_holes_and_opening_match_scipy_on_blobs_with_holes(seed):
    """Thresholded smooth noise: blobs, rings and holes of many sizes, as in a skin mask."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.normal(size=(300, 260)), 1 + seed)
    for level in (-0.5, 0.0, 0.5):
        same_masks(noise > level * noise.std())


def test_label_on_shapes_a_run_based_labelling_could_get_wrong():
    serpentine = np.zeros((41, 40), dtype=bool)
    serpentine[::2] = True
    serpentine[1::4, -1] = True
    serpentine[3::4, 0] = True  # one path through every row: many merge rounds
    comb = np.zeros((40, 41), dtype=bool)
    comb[:, ::2] = True
    comb[-1] = True  # teeth joined only at the bottom: the first runs meet last
    diagonal = np.eye(12, dtype=bool) | np.eye(12, k=3, dtype=bool)  # 8-adjacent only: separate components
    spiral = np.zeros((25, 25), dtype=bool)
    for k in range(0, 12, 2):
        spiral[k, k:25 - k] = spiral[k:25 - k, 24 - k] = spiral[24 - k, k:25 - k] = True
        spiral[k + 2:25 - k, k] = True
    staircase = np.triu(np.ones((30, 30), dtype=bool)) & ~np.triu(np.ones((30, 30), dtype=bool), 2)
    for mask in (serpentine, comb, diagonal, spiral, staircase, ~serpentine, ~comb, ~diagonal, ~spiral):
        same_masks(mask)
    assert filters.label(serpentine)[1] == 1 and filters.label(diagonal)[1] == 12 + 9


def test_labelling_a_megapixel_mask_with_thousands_of_components_is_fast():
    """Vectorised, not a loop over pixels (tens of ms here; SciPy about 8 ms): a loose bound."""
    mask = np.random.default_rng(0).random((1024, 1024)) < 0.7  # about 7,700 components, 220,000 runs
    started = time.perf_counter()
    _, count = filters.label(mask)
    filters.binary_fill_holes(mask)
    assert time.perf_counter() - started < 2.0
    assert count == ndimage.label(mask)[1]


@lru_cache(maxsize=None)
def astronaut(factor):
    """(skin crop, mesh in its pixels, scale) of the astronaut enlarged `factor` times (as in
    test_skin_concerns), through the real validate pipeline."""
    registry = ModelRegistry(load_specs(), threads=1)
    registry.load_all()
    image = photo("astronaut").resize((512 * factor, 512 * factor), Image.Resampling.BICUBIC)
    settings = PipelineSettings(decode_max_side=4096, skin_max_side=4096)
    validation = validate_image(encode(image, "PNG", compress_level=1), registry, settings)
    skin = validation.skin_crop
    points = validation.mesh.points * skin.width / validation.crop.width
    return skin, points, pixels_per_mm(skin, points, registry, "iris")


def test_every_filter_matches_scipy_on_a_real_skin_crop():
    skin, points, scale = astronaut(7)
    face, _, _ = build_face(skin, points, scale["px_per_mm"])
    assert face.relative.shape[0] > 700 and face.relative.dtype == np.float32
    for mm in (0.1, 0.12, 0.2, 0.25, 0.35, 0.4, 0.6, 1.0):
        same_gaussian(face.relative, max(mm * face.px_per_mm, 0.3))
    dog = filters.gaussian_filter(face.relative, 0.35 * face.px_per_mm) - filters.gaussian_filter(face.relative, 0.5)
    np.testing.assert_array_equal(filters.maximum_filter(dog, 3), ndimage.maximum_filter(dog, size=3))
    dark = spots.darkness(face, face.skin)
    for mask in (face.skin, face.skin[::2, ::2], face.dark, face.highlight, dark > spots.SEED_CONTRAST, dark > 1.0):
        same_masks(mask)


@pytest.mark.parametrize("factor", [4, 7])
def test_a_whole_skin_analysis_is_the_same_with_scipys_filters(monkeypatch, factor):
    """Every reported number equal within 0.1 % (a pixel on a threshold's edge may fall either way
    in float32); heatmaps equal within float32 rounding, except the few wrinkle pixels whose
    eigenvalue ratio sits on the line test's threshold."""
    skin, points, scale = astronaut(factor)
    ours, our_maps = analyze_skin(skin, points, scale, heatmaps=True)
    scipys = {"gaussian_filter": ndimage.gaussian_filter, "label": ndimage.label,
              "maximum_filter": lambda values, size: ndimage.maximum_filter(values, size=size),
              "binary_fill_holes": ndimage.binary_fill_holes, "binary_opening": ndimage.binary_opening}
    for module in (analysis, common, pores, spots, texture, wrinkles):
        for name, function in scipys.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, function)
    theirs, their_maps = analyze_skin(skin, points, scale, heatmaps=True)
    assert _close(ours, theirs), (ours, theirs)
    measured = [name for name, concern in ours["concerns"].items() if concern["available"]]
    assert {"wrinkles", "spots", "texture"} <= set(measured) and ("pores" in measured) == (factor == 7)
    assert set(our_maps) == set(their_maps)
    for name in our_maps:
        mine, others = our_maps[name].values, their_maps[name].values
        # float32 at L* ~ 70; tone divides by the skin's weight near its edge: 0.1 L* on a 2-8 L* scale
        differs = ~np.isclose(mine, others, rtol=1e-4, atol=0.1 if name == "tone" else 1e-3, equal_nan=True)
        # a measured mask's edge pixel may fall either way in float32 (the interior rim's threshold)
        assert differs.sum() <= (60 if name in ("wrinkles", "texture", "tone", "redness") else 0), (name, differs.sum())


def _close(ours, theirs, tolerance=5e-3):
    """Equal, numbers within a relative `tolerance` (float32 rounding of SciPy's and our filters, then rounding)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_close(ours[k], theirs[k], tolerance) for k in ours)
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return len(ours) == len(theirs) and all(_close(a, b, tolerance) for a, b in zip(ours, theirs))
    numbers = (int, float)
    if isinstance(ours, numbers) and isinstance(theirs, numbers) and not isinstance(ours, bool):
        return ours == pytest.approx(theirs, rel=tolerance, abs=tolerance)  # a pixel count by one at an edge
    return ours == theirs
