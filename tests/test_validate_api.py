"""POST /api/validate/image through HTTP: what a client sees for good and bad uploads."""
import io

import numpy as np
import pytest
from PIL import Image

from photos import encode, jpeg, large_selfie, photo

CHECK_FIELDS = {"name", "passed", "value", "threshold", "message", "required", "reason", "native", "quality"}


def _post(client, data, content_type="image/jpeg"):
    return client.post("/api/validate/image", data=data, content_type=content_type)


def _checks(body):
    return {check["name"]: check for check in body["checks"]}


def test_astronaut_is_valid_with_an_image_id(client):
    response = _post(client, jpeg("astronaut"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is True
    assert len(body["image_id"]) == 32 and int(body["image_id"], 16) >= 0
    checks = _checks(body)
    assert {"face_detected", "single_face", "face_size", "face_inside_frame"} <= set(checks)
    assert all(set(check) == CHECK_FIELDS for check in checks.values())
    assert all(check["passed"] for check in checks.values() if check["required"])
    face = body["faces"][0]
    assert set(face["keypoints"]) == {"right_eye", "left_eye", "nose_tip", "mouth_center",
                                      "right_ear_tragion", "left_ear_tragion"}
    assert 150 < face["box"]["x"] < 200 and face["box"]["width"] > 80
    assert body["crop"]["size"] == 512
    assert response.headers["X-Request-ID"]


def test_multipart_upload_gives_the_same_id_as_a_raw_body(client):
    data = jpeg("astronaut")
    raw = _post(client, data).get_json()
    multipart = client.post("/api/validate/image", data={"image": (io.BytesIO(data), "me.jpg")},
                            content_type="multipart/form-data").get_json()
    assert multipart["image_id"] == raw["image_id"]


def test_a_different_crop_setting_gives_a_different_id(make_app):
    data = jpeg("astronaut")
    ids = set()
    for size in (256, 512):
        client = make_app(CROP_SIZE=size).test_client()
        ids.add(client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()["image_id"])
    assert len(ids) == 2


def test_coffee_is_not_valid_and_has_no_id(client):
    body = _post(client, jpeg("coffee")).get_json()
    assert body["valid"] is False and body["image_id"] is None and body["faces"] == []
    assert _checks(body)["face_detected"]["passed"] is False


@pytest.mark.parametrize("fmt, content_type", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted(client, fmt, content_type):
    body = _post(client, encode(photo("astronaut"), fmt), content_type).get_json()
    assert body["valid"] is True and body["image"]["format"] == fmt


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK", "I;16", "LA", "1"])
def test_every_mode_is_converted_to_rgb(client, mode):
    image = photo("astronaut")
    if mode == "I;16":  # 8-bit values spread over the 16-bit range, as a 16-bit PNG
        converted = Image.fromarray((np.asarray(image.convert("L"), dtype=np.uint16) * 257))
    else:
        converted = image.convert(mode)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    response = _post(client, encode(converted, fmt), "image/" + fmt.lower())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["image"]["mode"] in (mode, "I;16B", "I;16", "I")
    if mode != "1":  # a 1-bit photo has no face left to find
        assert body["faces"], f"no face after converting from {mode}"


def test_text_file_is_415(client):
    response = _post(client, b"just some text, not a photo\n" * 10, "text/plain")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_text_bytes_claiming_to_be_jpeg_are_415(client):
    body = _post(client, b"hello, I am not a JPEG" * 10).get_json()
    assert body["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_formats_outside_the_allow_list_are_415(client, fmt):
    response = _post(client, encode(photo("astronaut"), fmt), "image/jpeg")
    assert response.status_code == 415
    assert response.get_json()["error"]["details"]["detected"] == fmt


def test_truncated_jpeg_is_422(client):
    data = jpeg("astronaut")
    response = _post(client, data[: len(data) // 3])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "undecodable_image"


def test_missing_and_empty_image_are_400(client):
    empty = _post(client, b"")
    wrong_field = client.post("/api/validate/image", data={"photo": (io.BytesIO(jpeg()), "a.jpg")},
                              content_type="multipart/form-data")
    no_body = client.post("/api/validate/image")
    for response in (empty, wrong_field, no_body):
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "missing_image"
    assert wrong_field.get_json()["error"]["details"]["received_files"] == ["photo"]


def test_two_files_are_400(client):
    data = {"image": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg()), "b.jpg")]}
    response = client.post("/api/validate/image", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "multiple_images"


def test_pixel_bomb_is_413(make_app):
    client = make_app(MAX_IMAGE_PIXELS=1_000_000).test_client()
    big = encode(Image.new("RGB", (2000, 1000)), "PNG")
    response = _post(client, big, "image/png")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large"


def test_body_over_the_upload_limit_is_413(make_app):
    client = make_app(MAX_UPLOAD_BYTES=10_000).test_client()
    response = _post(client, jpeg("astronaut"))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_large_jpeg_faces_are_in_source_pixels(client):
    image = large_selfie(12)
    body = _post(client, encode(image, "JPEG", quality=90)).get_json()
    assert body["valid"] is True
    assert (body["image"]["width"], body["image"]["height"]) == image.size
    scale = image.height / 512  # the astronaut was scaled to the photo's height
    offset = (image.width - image.height) / 2
    assert body["faces"][0]["box"]["x"] == pytest.approx(offset + 175 * scale, abs=12 * scale)


def test_face_cut_by_the_border_fails_inside_frame(client):
    cut = photo("astronaut").crop((0, 100, 512, 512))  # the top of the head is gone
    body = _post(client, encode(cut, "PNG"), "image/png").get_json()
    check = _checks(body)["face_inside_frame"]
    assert body["faces"] and check["passed"] is False and check["value"] < 0
    assert body["valid"] is False and body["image_id"]  # a face was found: its crop is kept


def test_two_faces_fail_single_face(client):
    face = photo("astronaut").crop((120, 20, 330, 250))
    pair = Image.new("RGB", (420, 230))
    pair.paste(face, (0, 0))
    pair.paste(face, (210, 0))
    body = _post(client, encode(pair, "PNG"), "image/png").get_json()
    assert _checks(body)["single_face"] == {**_checks(body)["single_face"], "passed": False, "value": 2}


def test_unknown_route_and_wrong_method_are_json(client):
    missing = client.get("/api/nothing-here")
    wrong = client.get("/api/validate/image")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


def test_client_request_id_is_echoed(client):
    response = client.post("/api/validate/image", data=b"", content_type="image/jpeg",
                           headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.get_json()["request_id"] == "abc-123"
