"""Crafted containers are refused before any decoder runs, the walk stopping at the limit it passes
and naming it with the value; what cameras and editors really write still passes (tests/crafted.py
builds both; bench/abuse.py measures what each costs a real server)."""
import pytest

import crafted
from ananacare.errors import ApiError
from ananacare.preprocess.decode import decode_image
from ananacare.preprocess.structure import StructureLimits, walk
from photos import encode, photo

REFUSED = {
    "scan_bomb": (lambda: crafted.scan_bomb_jpeg(repeats=20_000), "scans", "MAX_JPEG_SCANS"),
    "exif_flood": (lambda: crafted.exif_flood_jpeg(128_000), "Exif segments", None),
    "appn_flood": (lambda: crafted.appn_flood_jpeg(300_000), "metadata segments", "MAX_SEGMENTS"),
    "fill_bytes": (lambda: crafted.fill_bytes_jpeg(5_000_000), "metadata segments", "MAX_SEGMENTS"),
    "table_flood": (lambda: crafted.table_flood_jpeg(200_000), "metadata segments", "MAX_SEGMENTS"),
    "png_private_chunks": (lambda: crafted.private_chunk_flood_png(1_000_000), "metadata segments", "MAX_SEGMENTS"),
    "png_text_flood": (lambda: crafted.text_flood_png(100_000), "compressed metadata chunks", None),
    "png_private_text": (lambda: crafted.text_flood_png(100_000, kinds=(b"tEXt",)), "metadata segments",
                         "MAX_SEGMENTS"),
    "png_ztxt_bomb": (lambda: crafted.ztxt_bomb_png(63), "compressed metadata chunks", None),
    "png_split_idat": (lambda: crafted.split_idat_png(1), "image data chunks", None),
    "webp_chunk_flood": (lambda: crafted.webp_chunk_flood(1_000_000), "metadata segments", "MAX_SEGMENTS"),
    "webp_exif_20mb": (lambda: crafted.webp_metadata_flood(20_000_000), "bytes of metadata", "MAX_METADATA_BYTES"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_crafted_container_is_refused_before_decoding(name):
    build, what, setting = REFUSED[name]
    data = build()
    with pytest.raises(ApiError) as refused:
        decode_image(data, 50_000_000, 1600)
    error = refused.value
    assert error.status == 422 and error.code == "image_structure_refused", error
    assert error.details["what"] == what and error.details["setting"] == setting
    assert error.details["found"] > error.details["limit"]
    if what != "bytes of metadata" and name != "fill_bytes":
        assert error.details["found"] == error.details["limit"] + 1  # stopped at the limit, not at the end


def test_limits_are_settings(client, make_app):
    data = crafted.scan_bomb_jpeg(side=512, repeats=40)
    assert walk(data, "JPEG", StructureLimits(max_scans=64)).scans == 6 + 39  # grey progressive: 6 scans
    answer = client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()
    assert answer["error"]["details"] == {"format": "JPEG", "what": "scans", "found": 33, "limit": 32,
                                          "setting": "MAX_JPEG_SCANS"}
    from ananacare import load_models

    app = make_app(MAX_JPEG_SCANS=64)
    load_models(app)
    response = app.test_client().post("/api/validate/image", data=data, content_type="image/jpeg")
    assert response.status_code == 200


def test_a_tiny_progressive_jpeg_claiming_50_mp_is_refused_by_its_coefficient_buffer():
    data = crafted.claimed_size_cmyk_jpeg(7071)
    assert len(data) < 1000
    with pytest.raises(ApiError) as refused:
        decode_image(data, 50_000_000, 1600)
    assert refused.value.status == 413 and refused.value.code == "image_too_large"
    assert refused.value.details["decode_bytes"] > refused.value.details["max_decode_bytes"]


@pytest.mark.parametrize("mode, options, scans", [
    ("RGB", {}, 1),
    ("RGB", {"progressive": True}, 10),  # libjpeg's progression, as cjpeg, jpegtran and ImageMagick write it
    ("RGB", {"progressive": True, "optimize": True}, 10),
    ("L", {"progressive": True}, 6),
    ("CMYK", {"progressive": True}, 18),
])
def test_what_encoders_write_passes(mode, options, scans):
    image = photo("astronaut").convert(mode)
    data = encode(image, "JPEG", quality=90, icc_profile=b"\0" * 3000, exif=b"Exif\0\0" + b"\0" * 60_000,
                  **options)
    structure = walk(data, "JPEG")
    assert structure.scans == scans
    decoded = decode_image(data, 50_000_000, 1600)
    assert decoded.image.size == (512, 512)


def test_a_png_with_the_usual_metadata_passes():
    image = photo("astronaut")
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for n in range(7):
        info.add_text(f"key{n}", "value" * 20, zip=n < 2)
    data = encode(image, "PNG", pnginfo=info)
    assert decode_image(data, 50_000_000, 1600).image.size == (512, 512)
