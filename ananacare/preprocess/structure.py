"""A photo's container structure, walked before any decoder sees it: linear, bounded, no Pillow.

What a decoder's cost depends on besides the pixels is the structure around them, and a crafted
file can make that cost quadratic or unbounded while staying small: a progressive JPEG whose one
scan is repeated thousands of times (libjpeg decodes every scan over the whole image), thousands
of tiny Exif segments (Pillow joins them with `bytes +=`), a million empty PNG chunks, runs of
JPEG fill bytes (Pillow's header parser reads them one by one). No camera or editor writes such
files, so they are refused here, before Pillow opens anything, with the limit and the value found:

- JPEG: scans (SOS) at most `max_scans`; marker segments other than frames and scans (APPn, COM,
  tables) at most `max_segments`, fill bytes counting one segment each; their bytes at most
  `max_metadata_bytes`; at most MAX_EXIF_SEGMENTS Exif segments (Exif fits in one).
- PNG: chunks other than image data (IDAT) at most `max_segments`, their bytes at most
  `max_metadata_bytes`, at most MAX_COMPRESSED_CHUNKS of them compressed (Pillow inflates each);
  image data chunks at most one per MIN_DATA_CHUNK_BYTES of the file.
- WebP: chunks other than the image's at most `max_segments`, their bytes at most `max_metadata_bytes`.

The walk also returns what a decode budget needs to know (ananacare.preprocess.decode): a JPEG's
frame size, components and sampling, and whether libjpeg will keep a whole-image coefficient
buffer (progressive, or several scans).
"""
import re
import struct
from dataclasses import dataclass

from ..errors import ApiError

MAX_EXIF_SEGMENTS = 4
MIN_DATA_CHUNK_BYTES = 512  # PNG encoders write IDAT chunks of 8-64 KiB (libpng 8 KiB, Pillow 64 KiB)
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_STANDALONE = set(range(0xD0, 0xD8)) | {0x01, 0xD8}  # RSTn, TEM, SOI: no length field
_SOS, _EOI = 0xDA, 0xD9
# the end of entropy-coded data: 0xFF followed by anything but a stuffed 0x00 or a restart marker
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_NOT_FILL = re.compile(rb"[^\xff]")
_PNG_DATA = {b"IDAT", b"fdAT"}
# Compressed chunks Pillow inflates while opening (up to 1 MiB each): real files carry 2 at most.
_PNG_COMPRESSED = {b"zTXt", b"iTXt", b"iCCP"}
MAX_COMPRESSED_CHUNKS = 8
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_WEBP_IMAGE = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


@dataclass(frozen=True)
class StructureLimits:
    """What a photo's container may hold besides its pixels (settings MAX_JPEG_SCANS, MAX_SEGMENTS,
    MAX_METADATA_BYTES)."""

    max_scans: int = 32
    max_segments: int = 256
    max_metadata_bytes: int = 8 * 1048576


@dataclass(frozen=True)
class Structure:
    """What the walk found: counts for the limits, and a JPEG's frame for the decode budget."""

    format: str
    scans: int = 0
    segments: int = 0
    metadata_bytes: int = 0
    width: int = 0  # the JPEG frame's, when there is one
    height: int = 0
    components: tuple = ()  # JPEG: (horizontal, vertical) sampling factor of each component
    progressive: bool = False

    @property
    def buffers_coefficients(self):
        """libjpeg keeps every DCT coefficient of the whole image while it decodes (progressive or
        multi-scan JPEG): 2 bytes per coefficient, at full resolution whatever the draft scale."""
        return self.format == "JPEG" and (self.progressive or self.scans > 1)

    def coefficient_bytes(self):
        """Bytes of libjpeg's whole-image coefficient buffer (0 when it keeps none)."""
        if not self.buffers_coefficients or not self.components:
            return 0
        h_max = max(h for h, _ in self.components)
        v_max = max(v for _, v in self.components)
        mcus_x, mcus_y = -(-self.width // (8 * h_max)), -(-self.height // (8 * v_max))
        return sum(mcus_x * h * mcus_y * v * 64 * 2 for h, v in self.components)


def refused(fmt, what, found, limit, setting):
    """422 `image_structure_refused`: the file holds more of `what` than any camera or editor writes."""
    return ApiError("image_structure_refused", f"The {fmt} file has {found} {what}; the limit is {limit} "
                    "(no camera or editor writes more). Re-save the photo and send it again.", 422,
                    {"format": fmt, "what": what, "found": found, "limit": limit, "setting": setting})


class _Counter:
    """Counts against the limits as the walk goes, refusing the moment one is passed."""

    def __init__(self, fmt, limits):
        self.fmt, self.limits = fmt, limits
        self.scans = self.segments = self.metadata_bytes = 0

    def scan(self):
        self.scans += 1
        if self.scans > self.limits.max_scans:
            raise refused(self.fmt, "scans", self.scans, self.limits.max_scans, "MAX_JPEG_SCANS")

    def segment(self, size, count=1):
        self.segments += count
        self.metadata_bytes += size
        if self.segments > self.limits.max_segments:
            raise refused(self.fmt, "metadata segments", self.segments, self.limits.max_segments, "MAX_SEGMENTS")
        if self.metadata_bytes > self.limits.max_metadata_bytes:
            raise refused(self.fmt, "bytes of metadata", self.metadata_bytes, self.limits.max_metadata_bytes,
                          "MAX_METADATA_BYTES")


def walk(data, fmt, limits=StructureLimits()):
    """The Structure of a JPEG, PNG or WebP file's bytes; 422 `image_structure_refused` past a limit.
    Damage the walk cannot make sense of is left for the decoder to report."""
    return {"JPEG": _walk_jpeg, "PNG": _walk_png, "WEBP": _walk_webp}[fmt](data, _Counter(fmt, limits))


def _walk_jpeg(data, counter):
    frame = {}
    exif_segments = 0
    position = 2  # after SOI
    size = len(data)
    while position < size:
        if data[position] != 0xFF:
            break  # not a marker where one must be: the decoder will say what is wrong
        start = position
        after = _NOT_FILL.search(data, position)
        position = after.start() if after else size
        if position - start > 1:  # fill bytes: Pillow's header parser reads them one at a time
            counter.segment(position - start - 1, position - start - 1)
        if position >= size:
            break
        marker = data[position]
        position += 1
        if marker == _EOI:
            break
        if marker in _STANDALONE:
            continue
        if position + 2 > size:
            break
        length = struct.unpack_from(">H", data, position)[0]
        if length < 2 or position + length > size:
            break
        body = data[position + 2:position + length]
        position += length
        if marker in _JPEG_FRAMES:
            frame = _frame(marker, body) or frame
        elif marker == _SOS:
            counter.scan()
            end = _SCAN_END.search(data, position)
            position = end.start() if end else size
        else:
            counter.segment(length + 2)
            if marker == 0xE1 and body.startswith(b"Exif\0\0"):
                exif_segments += 1
                if exif_segments > MAX_EXIF_SEGMENTS:
                    raise refused("JPEG", "Exif segments", exif_segments, MAX_EXIF_SEGMENTS, None)
    return Structure("JPEG", counter.scans, counter.segments, counter.metadata_bytes, **frame)


def _frame(marker, body):
    """A frame header's size, components' sampling factors and kind; None when it is too short."""
    if len(body) < 6:
        return None
    height, width, count = struct.unpack_from(">HHB", body, 1)
    sampling = [body[6 + 3 * i + 1] for i in range(count) if 6 + 3 * i + 1 < len(body)]
    components = tuple((max(1, s >> 4), max(1, s & 15)) for s in sampling)
    return {"width": width, "height": height, "components": components, "progressive": marker in _JPEG_PROGRESSIVE}


def _walk_png(data, counter):
    position = 8  # after the signature
    size = len(data)
    data_chunks = compressed = 0
    most_data_chunks = max(64, size // MIN_DATA_CHUNK_BYTES)
    while position + 8 <= size:
        length, kind = struct.unpack_from(">I4s", data, position)
        if position + 12 + length > size:
            break  # a chunk past the end of the file: damage, for the decoder to report
        position += 12 + length
        if kind in _PNG_DATA:
            data_chunks += 1
            if data_chunks > most_data_chunks:
                raise refused("PNG", "image data chunks", data_chunks, most_data_chunks, None)
        elif kind == b"IEND":
            break
        elif kind not in (b"IHDR", b"PLTE"):
            counter.segment(length + 12)
            compressed += kind in _PNG_COMPRESSED
            if compressed > MAX_COMPRESSED_CHUNKS:
                raise refused("PNG", "compressed metadata chunks", compressed, MAX_COMPRESSED_CHUNKS, None)
    return Structure("PNG", 0, counter.segments, counter.metadata_bytes)


def _walk_webp(data, counter):
    position = 12  # after RIFF, size, WEBP
    end = min(len(data), 8 + struct.unpack_from("<I", data, 4)[0]) if len(data) >= 12 else 0
    while position + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, position)
        if position + 8 + length > end:
            break
        position += 8 + length + (length & 1)
        if kind not in _WEBP_IMAGE:
            counter.segment(length + 8)
    return Structure("WEBP", 0, counter.segments, counter.metadata_bytes)
