"""The skin crop has the photo's source pixels, not the working image's.

A large JPEG is decoded at 1/2 (or less) for detection; a face whose crop is larger than that
working image can give is cut again from a second decode of its region, in every EXIF orientation,
and the answer's px_per_mm says what the skin crop has.
"""
import io
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image, ImageOps

from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.preprocess.crop import cut_square
from ananacare.preprocess.decode import DecodedImage, decode_image, decode_region, region_scale
from ananacare.preprocess import pipeline
from ananacare.preprocess.pipeline import cut_skin_crop
from photos import encode, photo, with_orientation

SETTINGS = PipelineSettings()  # decode_max_side 1600: a 4000 px JPEG is decoded at 1/2


@lru_cache(maxsize=None)
def selfie_4000(face_scale=6.0):
    """The astronaut enlarged `face_scale` times in a 4000x3000 frame, with pixel-level grain (a
    sensor's detail, which a decode at 1/2 averages away): a 12 MP selfie."""
    face = photo("astronaut").resize((round(512 * face_scale),) * 2, Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (4000, 3000), (120, 130, 120))
    canvas.paste(face, (1200, 0))
    grain = np.random.default_rng(0).normal(0, 6, (3000, 4000, 1))
    return Image.fromarray(np.clip(np.asarray(canvas, np.float32) + grain, 0, 255).astype(np.uint8))


def detail(image):
    """Mean absolute difference between neighbouring pixels: what a coarser decode loses."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_a_12mp_selfie_gets_its_skin_crop_at_source_resolution(registry):
    data = encode(selfie_4000(), "JPEG", quality=92)
    validation = validate_image(data, registry, SETTINGS)
    working_side = validation.geometry.side / 2  # the crop's side in the 1/2 working image
    assert validation.skin_crop.width == round(validation.geometry.side) > 1.8 * working_side
    # the check's estimate is what a full-resolution decode gives (and skin analysis measures)
    full = validate_image(data, registry, PipelineSettings(decode_max_side=4096))
    estimate = {check.name: check.value for check in validation.checks}["px_per_mm"]
    assert estimate == pytest.approx({check.name: check.value for check in full.checks}["px_per_mm"], rel=0.03)
    assert estimate > 4.0  # pores' minimum: the working image alone would give about half
    decoded = decode_image(data, SETTINGS.max_pixels, SETTINGS.decode_max_side)
    from_working = cut_square(decoded.image, validation.geometry.scaled(decoded.scale))  # same square, upsampled
    from_working = from_working.resize(validation.skin_crop.size, Image.Resampling.BILINEAR)
    assert detail(validation.skin_crop) > 1.3 * detail(from_working)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_second_decode_cuts_the_same_pixels_as_a_full_decode_in_every_orientation(registry, orientation):
    upright = selfie_4000()
    data = with_orientation(upright, orientation)
    decoded = decode_image(data, SETTINGS.max_pixels, SETTINGS.decode_max_side)
    assert decoded.scale == pytest.approx(0.5, abs=1e-3)
    geometry = validate_image(data, registry, SETTINGS).geometry.scaled(decoded.scale)  # working coordinates
    skin = cut_skin_crop(data, decoded, geometry, 1024, SETTINGS.max_decode_bytes)
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    reference = cut_square(full, type(geometry)(tuple(v / decoded.scale for v in geometry.center),
                                                geometry.side / decoded.scale, geometry.angle, skin.width))
    difference = np.abs(np.asarray(skin, np.int16) - np.asarray(reference, np.int16))
    assert skin.width == reference.width > 1.8 * geometry.side
    assert difference.mean() < 0.5 and np.percentile(difference, 99) <= 3


def test_a_photo_the_working_image_already_holds_is_not_decoded_twice(registry, monkeypatch):
    calls = []
    real = pipeline.decode_region
    monkeypatch.setattr(pipeline, "decode_region", lambda *args: calls.append(args) or real(*args))
    validation = validate_image(encode(photo("astronaut"), "JPEG", quality=92), registry, SETTINGS)
    assert calls == [] and validation.skin_crop.width == round(validation.geometry.side)


def test_a_second_decode_over_the_memory_budget_keeps_the_working_pixels(registry):
    data = encode(selfie_4000(), "JPEG", quality=92)
    decoded = decode_image(data, SETTINGS.max_pixels, SETTINGS.decode_max_side)
    geometry = validate_image(data, registry, SETTINGS).geometry.scaled(decoded.scale)
    # 4000 x 3000 x 4 bytes = 46 MiB at full scale; a 40 MiB budget refuses it
    skin = cut_skin_crop(data, decoded, geometry, 1024, 40 * 1048576)
    assert skin.width == round(geometry.side)


@pytest.mark.parametrize("fmt, wanted, scale", [("JPEG", 0.45, 0.5), ("JPEG", 0.62, 0.5), ("JPEG", 0.7, 1.0),
                                                ("JPEG", 0.1, 0.125), ("PNG", 0.3, 1.0), ("WEBP", 0.5, 1.0)])
def test_a_second_decode_takes_the_smallest_scale_within_reach_of_the_side_wanted(fmt, wanted, scale):
    decoded = DecodedImage(Image.new("RGB", (8, 8)), fmt, (4000, 3000), "RGB", 1)
    assert region_scale(decoded, wanted, slack=1.25) == scale  # a JPEG's DCT scales; others decode whole


@pytest.mark.parametrize("size", [(4000, 3000), (4001, 3001), (4031, 3023)])
@pytest.mark.parametrize("wanted", [0.5, 0.25, 0.125])
def test_the_second_decode_decodes_at_the_scale_asked_on_odd_sides_too(size, wanted):
    # Pillow takes the draft scale as min(w // width, h // height): a size asked rounded up decoded
    # an odd-sided photo at twice the scale (4x the pixels and memory)
    data = encode(Image.new("RGB", size, (120, 130, 120)), "JPEG", quality=80)
    decoded = DecodedImage(Image.new("RGB", (8, 8)), "JPEG", size, "RGB", 1)
    region, _, ratios = decode_region(data, decoded, (100, 100, 300, 300), wanted, 224 * 1048576)
    assert ratios == pytest.approx((wanted, wanted), rel=0.01)
    assert region.width == pytest.approx(200 * wanted, abs=2)
