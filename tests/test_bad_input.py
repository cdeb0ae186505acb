"""Every kind of bad upload gets a 4xx JSON error or a 200 with sensible checks, never a 500,
and the app answers normally afterwards. Plus a bounded fuzz of the decode-and-detect path."""
import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ananacare.errors import ApiError
from ananacare.preprocess import PipelineSettings, validate_image
from photos import encode, jpeg, photo


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width=30000, height=30000):
    """A tiny PNG declaring a huge canvas of zeros (decompression bomb)."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # only a few rows; the header is the bomb
    return b"\x89PNG\r\n\x1a\n" + header + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def jpeg_declaring(width, height):
    """A real JPEG whose SOF header is rewritten to declare another size."""
    data = bytearray(jpeg("astronaut"))
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at > 0:
            data[at + 5:at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("no SOF marker")


def zip_polyglot():
    """A JPEG with a zip archive appended: both a valid JPEG and a valid zip."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.txt", "not for you")
    return jpeg("astronaut") + archive.getvalue()


def animated(fmt):
    frames = [photo("astronaut"), photo("coffee").resize((512, 512))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def palette_with_transparency():
    image = photo("astronaut").convert("P", palette=Image.Palette.ADAPTIVE)
    image.info["transparency"] = 0
    return encode(image, "PNG", transparency=0)


CASES = {
    # name: (body, content type, expected status, expected code or None for 200)
    "empty body": (b"", "image/jpeg", 400, "missing_image"),
    "non-image": (b"%PDF-1.4 not a photo" * 20, "image/jpeg", 415, "unsupported_media_type"),
    "truncated JPEG": (jpeg()[:5000], "image/jpeg", 422, "undecodable_image"),
    "truncated PNG": (encode(photo("astronaut"), "PNG")[:3000], "image/png", 422, "undecodable_image"),
    "JPEG declaring 60000x60000": (jpeg_declaring(60000, 60000), "image/jpeg", 413, "image_too_large"),
    "PNG decompression bomb": (png_bomb(), "image/png", 413, "image_too_large"),
    "16-bit PNG": (encode(Image.fromarray((np.asarray(photo("astronaut").convert("L"), dtype=np.uint16) * 257)),
                          "PNG"), "image/png", 200, None),
    "CMYK JPEG": (encode(photo("astronaut").convert("CMYK"), "JPEG"), "image/jpeg", 200, None),
    "greyscale": (encode(photo("astronaut").convert("L"), "JPEG"), "image/jpeg", 200, None),
    "palette with transparency": (palette_with_transparency(), "image/png", 200, None),
    "RGBA": (encode(photo("astronaut").convert("RGBA"), "PNG"), "image/png", 200, None),
    "animated GIF": (animated("GIF"), "image/jpeg", 415, "unsupported_media_type"),
    "animated WebP": (animated("WEBP"), "image/webp", 200, None),
    "zip polyglot": (zip_polyglot(), "image/jpeg", 200, None),
    "1x1": (encode(Image.new("RGB", (1, 1), (128, 0, 0)), "PNG"), "image/png", 200, None),
    "30000x10 strip": (encode(Image.new("RGB", (30000, 10), (90, 90, 90)), "PNG"), "image/png", 200, None),
    "SVG": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "image/png", 415, "unsupported_media_type"),
    "HEIC": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200, "image/jpeg", 415,
             "unsupported_media_type"),
    "BMP": (encode(photo("astronaut"), "BMP"), "image/jpeg", 415, "unsupported_media_type"),
    "TIFF": (encode(photo("astronaut"), "TIFF"), "image/png", 415, "unsupported_media_type"),
    "JSON body": (b'{"image": "astronaut.jpg"}', "application/json", 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_upload_gets_a_clear_answer_and_the_app_carries_on(client, name):
    body, content_type, status, code = CASES[name]
    response = client.post("/api/validate/image", data=body, content_type=content_type)
    assert response.status_code == status, response.get_json()
    payload = response.get_json()
    if code:
        assert payload["error"]["code"] == code and payload["error"]["message"] and payload["request_id"]
    else:
        assert isinstance(payload["valid"], bool) and payload["checks"]
    healthy = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg")
    assert healthy.status_code == 200 and healthy.get_json()["valid"] is True


def test_animated_webp_uses_the_first_frame(client):
    body = client.post("/api/validate/image", data=animated("WEBP"), content_type="image/webp").get_json()
    assert body["valid"] is True and body["image"]["format"] == "WEBP"


def test_several_files_and_wrong_field(client):
    two = {"image": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg()), "b.jpg")]}
    assert client.post("/api/validate/image", data=two, content_type="multipart/form-data").status_code == 400
    wrong = {"selfie": (io.BytesIO(jpeg()), "a.jpg")}
    answer = client.post("/api/validate/image", data=wrong, content_type="multipart/form-data")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "missing_image"


@pytest.mark.parametrize("body", ["{", "[]", '"x"', "null", "1", '{"image_id": 5}', '{"image_id": null}',
                                  '{"image_id": ["a"]}', '{"image_id": "' + "a" * 32 + '", "models": "x"}',
                                  '{"image_id": "' + "a" * 32 + '", "models": [1]}', "\x00\xff"])
def test_bad_by_id_bodies_are_400(client, body):
    response = client.post("/api/analyze/by-id", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in {"invalid_json", "invalid_request", "invalid_image_id"}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzz_decode_and_detect_never_crashes(registry, data):
    """Mutated real JPEG/PNG bytes: the pipeline answers with a result or an ApiError, nothing else."""
    fmt = data.draw(st.sampled_from(["JPEG", "PNG", "WEBP"]))
    original = bytearray(_FUZZ_SEEDS[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        original = original[:data.draw(st.integers(1, len(original)))]
    try:
        result = validate_image(bytes(original), registry, PipelineSettings(max_pixels=4_000_000))
    except ApiError as error:
        assert 400 <= error.status < 500
    else:
        assert isinstance(result.valid, bool) and (result.crop is None or result.crop.size == (512, 512))


_FUZZ_SEEDS = {fmt: encode(photo("astronaut").resize((160, 160)), fmt) for fmt in ("JPEG", "PNG", "WEBP")}


def test_json_errors_never_contain_a_traceback(client):
    response = client.post("/api/validate/image", data=jpeg()[:100], content_type="image/jpeg")
    text = json.dumps(response.get_json())
    assert "Traceback" not in text and "File \"" not in text
