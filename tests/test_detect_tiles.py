"""Tiles: windows cut from the photo resized once, and when the tiles beside faces run.

Beside faces found, tiles look for faces down to half the smallest face found; where the
whole-image passes already see faces of that size (a portrait, a selfie), they are skipped.
"""
import numpy as np
import pytest
from PIL import Image

from ananacare.preprocess import faces, tiling
from ananacare.preprocess.tiling import detect_small_candidates, windows
from photos import large_selfie, on_canvas, photo
from test_detect_recall import group_photo


def test_windows_cover_the_image_neighbours_overlapping_by_a_quarter():
    boxes = windows(416, 312, 128)
    covered = np.zeros((312, 416), dtype=int)
    for left, top in boxes:
        covered[top:top + 128, left:left + 128] += 1
    assert covered.min() >= 1 and (416 - 128, 312 - 128) in boxes  # the last ones flush with the edges
    lefts, tops = sorted({b[0] for b in boxes}), sorted({b[1] for b in boxes})
    assert all(b - a <= 96 for a, b in zip(lefts, lefts[1:])) and all(b - a <= 96 for a, b in zip(tops, tops[1:]))
    assert windows(100, 60, 128) == [(0, 0)]  # smaller than a window: one, padded


def test_faces_on_tiles_map_back_to_the_photo(registry):
    # the astronaut at half size (face about 55 px) on a 1600 x 1000 photo, searched at zoom 0.4
    canvas = on_canvas(photo("astronaut"), (1600, 1000), 0.5, (1000, 300))
    short_range = registry.names_with_role("detector")[0]
    found = [f for f in detect_small_candidates(canvas, registry, [short_range], 0.4, turns=(0,)) if f.score > 0.7]
    assert len(found) == 1
    cx, cy = found[0].center
    assert 1000 + 86 <= cx <= 1000 + 141 and 300 + 27 <= cy <= 300 + 88
    right_eye, left_eye = found[0].eyes
    assert right_eye[0] < left_eye[0] and abs(right_eye[1] - left_eye[1]) < 8


@pytest.fixture
def tile_runs(monkeypatch):
    """The models each tile search of find_faces ran, in order."""
    runs = []
    original = tiling.detect_small_candidates

    def spy(image, registry, detectors, *args, **kwargs):
        runs.append(list(detectors))
        return original(image, registry, detectors, *args, **kwargs)
    monkeypatch.setattr(tiling, "detect_small_candidates", spy)
    return runs


def test_a_portrait_is_not_searched_in_tiles(registry, tile_runs):
    # 2000 x 1500 (a 12 MP photo as decoded): the face is 28 px of the full-range input, so faces of
    # half its size are within the whole-image passes' reach
    assert len(faces.find_faces(large_selfie(3), registry)) == 1
    assert tile_runs == []


def test_a_group_photo_with_one_large_face_is_searched_in_tiles(registry, tile_runs):
    assert len(faces.find_faces(group_photo(), registry)) == 5
    assert tile_runs[-1] == [registry.names_with_role("detector")[0]]  # the short-range tiles beside faces


def test_a_face_half_as_large_beside_a_portrait_is_found_before_the_tiles(registry, monkeypatch):
    """What skipping the tiles relies on: the whole-image passes find faces half the size of a
    portrait's (the astronaut at 1400 and at 700 px on a 2000 x 1500 photo: faces of about 300 and
    150 px, the smaller one 14 px of the full-range input)."""
    astronaut = photo("astronaut")
    canvas = on_canvas(astronaut, (2000, 1500), 1400 / 512, (0, 100))
    small = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((700, 700), Image.Resampling.BICUBIC)
    canvas.paste(small, (1400, 100))
    before_tiles = []
    original = faces._tiled

    def spy(image, registry, mesh_name, detectors, found, turns):
        before_tiles.extend(found)
        return original(image, registry, mesh_name, detectors, found, turns)
    monkeypatch.setattr(faces, "_tiled", spy)
    found = faces.find_faces(canvas, registry)
    assert len(found) == 2 and len(before_tiles) == 2
    assert sorted(round(e.face.center[0] / 1000) for e in before_tiles) == [1, 2]  # x about 615 and 1800


def test_tile_candidates_the_whole_image_passes_would_have_seen_are_dropped(registry):
    """Tiles beside found faces zoom texture up into face-sized junk: a candidate over twice the
    whole-image passes' reach is not one they missed, and never reaches the mesh."""
    image = group_photo()
    found = faces.find_faces(image, registry)
    detectors = registry.names_with_role("detector")
    reach = tiling.WHOLE_IMAGE_MIN_FACE * max(image.size) / registry.get(detectors[-1]).input_size[0]
    zoom = min(tiling.TILE_FACE / (tiling.HALF_THE_SMALLEST * min(f.size for f in found)),
               tiling.MAX_TILED_SIDE / max(image.size))
    raw = detect_small_candidates(image, registry, [detectors[0]], zoom, turns=(0,), low_score=faces.LOW_SCORE)
    kept = tiling.candidates_beside(image, registry, detectors, found, [0], faces.LOW_SCORE)
    assert any(c.size > tiling.BEYOND_REACH * reach for c in raw)  # the junk this is about exists
    assert kept and all(c.size <= tiling.BEYOND_REACH * reach for c in kept)
    assert len(kept) == sum(c.size <= tiling.BEYOND_REACH * reach for c in raw)
