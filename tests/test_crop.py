"""Square crops: square for every input, centred on the face, upright, padded at borders."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.preprocess.crop import CropGeometry, crop_geometry, cut_square
from ananacare.preprocess.decode import decode_image
from ananacare.preprocess.detect import Face
from photos import UNDO_ORIENTATION, photo, with_orientation


def _face(x, y, size, angle):
    """A face box at (x, y) with eyes on a line at `angle` radians."""
    cx, cy = x + size / 2, y + size / 2
    dx, dy = math.cos(angle) * size * 0.2, math.sin(angle) * size * 0.2
    keypoints = np.array([[cx - dx, cy - dy], [cx + dx, cy + dy]] + [[cx, cy]] * 4, dtype=np.float32)
    return Face((x, y, size, size), 0.9, keypoints)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(1, 900), height=st.integers(1, 900),
       fx=st.floats(-1.0, 2.0), fy=st.floats(-1.0, 2.0), fsize=st.floats(0.01, 3.0),
       angle=st.floats(-math.pi, math.pi), margin=st.floats(0.0, 1.0),
       size=st.sampled_from([64, 128, 512]), orientation=st.integers(1, 8))
def test_crop_is_square_and_centred_for_any_input(width, height, fx, fy, fsize, angle, margin, size, orientation):
    image = Image.new("RGB", (width, height), (200, 100, 50))
    if UNDO_ORIENTATION[orientation] is not None:
        image = image.transpose(UNDO_ORIENTATION[orientation])
    side = max(image.size)
    face = _face(fx * image.width, fy * image.height, max(fsize * side, 0.5), angle)
    geometry = crop_geometry(face, margin, size)
    crop = cut_square(image, geometry)
    assert crop.size == (size, size) and crop.mode == "RGB"
    # the face centre lands on the crop centre, and the eye line is horizontal
    centre = geometry.to_crop([face.center])[0]
    assert np.allclose(centre, [size / 2, size / 2], atol=1e-6)
    right_eye, left_eye = geometry.to_crop(face.keypoints[:2])
    assert abs(right_eye[1] - left_eye[1]) < 1e-6 * max(1.0, size) and right_eye[0] < left_eye[0]
    # to_source undoes to_crop
    assert np.allclose(geometry.to_source(geometry.to_crop(face.keypoints)), face.keypoints, atol=1e-3)


def test_crop_pixels_follow_the_geometry():
    # a dot in the source lands where to_crop says, also after a reduce-first large crop
    image = Image.new("RGB", (3000, 2000))
    image.paste((255, 255, 255), (1990, 990, 2010, 1010))
    geometry = CropGeometry(center=(1800.0, 1100.0), side=1600.0, angle=math.radians(20), size=256)
    crop = np.asarray(cut_square(image, geometry)).mean(axis=2)
    expected = geometry.to_crop([(2000, 1000)])[0]
    bright = np.argwhere(crop > 100)
    assert bright.size
    assert np.allclose(bright.mean(axis=0)[::-1], expected, atol=1.5)


def test_border_crop_is_padded_not_shrunk():
    image = photo("astronaut")
    face = _face(-60, -60, 150, 0.0)  # face box over the top-left corner
    crop = cut_square(image, crop_geometry(face, 0.25, 512))
    pixels = np.asarray(crop)
    assert crop.size == (512, 512)
    assert pixels[:40, :40].max() == 0  # padding
    assert pixels[-40:, -40:].mean() > 20  # photo


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_same_upright_face(registry, orientation):
    upright = photo("astronaut")
    settings_ = PipelineSettings()
    reference = validate_image(with_orientation(upright, 1), registry, settings_)
    turned = validate_image(with_orientation(upright, orientation), registry, settings_)
    assert turned.valid and turned.image["orientation"] == orientation
    assert (turned.image["width"], turned.image["height"]) == upright.size
    assert np.allclose(turned.faces[0].center, reference.faces[0].center, atol=6)
    assert turned.crop.size == (512, 512)
    difference = np.abs(np.asarray(turned.crop, dtype=float) - np.asarray(reference.crop, dtype=float)).mean()
    assert difference < 12


def test_rotated_photo_gives_an_upright_crop(registry):
    image = photo("astronaut").rotate(30, resample=Image.Resampling.BICUBIC, center=(225, 130))
    decoded = decode_image(with_orientation(image, 1), 10**8, 1600)
    result = validate_image(with_orientation(image, 1), registry, PipelineSettings())
    assert decoded.image.size == image.size
    # eye line angle of the crop geometry is the photo's rotation (PIL rotates anticlockwise)
    assert result.geometry.to_dict()["angle_degrees"] == pytest.approx(-30, abs=6)
