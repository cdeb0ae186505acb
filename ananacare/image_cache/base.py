"""What every crop store shares: id checks, the crop encoding, metadata, and verification on read.

A crop is stored with metadata that carries its sha256; `open_entry` refuses an entry whose
metadata is incomplete or whose bytes, shape or size disagree with it, and deletes it, so no
backend ever serves a partial or altered crop. An entry may carry a second payload, the skin crop
(the same square at the source photo's resolution, for skin analysis), verified the same way by
the sha256, size and format recorded under metadata["skin"]; entries stored before it have none.
"""
import hashlib
import io
import json
import logging
import re
import time
from dataclasses import dataclass

from PIL import Image

from ..errors import ApiError

log = logging.getLogger(__name__)

IMAGE_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
CROP_FORMAT = "TIFF"  # uncompressed: 0.4 ms for a 512 crop here, where Pillow's PNG costs 17-37 ms
# The skin crop (up to 1024 px): uncompressed TIFF is 3.1 MB an entry (1 ms); lossless WebP
# (method 0) 0.7-1.8 MB for 23-40 ms to encode and 15-19 ms to decode, PNG level 1 0.9-2.0 MB for
# 52-87 ms, TIFF deflate 1.9-2.8 MB for 57-67 ms (bench/store_formats.py, README). Lossless, since
# pores and fine lines live in the last bits; WebP for the bytes a store holds (Redis keeps them in RAM).
SKIN_FORMAT = "WEBP"


def check_image_id(value):
    """The id itself if it is 32 lowercase hex chars; 400 `invalid_image_id` otherwise."""
    if not isinstance(value, str) or not IMAGE_ID_PATTERN.fullmatch(value):
        raise ApiError("invalid_image_id", "image_id must be 32 lowercase hexadecimal characters.", 400,
                       {"expected": "^[0-9a-f]{32}$"})
    return value


def not_found(image_id, reason):
    """404 `image_not_found`."""
    return ApiError("image_not_found", f"No crop is stored under {image_id} ({reason}); validate the photo again.",
                    404, {"image_id": image_id, "reason": reason})


def corrupt(image_id, reason):
    """422 `corrupt_cache_entry` (the caller has removed the entry)."""
    return ApiError("corrupt_cache_entry", f"The stored crop {image_id} was damaged ({reason}) and has been "
                    "removed; validate the photo again.", 422, {"image_id": image_id, "reason": reason})


def unavailable(backend, error):
    """503 `cache_unavailable`: the store cannot be reached, read or written. Hosts, ports and paths
    stay in the log; the client learns the backend only."""
    log.warning("crop store (%s) unavailable: %s: %s", backend, type(error).__name__, error)
    return ApiError("cache_unavailable", "The crop store is unavailable right now; try again shortly.", 503,
                    {"backend": backend})


class StoredCrop:
    """A crop read back from a store, verified, and its metadata."""

    def __init__(self, image, metadata, skin=None):
        self.image = image
        self.metadata = metadata
        self.skin = skin  # the skin crop (PIL image) or None for an entry stored without one


def encode_crop(image):
    """Lossless, uncompressed TIFF bytes without EXIF or other metadata."""
    buffer = io.BytesIO()
    image.save(buffer, format=CROP_FORMAT, compression=None)
    return buffer.getvalue()


def encode_skin(image):
    """Lossless WebP bytes (fastest method) without metadata."""
    buffer = io.BytesIO()
    image.save(buffer, format=SKIN_FORMAT, lossless=True, method=0, quality=0)
    return buffer.getvalue()


@dataclass(frozen=True)
class EncodedSkin:
    """A skin crop encoded for the store: encoding is most of a put's time, and it is pure CPU, so a
    caller can encode on another thread (`start_blocking`) and hand this to `put` as `skin`."""

    width: int
    height: int
    payload: bytes

    @classmethod
    def of(cls, image):
        """The skin crop's store bytes (lossless WebP) and size."""
        return cls(image.width, image.height, encode_skin(image))


@dataclass(frozen=True)
class Record:
    """A new entry as a store writes it: the crop's bytes, the skin crop's (or None), the metadata,
    and that metadata as JSON (serialised once: for a 468-point mesh it is most of a put's CPU)."""

    payload: bytes
    skin_payload: bytes | None
    metadata: dict
    metadata_json: str


def crop_record(image_id, crop, metadata, ttl_seconds, skin=None):
    """The Record of a new entry; `skin` is a PIL image or an EncodedSkin. Its metadata ends with
    `stored_bytes`: what the entry takes in a store (payloads and metadata), counted against the
    quotas."""
    payload = encode_crop(crop)
    now = time.time()
    stored = {**metadata, "image_id": image_id, "created_at": now, "expires_at": now + ttl_seconds,
              "width": crop.width, "height": crop.height, "format": CROP_FORMAT.lower(),
              "sha256": hashlib.sha256(payload).hexdigest()}
    skin_payload = None
    if skin is not None:
        skin = skin if isinstance(skin, EncodedSkin) else EncodedSkin.of(skin)
        skin_payload = skin.payload
        stored["skin"] = {"width": skin.width, "height": skin.height, "format": SKIN_FORMAT.lower(),
                          "bytes": len(skin_payload), "sha256": hashlib.sha256(skin_payload).hexdigest()}
    prefix = json.dumps(stored)[:-1] + ', "stored_bytes": '
    base = len(payload) + len(skin_payload or b"") + len(prefix) + 1  # the closing brace
    total = next(base + digits for digits in range(1, 16) if len(str(base + digits)) == digits)
    stored["stored_bytes"] = total
    return Record(payload, skin_payload, stored, f"{prefix}{total}}}")


def verify_skin(payload, metadata):
    """The decoded skin crop if its bytes and size match metadata["skin"]; the reason otherwise."""
    facts = metadata.get("skin")
    if not isinstance(facts, dict):
        return None, "skin crop metadata is not an object"
    if payload is None:
        return None, "skin crop bytes missing"
    image, problem = _decoded(payload, facts.get("sha256"), SKIN_FORMAT, "skin crop")
    if problem:
        return None, problem
    if image.size != (facts.get("width"), facts.get("height")) or image.width != image.height:
        return None, f"skin crop is {image.width}x{image.height}, expected the recorded square"
    return image.convert("RGB") if image.mode != "RGB" else image, None


def _decoded(payload, sha256, fmt, what):
    """(image, None) when the bytes match their recorded sha256 and decode as `fmt`; (None, reason)
    otherwise. The decoder's own words go to the log, not into the reason a client sees."""
    if hashlib.sha256(payload).hexdigest() != sha256:
        return None, f"{what} checksum mismatch"
    try:
        image = Image.open(io.BytesIO(payload), formats=[fmt])
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        log.warning("%s does not decode: %s: %s", what, type(error).__name__, error)
        return None, f"{what} does not decode ({type(error).__name__})"
    return image, None


def verify_crop(payload, metadata):
    """The decoded crop if bytes, shape and size match the metadata; the reason it is not otherwise."""
    settings = metadata.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("margin"), (int, float)):
        return None, "metadata lacks the crop settings"
    image, problem = _decoded(payload, metadata.get("sha256"), CROP_FORMAT, "crop")
    if problem:
        return None, problem
    expected = settings.get("size")
    if image.width != image.height or (expected and image.width != expected) or image.mode != "RGB":
        return None, f"crop is {image.width}x{image.height} {image.mode}, expected a square RGB crop"
    return image, None


def open_entry(store, key, image_id, metadata, read_payload, read_skin=None):
    """What every backend's get() does once it has an entry's metadata (None: not valid JSON).

    Expired -> deleted, 404; metadata that is not a JSON object, or bytes that fail verification
    -> deleted, 422 (only an entry verified to be bad is ever deleted; read errors are 503s raised
    by the backend and keep the data). `read_payload()` returns the crop bytes, or None when they
    are gone: if the metadata went too, a concurrent DELETE won and the answer is 404. `read_skin()`
    returns the skin crop's bytes (or None) and is called only when the metadata records one.
    """
    if not isinstance(metadata, dict):
        store.remove_key(key)
        raise corrupt(image_id, "unreadable metadata")
    if is_expired(metadata, store.ttl_seconds, time.time()):
        store.remove_key(key)
        raise not_found(image_id, "expired")
    payload = read_payload()
    if payload is None and not store.has_key(key):
        raise not_found(image_id, "deleted")
    image, problem = verify_crop(payload, metadata) if payload is not None else (None, "crop bytes missing")
    skin = None
    if not problem and "skin" in metadata:
        skin_payload = read_skin() if read_skin is not None else None
        if skin_payload is None and not store.has_key(key):
            raise not_found(image_id, "deleted")
        skin, problem = verify_skin(skin_payload, metadata)
    if problem:
        store.remove_key(key)
        raise corrupt(image_id, problem)
    return StoredCrop(image, metadata, skin)


def is_expired(metadata, ttl_seconds, now):
    """Past its own expiry, or older than the TTL in force now (a lowered TTL applies to old crops too)."""
    expires_at = metadata.get("expires_at", 0)
    created_at = metadata.get("created_at", expires_at)
    if not isinstance(expires_at, (int, float)) or not isinstance(created_at, (int, float)):
        return True
    return min(expires_at, created_at + ttl_seconds) < now


def entry_key(image_id, namespace=""):
    """Where an entry lives in a store: the id itself, or, for a tenant's namespace, a digest of both,
    so an id asked for under another tenant's namespace finds nothing (a plain 404, no oracle)."""
    check_image_id(image_id)
    if not namespace:
        return image_id
    return hashlib.sha256(f"{namespace}:{image_id}".encode()).hexdigest()[:32]
