"""Test photos: scikit-image's real photos and the hard cases derived from them."""
import io
from functools import lru_cache

import numpy as np
from PIL import Image
from skimage import data

# The stored-pixel transform whose EXIF orientation brings back the upright photo.
UNDO_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@lru_cache(maxsize=None)
def _pixels(name):
    return getattr(data, name)()


def photo(name):
    """A scikit-image sample as an RGB PIL image (astronaut, camera, coffee, rocket, ...)."""
    return Image.fromarray(_pixels(name)).convert("RGB")


def encode(image, fmt="JPEG", **options):
    """The image's bytes in a format."""
    buffer = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg(name="astronaut", **options):
    """A sample photo as JPEG bytes."""
    return encode(photo(name), "JPEG", quality=92, **options)


def with_orientation(image, orientation):
    """JPEG bytes whose pixels are stored turned and whose EXIF tag turns them back upright."""
    undo = UNDO_ORIENTATION[orientation]
    stored = image.transpose(undo) if undo is not None else image
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=92, exif=exif.tobytes())


def on_canvas(image, canvas_size, face_scale, position, colour=(96, 120, 96)):
    """The photo scaled by face_scale and pasted on a plain canvas (small faces in large photos)."""
    canvas = Image.new("RGB", canvas_size, colour)
    scaled = image.resize((round(image.width * face_scale), round(image.height * face_scale)),
                          Image.Resampling.LANCZOS)
    canvas.paste(scaled, position)
    return canvas


def large_selfie(megapixels, name="astronaut"):
    """A photo upscaled to about `megapixels` MP (4:3), the face in the same place."""
    image = photo(name)
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    canvas = Image.new("RGB", (width, height), (200, 200, 200))
    side = height
    canvas.paste(image.resize((side, side), Image.Resampling.BICUBIC), ((width - side) // 2, 0))
    return canvas


def noise_jpeg(size=(64, 64), seed=0):
    """A small JPEG of random noise (decodes, holds no face)."""
    rng = np.random.default_rng(seed)
    return encode(Image.fromarray(rng.integers(0, 255, (*size[::-1], 3), dtype=np.uint8)), "JPEG")
