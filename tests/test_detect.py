"""BlazeFace decoding on real photos: faces found where they are, none where there are none."""
import numpy as np
import pytest
from PIL import Image

from ananacare.preprocess.detect import ssd_anchors
from ananacare.preprocess.faces import find_faces
from photos import on_canvas, photo


def test_anchor_layouts_match_mediapipe():
    short = ssd_anchors(128, (8, 16, 16, 16), 2)
    full = ssd_anchors(192, (4,), 1)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # first grid: 16 x 16 cells of 2 anchors, centres at (cell + 0.5) / 16
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8])
    assert np.allclose(full[-1], [47.5 / 48, 47.5 / 48])


@pytest.mark.parametrize("name, eye_region", [
    ("astronaut", (190, 90, 260, 120)),  # x1, y1, x2, y2 around both eyes
    ("camera", (190, 120, 270, 170)),
])
def test_finds_the_face_in_real_photos(registry, name, eye_region):
    faces = find_faces(photo(name), registry)
    assert len(faces) == 1
    x1, y1, x2, y2 = eye_region
    for x, y in faces[0].eyes:
        assert x1 <= x <= x2 and y1 <= y <= y2
    assert faces[0].score > 0.6


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry"])
def test_finds_no_face_in_non_faces(registry, name):
    assert find_faces(photo(name), registry) == []


def test_finds_a_small_face_in_a_large_photo(registry):
    # astronaut at 1/2 scale on a 2000 x 1500 canvas: the face is about 55 px, under 3% of the width
    canvas = on_canvas(photo("astronaut"), (2000, 1500), 0.5, (1300, 400))
    faces = find_faces(canvas, registry)
    assert len(faces) == 1
    cx, cy = faces[0].center
    assert 1300 + 85 <= cx <= 1300 + 140 and 400 + 30 <= cy <= 400 + 80


def test_finds_a_face_that_fills_the_frame(registry):
    close_up = photo("astronaut").crop((165, 45, 290, 175)).resize((900, 940), Image.Resampling.BICUBIC)
    faces = find_faces(close_up, registry)
    assert len(faces) == 1
    assert faces[0].size > 500


def test_two_faces_side_by_side_are_both_found(registry):
    face = photo("astronaut").crop((120, 20, 330, 250))
    pair = Image.new("RGB", (420, 230))
    pair.paste(face, (0, 0))
    pair.paste(face, (210, 0))
    assert len(find_faces(pair, registry)) == 2
