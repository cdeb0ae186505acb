"""Quality checks and face analysis respond to the photo the way they must (real photos, real mesh)."""
import math

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from skimage.color import lab2rgb, rgb2lab

from ananacare.preprocess import PipelineSettings, analyze_crop, validate_image
from ananacare.quality.checks import CHECK_KINDS, OFIQ_ONLY
from ananacare.skin import analyze_skin
from ananacare.skin.tone import ita_category, ita_degrees
from photos import encode, jpeg, photo

SETTINGS = PipelineSettings()
ASTRONAUT_FACE_CENTRE = (225, 130)


def skin_analysis(crop, points):
    """Skin colour of a crop (colour needs no scale: a fixed one)."""
    return analyze_skin(crop, points, {"px_per_mm": 2.0, "method": "fixed"})


def measures(registry, image, settings=SETTINGS):
    validation = validate_image(encode(image, "PNG"), registry, settings)
    assert validation.faces, "no face found"
    return {check.name: check.value for check in validation.checks}, validation


def test_every_check_is_reported(registry):
    values, validation = measures(registry, photo("astronaut"))
    assert validation.valid
    assert set(values) == {"face_detected", "single_face", *CHECK_KINDS}
    assert all(check.passed for check in validation.checks if check.required)
    # the framing checks only OFIQ defines are reported; `normal` does not require them
    assert {check.name for check in validation.checks if not check.required} == {"colour", "px_per_mm", *OFIQ_ONLY}


@pytest.mark.parametrize("degrees", [-20, -10, 12, 25])
def test_rotation_changes_roll_by_the_angle(registry, degrees):
    base, _ = measures(registry, photo("astronaut"))
    turned = photo("astronaut").rotate(degrees, resample=Image.Resampling.BICUBIC, center=ASTRONAUT_FACE_CENTRE)
    rotated, _ = measures(registry, turned)
    # PIL turns anticlockwise; in image coordinates (y down) the eye line's angle drops by `degrees`
    assert rotated["roll"] - base["roll"] == pytest.approx(-degrees, abs=3)


def test_mirroring_flips_the_sign_of_yaw(registry):
    turned, _ = measures(registry, photo("camera"))  # the cameraman looks off to one side
    mirrored, _ = measures(registry, ImageOps.mirror(photo("camera")))
    assert abs(turned["yaw"]) > 15
    assert mirrored["yaw"] == pytest.approx(-turned["yaw"], abs=6)
    assert mirrored["pitch"] == pytest.approx(turned["pitch"], abs=4)


def test_more_blur_gives_lower_sharpness(registry):
    values = [measures(registry, photo("astronaut").filter(ImageFilter.GaussianBlur(radius)))[0]["sharpness"]
              for radius in (0, 1, 2, 4)]
    assert values == sorted(values, reverse=True) and values[0] > 5 * values[-1]


def test_darkening_lowers_luminance_and_raises_underexposure(registry):
    results = [measures(registry, ImageEnhance.Brightness(photo("astronaut")).enhance(f))
               for f in (1.0, 0.6, 0.3)]
    luminance = [values["luminance"] for values, _ in results]
    under = [values["underexposure"] for values, _ in results]
    assert luminance == sorted(luminance, reverse=True) and luminance[0] - luminance[-1] > 60
    assert under == sorted(under) and under[-1] > under[0]
    dark = {check.name: check for check in results[-1][1].checks}
    assert dark["luminance"].passed is False


def test_one_sided_light_lowers_uniformity(registry):
    image = photo("astronaut")
    shaded = image.copy()
    half = image.crop((ASTRONAUT_FACE_CENTRE[0], 0, 512, 512))
    shaded.paste(ImageEnhance.Brightness(half).enhance(0.35), (ASTRONAUT_FACE_CENTRE[0], 0))
    even, _ = measures(registry, image)
    uneven, validation = measures(registry, shaded)
    assert uneven["illumination_uniformity"] < even["illumination_uniformity"] - 0.25
    assert {c.name: c for c in validation.checks}["illumination_uniformity"].passed is False


def test_bigger_face_more_pixels_between_the_eyes(registry):
    small, _ = measures(registry, photo("astronaut"))
    big, _ = measures(registry, photo("astronaut").resize((1024, 1024), Image.Resampling.BICUBIC))
    assert big["inter_eye_distance"] == pytest.approx(2 * small["inter_eye_distance"], rel=0.08)
    assert big["face_size"] == pytest.approx(2 * small["face_size"], rel=0.1)


def test_profiles_tighten_in_order(registry):
    failed = {}
    for profile in ("lenient", "normal", "strict"):
        settings = PipelineSettings(quality_profile=profile)
        _, validation = measures(registry, photo("camera"), settings)
        failed[profile] = {check.name for check in validation.checks if not check.passed}
        assert validation.profile == profile
    assert failed["lenient"] <= failed["normal"] <= failed["strict"]
    assert len(failed["strict"]) > len(failed["lenient"])


def test_profile_per_request_and_overrides(make_app, client):
    strict = client.post("/api/validate/image?profile=strict", data=jpeg("camera"), content_type="image/jpeg")
    lenient = client.post("/api/validate/image?profile=lenient", data=jpeg("camera"), content_type="image/jpeg")
    failed = {name: {c["name"] for c in r.get_json()["checks"] if not c["passed"]}
              for name, r in (("strict", strict), ("lenient", lenient))}
    assert strict.get_json()["profile"] == "strict" and failed["lenient"] < failed["strict"]
    unknown = client.post("/api/validate/image?profile=lax", data=jpeg(), content_type="image/jpeg")
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "invalid_profile"
    tight = make_app(QUALITY_THRESHOLDS='{"face_size": 400}').test_client()
    body = tight.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()
    size = {c["name"]: c for c in body["checks"]}["face_size"]
    assert size["threshold"] == 400 and size["passed"] is False and body["valid"] is False


def test_bad_threshold_override_fails_at_start(make_app):
    from ananacare.config import ConfigError

    with pytest.raises(ConfigError, match="QUALITY_THRESHOLDS"):
        make_app(QUALITY_THRESHOLDS='{"face_sise": 100}')
    with pytest.raises(ConfigError, match="luminance"):
        make_app(QUALITY_THRESHOLDS='{"luminance": 50}')


def _astronaut_analysis(registry, image=None):
    validation = validate_image(encode(image or photo("astronaut"), "PNG"), registry, SETTINGS)
    results, _ = analyze_crop(validation.crop, registry, SETTINGS.crop_margin, None,
                              validation.geometry.to_dict()["angle_degrees"])
    return results, validation


def test_textbook_ita_for_a_known_colour(registry):
    results, validation = _astronaut_analysis(registry)
    points = np.asarray(results["landmarks"]["points"])
    for lightness, b, expected in ((70, 20, 45.0), (50, 15, 0.0), (35, 10, -56.31)):
        rgb = tuple(int(round(v * 255)) for v in lab2rgb(np.array([[[lightness, 8.0, b]]]))[0, 0])
        crop = Image.new("RGB", validation.crop.size, rgb)
        overall = skin_analysis(crop, points)["overall"]
        # against scikit-image's own conversion of the 8-bit colour, and the textbook angle
        ref_l, _, ref_b = rgb2lab(np.array([[rgb]], dtype=np.float64) / 255)[0, 0]
        assert overall["ita"] == pytest.approx(math.degrees(math.atan2(ref_l - 50, ref_b)), abs=0.05)
        assert overall["ita"] == pytest.approx(expected, abs=2.0)
        assert overall["ita_category"] is None  # one colour has no whites of the eyes to correct the light by
        assert overall["evenness"] < 0.01  # one colour: perfectly even
    assert ita_degrees(70, 20) == pytest.approx(45.0) and ita_category(45.0) == "light"
    assert math.isclose(ita_degrees(50, 15), 0.0, abs_tol=1e-9) and ita_category(-56.3) == "dark"


def test_colour_shifts_move_the_skin_measures(registry):
    results, validation = _astronaut_analysis(registry)
    points = np.asarray(results["landmarks"]["points"])
    pixels = np.asarray(validation.crop, dtype=np.int16)

    def shifted(dr, dg, db):
        return Image.fromarray(np.clip(pixels + (dr, dg, db), 0, 255).astype(np.uint8))

    base = skin_analysis(validation.crop, points)["overall"]
    redder = skin_analysis(shifted(25, -10, -5), points)["overall"]
    lighter = skin_analysis(shifted(25, 25, 25), points)["overall"]
    yellower = skin_analysis(shifted(10, 10, -30), points)["overall"]
    assert redder["redness"] > base["redness"] + 5
    assert lighter["lab"][0] > base["lab"][0] + 5 and lighter["ita"] > base["ita"]
    assert yellower["lab"][2] > base["lab"][2] + 10 and yellower["ita"] < base["ita"]


def test_analysis_reports_pose_geometry_and_skin(client):
    image_id = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()["image_id"]
    results = client.post("/api/analyze/by-id", json={"image_id": image_id}).get_json()["results"]
    # the forehead is mostly under her bangs: what is measured of it is the skin below them
    assert set(results["skin"]["regions"]) >= {"nose", "right_cheek", "left_cheek", "chin"}
    assert results["skin"]["coverage"]["forehead"]["coverage"] < 0.6
    assert results["skin"]["overall"]["ita_category"] in {"very light", "light", "intermediate"}
    pose = results["pose"]
    assert abs(pose["yaw"]) < 10 and abs(pose["roll"]) < 8
    assert 0.15 < pose["eye_aspect_ratio"]["left"] < 0.45 and 0 <= pose["mouth_opening"] < 0.5
    assert 0.7 < results["geometry"]["width_to_height"] < 1.1 and results["geometry"]["symmetry"] > 0.9


def test_roll_in_analysis_is_the_photos_roll(registry):
    turned = photo("astronaut").rotate(20, resample=Image.Resampling.BICUBIC, center=ASTRONAUT_FACE_CENTRE)
    upright, _ = _astronaut_analysis(registry)
    rotated, _ = _astronaut_analysis(registry, turned)
    assert rotated["pose"]["roll"] - upright["pose"]["roll"] == pytest.approx(-20, abs=3)


@pytest.mark.parametrize("bad", [{"luminance": [50]}, {"luminance": []}, {"luminance": [210, 50]},
                                 {"luminance": [50, float("nan")]}, {"sharpness": float("nan")},
                                 {"yaw": float("inf")}, {"yaw": {"min_quality": float("nan")}}])
def test_malformed_threshold_overrides_stop_the_start(make_app, bad):
    from ananacare.config import ConfigError

    with pytest.raises(ConfigError, match="ANANACARE_QUALITY_THRESHOLDS"):
        make_app(QUALITY_THRESHOLDS=bad)
