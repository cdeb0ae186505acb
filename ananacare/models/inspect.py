"""What a model file really is, read from its bytes before any runtime touches it.

"The model is not a valid Flatbuffer buffer" usually means the file is a Git LFS pointer, an
HTML error page or half a download. The verdict here names which.
"""
import hashlib
import json
import mmap
import os
import struct
from dataclasses import asdict, dataclass

HEAD_BYTES = 16
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
TFLITE_IDENTIFIER = b"TFL3"
_HTML_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<!--")

# TFLite schema: Model.buffers is field 4; Buffer.data field 0, Buffer.offset/size fields 1/2.
_MODEL_BUFFERS_FIELD = 4


@dataclass(frozen=True)
class FileReport:
    """Size, checksum, first bytes and verdict of one file."""

    path: str
    size: int | None
    sha256: str | None
    head_hex: str | None
    verdict: str
    problem: str | None = None

    def to_dict(self):
        """A JSON-ready dict."""
        return asdict(self)


def sha256_of(path, chunk_size=1 << 20):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inspect_file(path):
    """Report on one file without loading it; never raises for a bad or missing file."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(len(LFS_POINTER_PREFIX))
            verdict, problem = _classify(handle, head, size)
        digest = sha256_of(path)
    except FileNotFoundError:
        return FileReport(path, None, None, None, "missing", "no file at this path")
    except OSError as error:
        return FileReport(path, None, None, None, "unreadable", f"{type(error).__name__}: {error}")
    return FileReport(path, size, digest, head[:HEAD_BYTES].hex(), verdict, problem)


def _classify(handle, head, size):
    if size == 0:
        return "empty", "the file is empty"
    if head.startswith(LFS_POINTER_PREFIX):
        return "git-lfs-pointer", ("a Git LFS pointer, not the model: the repository was cloned "
                                   "without `git lfs pull`, or the LFS object was never fetched")
    if head.lstrip().lower().startswith(_HTML_STARTS):
        return "html", "an HTML page (an error or login page was saved in place of the model)"
    if head[4:8] == TFLITE_IDENTIFIER:
        problem = _tflite_truncation(handle, size)
        return ("truncated", problem) if problem else ("tflite", None)
    if len(head) >= 9 and head[8:9] == b"{":
        problem = _safetensors_truncation(handle, struct.unpack("<Q", head[:8])[0], size)
        return ("truncated", problem) if problem else ("safetensors", None)
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "pytorch", None
    if size < 64:
        return "truncated", f"only {size} bytes"
    return "unknown", "the first bytes match no known model format"


def _safetensors_truncation(handle, header_len, size):
    """The header's tensor offsets must cover the file exactly (as safetensors itself requires)."""
    if 8 + header_len > size:
        return f"safetensors header declares {header_len} bytes; the file has {size}"
    handle.seek(8)
    try:
        header = json.loads(handle.read(header_len))
        end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError):
        return "safetensors header does not parse"
    if 8 + header_len + end > size:
        return f"tensors need {8 + header_len + end} bytes; the file has {size}: an interrupted download"
    return None


def _tflite_truncation(handle, size):
    """Walk the FlatBuffer far enough to see that every weight buffer lies inside the file."""
    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            model = _u32(data, 0)
            buffers = _field_vector(data, model, _MODEL_BUFFERS_FIELD)
            if buffers is None:
                return None
            count = _u32(data, buffers)
            for index in range(count):
                slot = buffers + 4 + 4 * index
                buffer_table = slot + _u32(data, slot)
                _check_buffer(data, buffer_table, size)
        except _OutOfBounds as error:
            return f"TFLite header but the model ends early ({size} bytes): {error}"
    return None


class _OutOfBounds(Exception):
    pass


def _u32(data, pos):
    if pos < 0 or pos + 4 > len(data):
        raise _OutOfBounds(f"offset {pos} is past the end")
    return struct.unpack_from("<I", data, pos)[0]


def _field_position(data, table, field):
    if table + 4 > len(data):
        raise _OutOfBounds(f"table at {table} is past the end")
    vtable = table - struct.unpack_from("<i", data, table)[0]
    if vtable < 0 or vtable + 4 > len(data):
        raise _OutOfBounds(f"vtable at {vtable} is past the end")
    vtable_size = struct.unpack_from("<H", data, vtable)[0]
    entry = 4 + 2 * field
    if entry + 2 > vtable_size:
        return None
    offset = struct.unpack_from("<H", data, vtable + entry)[0]
    return table + offset if offset else None


def _field_vector(data, table, field):
    pos = _field_position(data, table, field)
    return None if pos is None else pos + _u32(data, pos)


def _check_buffer(data, table, size):
    vector = _field_vector(data, table, 0)
    if vector is not None and vector + 4 + _u32(data, vector) > size:
        raise _OutOfBounds(f"a weight buffer at {vector} runs past the end")
    offset_pos = _field_position(data, table, 1)
    size_pos = _field_position(data, table, 2)
    if offset_pos is not None and size_pos is not None:
        if offset_pos + 8 > len(data) or size_pos + 8 > len(data):
            raise _OutOfBounds("a buffer table is past the end")
        start = struct.unpack_from("<Q", data, offset_pos)[0]
        length = struct.unpack_from("<Q", data, size_pos)[0]
        if start > 1 and start + length > size:
            raise _OutOfBounds(f"external weights at {start}+{length} run past the end")
