"""Hostile uploads for issue 20 (crafted bytes that stall or bloat a worker) and the structure walks
that measure them: `jpeg_structure`, `png_structure` and `webp_structure` read a file's markers or
chunks in linear time without Pillow, the same walk a structure check before decoding needs.

Every generator returns the bytes of one upload and takes its size or count as parameters; base
images are built once per process (lru_cache). `python tests/crafted.py` builds each at its default
size, walks it and checks it is what it claims.
"""
import io
import re
import struct
import sys
import time
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photos import encode, large_selfie, on_canvas, photo  # noqa: E402

# ---------------------------------------------------------------------------------------------
# JPEG marker walk
# ---------------------------------------------------------------------------------------------

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE_SOF = {0xC2, 0xC6, 0xCA, 0xCE}
_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}  # TEM, SOI, RST0-7: no length field
_FILL = re.compile(rb"\xff+")
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or RSTn; anything else starts a marker
# (0xFF 0xFF is fill before one).
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_MARKER_NAMES = {0xC4: "DHT", 0xCC: "DAC", 0xD8: "SOI", 0xD9: "EOI", 0xDA: "SOS", 0xDB: "DQT", 0xDC: "DNL",
                 0xDD: "DRI", 0xDE: "DHP", 0xDF: "EXP", 0xFE: "COM", 0x01: "TEM",
                 **{m: f"SOF{m - 0xC0}" for m in _SOF_MARKERS}, **{m: f"APP{m - 0xE0}" for m in range(0xE0, 0xF0)},
                 **{m: f"RST{m - 0xD0}" for m in range(0xD0, 0xD8)}}


def marker_name(marker):
    """A JPEG marker's name (SOF2, APP1, ...) from its second byte."""
    return _MARKER_NAMES.get(marker, f"0x{marker:02X}")


def jpeg_segments(data):
    """Yield each marker of a JPEG as (marker, at, fill, end): `at` is the offset of its 0xFF, `fill`
    the extra 0xFF bytes before it, `end` where the next marker's bytes (fill included) start. For SOS,
    `end` is past the scan's entropy-coded data. Stops at EOI, at a truncated segment, or at bytes that
    are not a marker (yielded as marker None with the junk's length as `fill`)."""
    if data[:2] != b"\xff\xd8":
        return
    yield 0xD8, 0, 0, 2
    pos, size = 2, len(data)
    while pos < size:
        if data[pos] != 0xFF:  # junk between segments: libjpeg skips it to the next 0xFF, with a warning
            nxt = data.find(b"\xff", pos)
            nxt = size if nxt < 0 else nxt
            yield None, pos, nxt - pos, nxt
            pos = nxt
            continue
        run_end = _FILL.match(data, pos).end()
        if run_end >= size:
            yield None, pos, size - pos, size
            return
        at, fill, marker = run_end - 1, run_end - 1 - pos, data[run_end]
        if marker == 0x00:  # a stuffed 0xFF outside a scan: junk
            yield None, pos, run_end + 1 - pos, run_end + 1
            pos = run_end + 1
            continue
        if marker in _STANDALONE or marker == 0xD9:
            yield marker, at, fill, run_end + 1
            if marker == 0xD9:
                return
            pos = run_end + 1
            continue
        if run_end + 3 > size:
            return
        end = run_end + 1 + (data[run_end + 1] << 8 | data[run_end + 2])
        if end > size or end < run_end + 3:
            return
        if marker == 0xDA:
            found = _ENTROPY_END.search(data, end)
            end = found.start() if found else size
        yield marker, at, fill, end
        pos = end


def _coefficient_bytes(width, height, components):
    """Bytes of libjpeg's full-image coefficient buffer: every component's 8x8 blocks (rounded up to
    its sampling factors) x 64 coefficients x 2 bytes, at full resolution whatever the output scale."""
    if not components:
        return 0
    hmax = max(h for h, _ in components)
    vmax = max(v for _, v in components)
    total = 0
    for h, v in components:
        blocks_w = -(-(-(-width * h // hmax)) // 8)
        blocks_h = -(-(-(-height * v // vmax)) // 8)
        total += (-(-blocks_w // h) * h) * (-(-blocks_h // v) * v) * 128
    return total


def jpeg_structure(data, limit=None):
    """A JPEG's marker walk as a dict: its frame (SOF, size, components), scans, segments by kind,
    APPn/COM metadata counts and bytes, fill-byte runs, junk and trailing bytes, and the bytes of the
    full-resolution coefficient buffer libjpeg allocates when the image has more than one scan.
    `limit`: stop after that many markers (`stopped` is then True), so a flood costs at most that."""
    markers = Counter()
    scans = segments = appn = com = metadata = largest = exif = tables = 0
    fill_total = fill_max = junk = entropy = restarts = first_scan = count = 0
    sof = None
    width = height = components = 0
    sampling = []
    eoi = stopped = False
    end = 0
    for marker, at, fill, end in jpeg_segments(data):
        count += 1
        if limit is not None and count > limit:
            stopped = True
            break
        if marker is None:
            junk += fill
            continue
        fill_total += fill
        if fill > fill_max:
            fill_max = fill
        markers[marker] += 1
        if marker in _STANDALONE or marker == 0xD9:
            eoi = eoi or marker == 0xD9
            continue
        segments += 1
        length = data[at + 2] << 8 | data[at + 3]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if marker == 0xFE:
                com += 1
            else:
                appn += 1
                if marker == 0xE1 and data[at + 4:at + 10] == b"Exif\0\0":
                    exif += 1
            metadata += 2 + length
            if 2 + length > largest:
                largest = 2 + length
        elif marker in (0xC4, 0xDB, 0xCC, 0xDD):
            tables += 1
        elif marker == 0xDA:
            scans += 1
            if scans == 1:
                first_scan = data[at + 4]
            entropy += end - (at + 2 + length)
            if data.find(b"\xff", at + 2 + length, end) >= 0:
                restarts += sum(data.count(bytes((0xFF, rst)), at + 2 + length, end) for rst in range(0xD0, 0xD8))
        elif marker in _SOF_MARKERS and sof is None:
            sof = marker
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            components = data[at + 9]
            sampling = [(max(1, data[at + 11 + 3 * i] >> 4), max(1, data[at + 11 + 3 * i] & 15))
                        for i in range(components) if at + 12 + 3 * i <= len(data)]
    progressive = sof in _PROGRESSIVE_SOF
    # libjpeg keeps every coefficient of the image when it has more than one scan: progressive, or a
    # first scan that does not hold every component (jdinput.c: has_multiple_scans).
    full_buffer = progressive or 0 < first_scan < components
    return {"format": "JPEG", "bytes": len(data), "sof": marker_name(sof) if sof is not None else None,
            "width": width, "height": height, "components": components, "progressive": progressive,
            "scans": scans, "first_scan_components": first_scan, "segments": segments, "appn_segments": appn,
            "com_segments": com, "metadata_bytes": metadata, "largest_metadata_segment": largest,
            "exif_segments": exif, "table_segments": tables, "fill_bytes": fill_total, "max_fill_run": fill_max,
            "junk_bytes": junk, "entropy_bytes": entropy, "restart_markers": restarts, "eoi": eoi,
            "trailing_bytes": len(data) - end if eoi else 0, "stopped": stopped,
            "coefficient_bytes": _coefficient_bytes(width, height, sampling) if full_buffer else 0,
            "markers": {marker_name(m): n for m, n in markers.items()}}


def _splice_jpeg_sof(data, width, height):
    """The JPEG with its SOF's width and height replaced (nothing else changes)."""
    for marker, at, _fill, _end in jpeg_segments(data):
        if marker in _SOF_MARKERS:
            return data[:at + 5] + struct.pack(">HH", height, width) + data[at + 9:]
    raise ValueError("no SOF marker")


# ---------------------------------------------------------------------------------------------
# PNG chunk walk
# ---------------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KNOWN = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
              b"cICP", b"mDCv", b"cLLi", b"tEXt", b"zTXt", b"iTXt", b"bKGD", b"hIST", b"pHYs", b"sPLT",
              b"eXIf", b"tIME", b"acTL", b"fcTL", b"fdAT"}
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}


def png_chunk(kind, payload=b""):
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_chunks(data):
    """Yield (type, offset, length) for each chunk of a PNG up to IEND or a truncated chunk."""
    if data[:8] != PNG_SIGNATURE:
        return
    pos, size = 8, len(data)
    while pos + 12 <= size:
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + length > size:
            return
        yield kind, pos, length
        if kind == b"IEND":
            return
        pos += 12 + length


def png_structure(data, check_crc=True, limit=None):
    """A PNG's chunk walk as a dict: size and colour type from IHDR, chunk counts (all, ancillary,
    unknown, text, compressed, IDAT, before the first IDAT), ancillary and text bytes, the largest
    ancillary chunk, CRC errors, APNG frames and bytes after IEND. `limit`: stop after that many chunks."""
    out = {"format": "PNG", "bytes": len(data), "width": 0, "height": 0, "bit_depth": 0, "color_type": 0,
           "interlace": 0}
    types = Counter()
    chunks = ancillary = ancillary_bytes = largest = unknown = text = text_bytes = compressed = 0
    idat = idat_bytes = before_idat = frames = crc_errors = 0
    iend = stopped = False
    end = 8
    for kind, pos, length in png_chunks(data):
        chunks += 1
        if limit is not None and chunks > limit:
            stopped, chunks = True, chunks - 1
            break
        end = pos + 12 + length
        types[kind] += 1
        if check_crc and zlib.crc32(memoryview(data)[pos + 4:pos + 8 + length]) != int.from_bytes(data[end - 4:end]):
            crc_errors += 1
        if kind == b"IDAT":
            idat += 1
            idat_bytes += length
            continue
        if idat == 0:
            before_idat += 1
        if kind[0] & 0x20:  # lower-case first letter: ancillary
            ancillary += 1
            ancillary_bytes += 12 + length
            if 12 + length > largest:
                largest = 12 + length
        if kind not in _PNG_KNOWN:
            unknown += 1
        elif kind == b"IHDR" and length >= 13:
            (out["width"], out["height"], out["bit_depth"], out["color_type"], _c, _f,
             out["interlace"]) = struct.unpack(">IIBBBBB", data[pos + 8:pos + 21])
        elif kind in _PNG_TEXT:
            text += 1
            text_bytes += length
        elif kind == b"fcTL":
            frames += 1
        elif kind == b"IEND":
            iend = True
        if kind in (b"zTXt", b"iCCP") or (kind == b"iTXt" and _itxt_compressed(data, pos + 8, length)):
            compressed += 1
    out.update({"chunks": chunks, "ancillary_chunks": ancillary, "ancillary_bytes": ancillary_bytes,
                "largest_ancillary_chunk": largest, "unknown_chunks": unknown, "text_chunks": text,
                "text_bytes": text_bytes, "compressed_chunks": compressed, "idat_chunks": idat,
                "idat_bytes": idat_bytes, "chunks_before_idat": before_idat, "frames": frames,
                "crc_errors": crc_errors, "iend": iend, "trailing_bytes": len(data) - end if iend else 0,
                "stopped": stopped, "types": {k.decode("latin-1"): n for k, n in types.items()}})
    return out


def _itxt_compressed(data, start, length):
    keyword_end = data.find(b"\0", start, start + length)
    return keyword_end >= 0 and keyword_end + 1 < start + length and data[keyword_end + 1] == 1


# ---------------------------------------------------------------------------------------------
# WebP RIFF walk
# ---------------------------------------------------------------------------------------------

_WEBP_KNOWN = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP "}


def riff_chunk(fourcc, payload=b""):
    """One RIFF chunk: fourcc, little-endian size, payload, a pad byte to even length."""
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _riff_walk(data, pos, stop):
    while pos + 8 <= stop:
        fourcc, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + length > stop:
            yield fourcc, pos, length, True
            return
        yield fourcc, pos, length, False
        pos += 8 + length + (length & 1)


def webp_structure(data, limit=None):
    """A WebP's RIFF walk as a dict: canvas size, chunk counts (all, unknown, in animation frames),
    metadata bytes (ICCP, EXIF, XMP), unknown-chunk bytes, frames, RIFF size against the file's.
    `limit`: stop after that many chunks."""
    out = {"format": "WEBP", "bytes": len(data), "width": 0, "height": 0, "riff_size": 0, "chunks": 0,
           "unknown_chunks": 0, "unknown_bytes": 0, "metadata_bytes": 0, "largest_chunk": 0, "frames": 0,
           "truncated": False, "trailing_bytes": 0, "stopped": False, "types": {}}
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return out
    types = Counter()
    out["riff_size"] = struct.unpack("<I", data[4:8])[0]
    stop = min(len(data), 8 + out["riff_size"])
    out["trailing_bytes"] = max(0, len(data) - stop)
    pending = [(12, stop)]
    while pending and not out["stopped"]:
        start, end = pending.pop()
        for fourcc, pos, length, truncated in _riff_walk(data, start, end):
            if limit is not None and out["chunks"] >= limit:
                out["stopped"] = True
                break
            out["truncated"] |= truncated
            out["chunks"] += 1
            types[fourcc] += 1
            out["largest_chunk"] = max(out["largest_chunk"], 8 + length)
            if fourcc not in _WEBP_KNOWN:
                out["unknown_chunks"] += 1
                out["unknown_bytes"] += 8 + length
            elif fourcc in (b"ICCP", b"EXIF", b"XMP "):
                out["metadata_bytes"] += 8 + length
            elif fourcc == b"ANMF":
                out["frames"] += 1
                if not truncated:
                    pending.append((pos + 8 + 16, pos + 8 + length))
            elif out["width"] == 0 and fourcc in (b"VP8X", b"VP8 ", b"VP8L"):
                out["width"], out["height"] = _webp_size(fourcc, data[pos + 8:pos + 8 + min(length, 16)])
    out["types"] = {k.decode("latin-1"): n for k, n in types.items()}
    return out


def _webp_size(fourcc, payload):
    if fourcc == b"VP8X" and len(payload) >= 10:
        return (int.from_bytes(payload[4:7], "little") + 1, int.from_bytes(payload[7:10], "little") + 1)
    if fourcc == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if fourcc == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def structure(data):
    """The walk of a JPEG, PNG or WebP (chosen by its signature); None for anything else."""
    if data[:2] == b"\xff\xd8":
        return jpeg_structure(data)
    if data[:8] == PNG_SIGNATURE:
        return png_structure(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return webp_structure(data)
    return None


# ---------------------------------------------------------------------------------------------
# Reference photos
# ---------------------------------------------------------------------------------------------

FACE_BOX = (120, 10, 340, 230)  # the astronaut's face (with hair and collar) in skimage's 512 px photo


def _astronaut(side):
    """skimage's astronaut photo at `side` px."""
    image = photo("astronaut")
    return image if side == image.width else image.resize((side, side), Image.Resampling.LANCZOS)


@lru_cache(maxsize=None)
def selfie_jpeg(side=512, quality=92):
    """A normal selfie: skimage's astronaut as a `side` px JPEG (the reference for ratios)."""
    return encode(_astronaut(side), "JPEG", quality=quality)


@lru_cache(maxsize=None)
def selfie_1mp_jpeg(megapixels=1.0, quality=90):
    """A phone-sized selfie: the astronaut upscaled onto a 4:3 canvas of `megapixels` MP, as JPEG."""
    return encode(large_selfie(megapixels), "JPEG", quality=quality)


@lru_cache(maxsize=None)
def selfie_png(side=512):
    """The astronaut selfie as a PNG (base of the PNG floods)."""
    return encode(_astronaut(side), "PNG")


@lru_cache(maxsize=None)
def selfie_webp(side=512, quality=90):
    """The astronaut selfie as a lossy WebP (simple format: one VP8 chunk)."""
    return encode(_astronaut(side), "WEBP", quality=quality)


# ---------------------------------------------------------------------------------------------
# JPEG: scans and segments
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _flat_progressive(side, mode):
    colour = 128 if mode == "L" else (128, 128, 128)
    return encode(Image.new(mode, (side, side), colour), "JPEG", quality=90, progressive=True)


def scan_bomb_jpeg(side=7000, repeats=300, scan=1, mode="L"):
    """A flat side x side progressive JPEG whose scan number `scan` (0-based) appears `repeats` times."""
    data = _flat_progressive(side, mode)
    sos = [(at, end) for marker, at, _fill, end in jpeg_segments(data) if marker == 0xDA]
    at, end = sos[scan]
    return data[:end] + data[at:end] * (repeats - 1) + data[end:]


def _after_soi(segments, base=None):
    base = selfie_jpeg() if base is None else base
    return base[:2] + segments + base[2:]


def exif_flood_jpeg(segments=128_000, payload=10, base=None):
    """A selfie JPEG led by `segments` tiny APP1 Exif segments of `payload` bytes each (Pillow joins
    their data with bytes +=)."""
    body = b"Exif\0\0" + b"\0" * payload
    return _after_soi((b"\xff\xe1" + struct.pack(">H", 2 + len(body)) + body) * segments, base)


def appn_flood_jpeg(segments=300_000, base=None):
    """A selfie JPEG led by `segments` empty segments cycling APP2..APP15 and COM."""
    cycle = b"".join(bytes((0xFF, m, 0, 2)) for m in [*range(0xE2, 0xF0), 0xFE])
    whole, rest = divmod(segments, 15)
    return _after_soi(cycle * whole + cycle[:4 * rest], base)


def fill_bytes_jpeg(count=5_000_000, before=0xDB, base=None):
    """A selfie JPEG with `count` 0xFF fill bytes before its first `before` marker (DQT: in the header
    Pillow parses byte by byte)."""
    data = selfie_jpeg() if base is None else base
    for marker, at, _fill, _end in jpeg_segments(data):
        if marker == before:
            return data[:at] + b"\xff" * count + data[at:]
    raise ValueError(f"no {marker_name(before)} marker")


def table_flood_jpeg(segments=200_000, base=None):
    """A selfie JPEG whose first DQT segment is repeated `segments` times (tables, not metadata)."""
    data = selfie_jpeg() if base is None else base
    for marker, at, _fill, end in jpeg_segments(data):
        if marker == 0xDB:
            return data[:end] + data[at:end] * (segments - 1) + data[end:]
    raise ValueError("no DQT marker")


def claimed_size_cmyk_jpeg(side=7071, encoded_side=16):
    """A tiny progressive CMYK JPEG (encoded at `encoded_side` px) whose SOF claims side x side:
    libjpeg allocates the full-resolution coefficient buffer (side^2 x 4 x 2 B) for it."""
    image = Image.new("CMYK", (encoded_side, encoded_side), (40, 80, 120, 10))
    data = encode(image, "JPEG", quality=75, progressive=True)
    return _splice_jpeg_sof(data, side, side)


def large_face(megapixels=50, face_scale=4.0):
    """A `megapixels` MP 4:3 plain canvas with the astronaut photo scaled by `face_scale` in its middle
    (4: a 2048 px photo, its face about 900 px wide); 0 fills the height with the photo instead."""
    if not face_scale:
        return large_selfie(megapixels)
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    side = round(512 * face_scale)
    return on_canvas(photo("astronaut"), (width, height), face_scale, ((width - side) // 2, (height - side) // 2))


@lru_cache(maxsize=2)
def large_cmyk_progressive_jpeg(megapixels=50, quality=85, face_scale=4.0):
    """A real `megapixels` MP progressive CMYK JPEG with the astronaut's face (see large_face)."""
    return encode(large_face(megapixels, face_scale).convert("CMYK"), "JPEG", quality=quality, progressive=True)


# ---------------------------------------------------------------------------------------------
# PNG floods and bombs
# ---------------------------------------------------------------------------------------------

def _insert_after_ihdr(chunks, base):
    ihdr_end = 8 + 12 + struct.unpack(">I", base[8:12])[0]
    return base[:ihdr_end] + chunks + base[ihdr_end:]


def private_chunk_flood_png(chunks=1_000_000, kind=b"prVt", base=None):
    """A PNG (the selfie, or `base`) with `chunks` empty private ancillary chunks (valid CRCs) before
    its IDAT; 12 bytes each."""
    return _insert_after_ihdr(png_chunk(kind) * chunks, selfie_png() if base is None else base)


def text_flood_png(chunks=100_000, kinds=(b"tEXt", b"zTXt", b"iTXt"), text=b"x" * 16, base=None):
    """The selfie PNG with `chunks` text chunks (cycling `kinds`, a distinct keyword each) before IDAT."""
    compressed = zlib.compress(text)
    parts = []
    for index in range(chunks):
        kind = kinds[index % len(kinds)]
        keyword = b"k%d" % index
        if kind == b"tEXt":
            payload = keyword + b"\0" + text
        elif kind == b"zTXt":
            payload = keyword + b"\0\0" + compressed
        else:
            payload = keyword + b"\0\1\0\0\0" + compressed
        parts.append(png_chunk(kind, payload))
    return _insert_after_ihdr(b"".join(parts), selfie_png() if base is None else base)


@lru_cache(maxsize=8)
def _deflated_zeros(size):
    compressor = zlib.compressobj(9)
    block = b"\0" * min(size, 1 << 20)
    parts, left = [], size
    while left > 0:
        parts.append(compressor.compress(block[:left]))
        left -= len(block)
    return b"".join(parts) + compressor.flush()


def ztxt_bomb_png(chunks=63, inflated=1_000_000, kind=b"zTXt", base=None):
    """The selfie PNG with `chunks` zTXt (or iTXt/iCCP with `kind`) chunks, each of about 1 KB that
    inflates to `inflated` bytes (Pillow caps one at 1 MiB and all text at 64 MiB)."""
    deflated = _deflated_zeros(inflated)
    parts = []
    for index in range(chunks):
        if kind == b"zTXt":
            payload = b"bomb%d\0\0" % index + deflated
        elif kind == b"iTXt":
            payload = b"bomb%d\0\1\0\0\0" % index + deflated
        else:
            payload = b"icc\0\0" + deflated
        parts.append(png_chunk(kind, payload))
    return _insert_after_ihdr(b"".join(parts), selfie_png() if base is None else base)


def split_idat_png(chunk_bytes=1, base=None):
    """The selfie PNG with its image data split into IDAT chunks of `chunk_bytes` each (Pillow reads
    chunk headers in Python while decoding)."""
    data = selfie_png() if base is None else base
    idat = b"".join(data[pos + 8:pos + 8 + n] for kind, pos, n in png_chunks(data) if kind == b"IDAT")
    head = b"".join(data[pos:pos + 12 + n] for kind, pos, n in png_chunks(data) if kind not in (b"IDAT", b"IEND"))
    body = b"".join(png_chunk(b"IDAT", idat[i:i + chunk_bytes]) for i in range(0, len(idat), chunk_bytes))
    return PNG_SIGNATURE + head + body + png_chunk(b"IEND")


@lru_cache(maxsize=2)
def large_face_png(megapixels=50, compress_level=1, face_scale=4.0):
    """A real `megapixels` MP PNG with the astronaut's face (see large_face; 50 MP: about 4.9 MB)."""
    return encode(large_face(megapixels, face_scale), "PNG", compress_level=compress_level)


# ---------------------------------------------------------------------------------------------
# WebP
# ---------------------------------------------------------------------------------------------

def _webp_parts():
    data = selfie_webp()
    chunks = {fourcc: data[pos:pos + 8 + n + (n & 1)] for fourcc, pos, n, _t in _riff_walk(data, 12, len(data))}
    width, height = _webp_size(b"VP8 ", chunks[b"VP8 "][8:])
    return chunks[b"VP8 "], width, height


def _webp_extended(before_image, after_image, flags=0):
    image, width, height = _webp_parts()
    vp8x = riff_chunk(b"VP8X", bytes((flags, 0, 0, 0)) + (width - 1).to_bytes(3, "little")
                      + (height - 1).to_bytes(3, "little"))
    body = b"WEBP" + vp8x + before_image + image + after_image
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunk_flood(chunks=1_000_000, fourcc=b"XYZW"):
    """The selfie as an extended WebP with `chunks` empty unknown chunks before its image (8 B each)."""
    return _webp_extended(riff_chunk(fourcc) * chunks, b"")


def webp_metadata_flood(nbytes=20_000_000, kind=b"EXIF"):
    """The selfie as an extended WebP carrying one EXIF (or XMP) chunk of `nbytes` bytes."""
    if kind == b"EXIF":  # a valid little-endian TIFF header and an empty IFD, then padding
        payload = b"II*\0\x08\0\0\0\0\0\0\0\0\0" + b"\0" * max(0, nbytes - 14)
        flags = 0x08
    else:
        payload = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * max(0, nbytes - 50) + b"</x:xmpmeta>"
        flags = 0x04
    return _webp_extended(b"", riff_chunk(kind, payload), flags)


# ---------------------------------------------------------------------------------------------
# CPU amplification from normal-looking photos
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def face_grid_jpeg(rows=12, columns=12, cell=160, quality=80):
    """A rows x columns grid of the astronaut's face turned 0/90/180/270 degrees in turn, as JPEG
    (12 x 12 of 160 px: 1920 px square, 0.74 MB)."""
    face = photo("astronaut").crop(FACE_BOX).resize((cell, cell), Image.Resampling.LANCZOS)
    turned = [face.rotate(angle) for angle in (0, 90, 180, 270)]
    grid = Image.new("RGB", (columns * cell, rows * cell))
    for row in range(rows):
        for column in range(columns):
            grid.paste(turned[(row * columns + column) % 4], (column * cell, row * cell))
    return encode(grid, "JPEG", quality=quality)


@lru_cache(maxsize=8)
def faceless_jpeg(name="coffee", side=768, quality=90):
    """A photo without a face (skimage coffee, rocket, ...) scaled to `side` px on its long side."""
    image = photo(name)
    scale = side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    return encode(image, "JPEG", quality=quality)


def noise_free_gradient_jpeg(side=4000):
    """A smooth grey gradient JPEG of side x side (decodes, no face, not hostile: a decode-cost control)."""
    ramp = np.linspace(0, 255, side, dtype=np.float32).astype(np.uint8)
    return encode(Image.fromarray(np.tile(ramp, (side, 1))), "JPEG", quality=90)


# ---------------------------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------------------------

def _pillow(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size, image.mode


def _check(name, build, expect):
    started = time.perf_counter()
    data = build()
    seconds = time.perf_counter() - started
    walked = structure(data)
    try:
        pillow = _pillow(data)
    except Exception as error:  # noqa: BLE001 - reported, not raised: some inputs are meant to fail Pillow
        pillow = f"{type(error).__name__}: {error}"[:80]
    failed = [key for key, wanted in expect.items() if not wanted(walked, pillow)]
    print(f"{'FAIL' if failed else 'ok':4} {name:28} {len(data):>11,} B  built {seconds:5.2f} s  "
          f"pillow {pillow}  {' '.join(failed)}", flush=True)
    return not failed


def self_check():
    """Build each input at its default size, walk it and check the claims; True when all hold."""
    pillow_ok = {"pillow": lambda s, p: isinstance(p, tuple)}
    checks = [
        ("selfie_jpeg", selfie_jpeg, {**pillow_ok, "scans": lambda s, p: s["scans"] == 1}),
        ("selfie_1mp_jpeg", selfie_1mp_jpeg,
         {**pillow_ok, "size": lambda s, p: 0.9e6 < s["width"] * s["height"] < 1.1e6}),
        ("scan_bomb_jpeg x300", lambda: scan_bomb_jpeg(repeats=300),
         {**pillow_ok, "scans": lambda s, p: s["scans"] == 300 + 5, "size": lambda s, p: p[1] == (7000, 7000)}),
        ("scan_bomb_jpeg x20000", lambda: scan_bomb_jpeg(repeats=20_000),
         {**pillow_ok, "scans": lambda s, p: s["scans"] == 20_000 + 5}),
        ("exif_flood_jpeg", exif_flood_jpeg, {**pillow_ok, "exif": lambda s, p: s["exif_segments"] == 128_000}),
        ("appn_flood_jpeg", appn_flood_jpeg,
         {**pillow_ok, "segments": lambda s, p: s["appn_segments"] + s["com_segments"] == 300_000 + 1}),
        ("fill_bytes_jpeg", fill_bytes_jpeg, {**pillow_ok, "fill": lambda s, p: s["max_fill_run"] == 5_000_000}),
        ("table_flood_jpeg", table_flood_jpeg, {**pillow_ok, "tables": lambda s, p: s["table_segments"] >= 200_000}),
        ("claimed_size_cmyk_jpeg", claimed_size_cmyk_jpeg,
         {**pillow_ok, "size": lambda s, p: p[1] == (7071, 7071) and p[2] == "CMYK",
          "coef": lambda s, p: s["coefficient_bytes"] >= 7071 * 7071 * 8, "tiny": lambda s, p: s["bytes"] < 2000}),
        ("private_chunk_flood_png", private_chunk_flood_png,
         {**pillow_ok, "chunks": lambda s, p: s["unknown_chunks"] == 1_000_000 and s["crc_errors"] == 0}),
        ("text_flood_png", text_flood_png, {**pillow_ok, "text": lambda s, p: s["text_chunks"] == 100_000}),
        ("ztxt_bomb_png", ztxt_bomb_png, {**pillow_ok, "zip": lambda s, p: s["compressed_chunks"] == 63}),
        ("iccp_bomb_png", lambda: ztxt_bomb_png(chunks=1, inflated=64_000_000, kind=b"iCCP"),
         {"compressed": lambda s, p: s["compressed_chunks"] == 1}),
        ("split_idat_png", split_idat_png, {**pillow_ok, "idat": lambda s, p: s["idat_chunks"] > 100_000}),
        ("webp_chunk_flood", webp_chunk_flood,
         {**pillow_ok, "unknown": lambda s, p: s["unknown_chunks"] == 1_000_000,
          "size": lambda s, p: p[1] == (512, 512)}),
        ("webp_metadata_flood", webp_metadata_flood,
         {**pillow_ok, "meta": lambda s, p: s["metadata_bytes"] >= 20_000_000}),
        ("face_grid_jpeg", face_grid_jpeg, {**pillow_ok, "size": lambda s, p: 0.5e6 < s["bytes"] < 1.0e6}),
        ("faceless_jpeg", faceless_jpeg, {**pillow_ok, "side": lambda s, p: max(p[1]) == 768}),
        ("large_cmyk_progressive_jpeg", large_cmyk_progressive_jpeg,
         {**pillow_ok, "mp": lambda s, p: s["width"] * s["height"] > 49e6 and s["progressive"] and p[2] == "CMYK"}),
        ("large_face_png", large_face_png, {**pillow_ok, "mp": lambda s, p: s["width"] * s["height"] > 49e6}),
    ]
    return all([_check(name, build, expect) for name, build, expect in checks])


if __name__ == "__main__":
    sys.exit(0 if self_check() else 1)
