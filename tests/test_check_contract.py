"""What a check and a measurement mean: not measured is not failed, no colour is no skin colour,
and one name is one quantity."""
import pytest

from photos import encode, jpeg, photo

SKIN_COLOUR_KEYS = {"lab", "ita", "ita_category", "redness"}


def _checks(body):
    return {check["name"]: check for check in body["checks"]}


def _skin_keys(skin):
    """Every key anywhere under the skin result."""
    keys = set()
    for key, value in skin.items():
        keys.add(key)
        if isinstance(value, dict):
            keys |= _skin_keys(value)
    return keys


@pytest.mark.parametrize("mode", ["L", "RGB"], ids=["grey-mode", "grey-rgb"])
def test_a_grey_photo_reports_no_skin_colour(client, mode):
    grey = photo("astronaut").convert("L").convert(mode)
    response = client.post("/api/analyze/image", data=encode(grey, "JPEG", quality=92), content_type="image/jpeg")
    assert response.status_code == 200
    skin = response.get_json()["results"]["skin"]
    assert skin["available"] is False and skin["reason"] == "no_colour"
    concerns = skin.pop("concerns")
    assert not SKIN_COLOUR_KEYS & _skin_keys(skin), skin
    for name in ("redness", "dark_circles", "tone"):  # the colour concerns say why they are missing
        assert concerns[name] == {"available": False, "reason": "no_colour"}, name


def test_a_colour_photo_reports_skin_colour(client):
    skin = client.post("/api/analyze/image", data=jpeg(), content_type="image/jpeg").get_json()["results"]["skin"]
    assert skin["available"] is True and skin["chroma"] > 10
    # her fair skin, now without the bangs that the old forehead ellipse averaged in (ITA about 58)
    assert skin["overall"]["ita_category"] in {"very light", "light"}


def test_colour_check_is_measured_always_and_required_only_by_strict(client):
    grey = encode(photo("astronaut").convert("L"), "JPEG", quality=92)
    normal = client.post("/api/validate/image", data=grey, content_type="image/jpeg").get_json()
    strict = client.post("/api/validate/image?profile=strict", data=grey, content_type="image/jpeg").get_json()
    colour = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()
    assert _checks(normal)["colour"]["passed"] is False and _checks(normal)["colour"]["required"] is False
    assert normal["valid"] is True  # the grey astronaut passes every required check of `normal`
    assert _checks(strict)["colour"]["passed"] is False and _checks(strict)["colour"]["required"] is True
    assert strict["valid"] is False
    assert _checks(colour)["colour"]["passed"] is True and _checks(colour)["colour"]["value"] > 10


def test_no_face_gives_one_reason_and_unmeasured_checks(client):
    body = client.post("/api/validate/image", data=jpeg("coffee"), content_type="image/jpeg").get_json()
    checks = _checks(body)
    assert body["valid"] is False
    assert [name for name, check in checks.items() if check["passed"] is False] == ["face_detected"]
    others = [check for name, check in checks.items() if name != "face_detected"]
    assert len(others) >= 15
    assert all(check["passed"] is None and check["reason"] == "no_face" and check["value"] is None
               for check in others)


def test_openapi_says_a_check_may_be_unmeasured(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    check = schemas["Check"]["properties"]
    assert check["passed"].get("nullable") is True
    assert {"required", "reason"} <= set(check)
    assert {"available", "reason"} <= set(schemas["Skin"]["properties"])


def test_a_measurement_never_shares_a_checks_name(client):
    body = client.post("/api/analyze/image", data=jpeg(), content_type="image/jpeg").get_json()
    check_names = {check["name"] for check in body["validation"]["checks"]}
    measurements = body["results"]["measurements"]
    assert measurements and not check_names & set(measurements)
    # both sharpness numbers exist, under their own names, and differ by their scale
    assert _checks(body["validation"])["sharpness"]["value"] > measurements["crop_sharpness"] > 0
