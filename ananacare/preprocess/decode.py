"""Bytes to an upright RGB image, safely: sniffed format, pixel limit, draft decode, EXIF.

Only JPEG, PNG and WebP are accepted, judged by their bytes (never by a filename or a
Content-Type). Large JPEGs are decoded at a reduced scale (draft mode), which is most of the
cost of a 12 MP upload; every image is reduced to a working size of at most
2 x `max_side` on its long side, and all face coordinates are mapped back to the source.
"""
import io
import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import ApiError
from .structure import StructureLimits, walk

log = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
_SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
]
# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ISO_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif", b"avis"}


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image at working resolution and the facts needed to map back."""

    image: Image.Image  # RGB, EXIF orientation applied, long side < 2 x max_side when reduced
    format: str  # JPEG, PNG, WEBP
    source_size: tuple  # (width, height) of the full-resolution upright image
    source_mode: str
    orientation: int  # EXIF orientation tag (1 when absent)
    structure: object = None  # the container's Structure (ananacare.preprocess.structure)

    @property
    def scale(self):
        """Working pixels per source pixel (1.0 when not reduced)."""
        return self.image.width / self.source_size[0]


def sniff_format(data):
    """The real container format from the first bytes: 'JPEG', 'PNG', 'WEBP', another name, or None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_BRANDS:
        return "HEIC/AVIF"
    head = data[:256].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "SVG"
    return None


def require_allowed_format(data):
    """The sniffed format if allowed; 415 `unsupported_media_type` naming what was found otherwise."""
    found = sniff_format(data)
    if found not in ALLOWED_FORMATS:
        what = f"a {found} file" if found else "not a recognised image"
        raise ApiError("unsupported_media_type", f"The upload is {what}; send a JPEG, PNG or WebP photo.",
                       415, {"detected": found, "allowed": list(ALLOWED_FORMATS)})
    return found


def _undecodable(error):
    """422 for the client (the kind of failure only); the decoder's own words go to the log."""
    log.info("undecodable image: %s: %s", type(error).__name__, error)
    return ApiError("undecodable_image", "The image could not be decoded: the file is damaged, truncated or "
                    "not a complete image.", 422, {"reason": type(error).__name__})


def _too_large(width, height, max_pixels):
    return ApiError("image_too_large", f"The image is {width}x{height} = {width * height} pixels; "
                    f"the limit is {max_pixels}.", 413,
                    {"width": width, "height": height, "max_pixels": max_pixels})


def open_image(data, fmt, max_pixels):
    """Pillow-open under the pixel limit; nothing is decoded yet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ApiError("image_too_large", str(error), 413, {"max_pixels": max_pixels}) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _undecodable(error) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    if width < 1 or height < 1:
        raise _undecodable(ValueError(f"image has size {width}x{height}"))
    return image


def _draft_size(size, max_side):
    """The smallest size keeping `max_side` on the long side, in the image's aspect."""
    width, height = size
    factor = max_side / max(width, height)
    return (max(1, int(width * factor)), max(1, int(height * factor))) if factor < 1 else size


# Bytes a source pixel costs while Pillow holds the decoded image (bench/decode_memory.py measured
# them): one for 1-bit, grey and palette, two for 16-bit grey, four for every other mode. Pillow's
# WebP decoder holds about four RGBA copies of the image at once: 15.4 bytes a pixel measured.
_WEBP_BYTES_PER_PIXEL = 16
_BAND_PIXELS = 1 << 20  # source pixels converted at a time: no full-size converted copy of a big photo


def decode_cost(fmt, image, structure=None):
    """(bytes decoding the image will take, bytes per output pixel): the output after any JPEG draft
    reduction, plus libjpeg's whole-image coefficient buffer for a progressive or multi-scan JPEG
    (full resolution whatever the draft: a 7071x7071 progressive CMYK JPEG of 705 bytes asks 400 MB)."""
    extra = structure.coefficient_bytes() if structure is not None else 0
    if fmt == "WEBP":
        per_pixel = _WEBP_BYTES_PER_PIXEL
    elif image.mode in ("1", "L", "P"):
        per_pixel = 1
    elif image.mode.startswith("I;16"):
        per_pixel = 2
    else:
        per_pixel = 4
    return image.width * image.height * per_pixel + extra, per_pixel


def require_decode_budget(fmt, image, max_bytes, structure=None):
    """413 `image_too_large` when decoding this image would take more than `max_bytes` of memory;
    the message names this format's own pixel limit (or the coefficient buffer that is over it)."""
    cost, per_pixel = decode_cost(fmt, image, structure)
    coefficients = structure.coefficient_bytes() if structure is not None else 0
    if coefficients and cost > max_bytes:
        raise ApiError("image_too_large", f"A progressive or multi-scan JPEG of {structure.width}x{structure.height} "
                       f"pixels needs about {cost // 1048576} MiB to decode (its coefficients are kept at full "
                       f"resolution); the limit is {max_bytes // 1048576} MiB. Send it as a baseline JPEG or "
                       "smaller.", 413, {"width": structure.width, "height": structure.height, "format": fmt,
                                         "decode_bytes": cost, "max_decode_bytes": max_bytes})
    if cost > max_bytes:
        limit = max_bytes // per_pixel
        raise ApiError("image_too_large", f"A {fmt} image of {image.width}x{image.height} pixels needs about "
                       f"{cost // 1048576} MiB to decode; the limit for this kind of image is {limit} pixels "
                       f"(about {int((limit * 4 / 3) ** 0.5)}x{int((limit * 3 / 4) ** 0.5)}).", 413,
                       {"width": image.width, "height": image.height, "max_pixels": limit, "format": fmt,
                        "mode": image.mode})


def _levels(image):
    """(black, white) input levels of a 16-bit or float image, for the whole image; None otherwise."""
    if image.mode.startswith("I;16"):
        return 0.0, 65535.0
    if image.mode == "I":
        return 0.0, 65535.0 if image.getextrema()[1] > 255 else 255.0
    if image.mode == "F":
        low, high = image.getextrema()
        return float(low), max(float(high), float(low) + 1e-6)
    return None


def _to_rgb(image, levels=None):
    """Any Pillow mode to 8-bit RGB; 16-bit and float data are scaled by `levels`, not clipped."""
    if levels is not None:
        low, high = levels
        values = (np.asarray(image, dtype=np.float32) - low) * (255.0 / (high - low))
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def working_rgb(image, factor):
    """The decoded image as 8-bit RGB, reduced by `factor`; other modes are converted a band of rows
    at a time, so memory stays near the decoded image's own size."""
    if image.mode == "RGB" and "transparency" not in image.info:
        return image.reduce(factor) if factor > 1 else image
    levels = _levels(image)
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    # a band is a whole number of `factor` rows (so its reduction lines up) of at most _BAND_PIXELS
    step = factor * max(1, _BAND_PIXELS // (width * factor))
    for top in range(0, height, step):
        band = _to_rgb(image.crop((0, top, width, min(height, top + step))), levels)
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out


def decode_image(data, max_pixels, max_side, max_decode_bytes=224 * 1048576, limits=StructureLimits()):
    """Bytes to a DecodedImage; 415, 413 or 422 ApiErrors for what cannot be used. The container's
    structure is walked and bounded (`limits`) before Pillow opens it."""
    fmt = require_allowed_format(data)
    structure = walk(data, fmt, limits)
    image = open_image(data, fmt, max_pixels)
    source_size = image.size
    orientation = _orientation(image)
    try:
        if fmt == "JPEG":
            image.draft(None, _draft_size(image.size, max_side))
        require_decode_budget(fmt, image, max_decode_bytes, structure)
        image.load()
        source_mode = image.mode
        image = working_rgb(image, max(1, max(image.size) // max_side))
        if orientation in _TRANSPOSE:
            image = image.transpose(_TRANSPOSE[orientation])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise _undecodable(error) from None
    if orientation in (5, 6, 7, 8):
        source_size = source_size[::-1]
    return DecodedImage(image, fmt, source_size, source_mode, orientation, structure)


def _orientation(image):
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is not worth refusing the photo for
        return 1
    return value if value in range(1, 9) else 1


# Upright (x, y) -> stored (x, y) for each EXIF orientation, stored size (w, h): the inverse of
# the transpose in _TRANSPOSE, for points (continuous coordinates, pixel edges at integers).
_TO_STORED = {
    1: lambda x, y, w, h: (x, y),
    2: lambda x, y, w, h: (w - x, y),
    3: lambda x, y, w, h: (w - x, h - y),
    4: lambda x, y, w, h: (x, h - y),
    5: lambda x, y, w, h: (y, x),
    6: lambda x, y, w, h: (y, h - x),
    7: lambda x, y, w, h: (w - y, h - x),
    8: lambda x, y, w, h: (w - y, x),
}
_JPEG_SCALES = (1 / 8, 1 / 4, 1 / 2, 1)


def region_scale(decoded, wanted, slack=1.0):
    """The scale a second decode of the photo would have to give `wanted` decoded pixels per source
    pixel, or `wanted` / `slack` at the least: a JPEG's smallest DCT scale reaching that, else 1."""
    if decoded.format != "JPEG":
        return 1.0
    return next((s for s in _JPEG_SCALES if s >= min(wanted / slack, 1) - 1e-9), 1.0)


def decode_stored(data, decoded, scale, max_decode_bytes):
    """The photo decoded again at `scale` or more decoded pixels per source pixel (JPEG: the smallest
    DCT scale reaching it; other formats at full scale), as stored (not turned upright, not
    converted); None when that would exceed `max_decode_bytes` or fails. The expensive part of
    decode_region, so a caller can start it early on another thread."""
    try:
        image = Image.open(io.BytesIO(data), formats=[decoded.format])
        if decoded.format == "JPEG":
            factor = region_scale(decoded, scale)
            # rounded down: Pillow takes the scale min(w // width, h // height), so a size rounded
            # up on an odd side would decode at twice the scale
            image.draft(None, (max(1, int(image.width * factor)), max(1, int(image.height * factor))))
        if decode_cost(decoded.format, image, decoded.structure)[0] > max_decode_bytes:
            return None
        image.load()
        return image
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        log.info("second decode failed: %s: %s", type(error).__name__, error)
        return None


def decode_region(data, decoded, box, scale, max_decode_bytes, stored=None):
    """The upright region `box` (left, top, right, bottom in source pixels) of the photo decoded
    again at `scale` or more decoded pixels per source pixel (decode_stored; `stored`: its result
    already at hand), as RGB: (region, its upright origin, (x, y) pixels per source pixel), or None
    when that would exceed `max_decode_bytes` or fails (keep the working image).

    Only the region is converted and turned upright, so memory stays near the decoded photo's size.
    """
    image = stored if stored is not None else decode_stored(data, decoded, scale, max_decode_bytes)
    if image is None:
        return None
    stored_w, stored_h = decoded.source_size if decoded.orientation < 5 else decoded.source_size[::-1]
    try:
        levels = _levels(image)
        rw, rh = image.width / stored_w, image.height / stored_h
        to_stored = _TO_STORED.get(decoded.orientation, _TO_STORED[1])
        xs, ys = zip(*(to_stored(x, y, stored_w, stored_h) for x in box[::2] for y in box[1::2]))
        left, top = max(0, math.floor(min(xs) * rw)), max(0, math.floor(min(ys) * rh))
        right, bottom = min(image.width, math.ceil(max(xs) * rw)), min(image.height, math.ceil(max(ys) * rh))
        if right - left < 2 or bottom - top < 2:
            return None
        region = _to_rgb(image.crop((left, top, right, bottom)), levels)
        if decoded.orientation in _TRANSPOSE:
            region = region.transpose(_TRANSPOSE[decoded.orientation])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        log.info("second decode failed: %s: %s", type(error).__name__, error)
        return None
    ratios = (rw, rh) if decoded.orientation < 5 else (rh, rw)
    origin = (max(0, math.floor(box[0] * ratios[0])), max(0, math.floor(box[1] * ratios[1])))
    return region, origin, ratios
