"""OFIQ's measures: each mapping against OFIQ's formula, each native value by its response to real
photos edited the way the measure must notice (real models, real images)."""
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ananacare import load_models
from ananacare.models import ModelRegistry, load_specs
from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.quality.background import _erode, scharr_magnitude
from ananacare.quality.checks import PROFILES, thresholds_for
from ananacare.quality.lighting import convex_hull, linear_luminance, natural_colour_distance
from ananacare.quality.ofiq import quality_component
from photos import encode, jpeg, on_canvas, photo


def _sigma(x, x0, w):
    return 1 / (1 + math.exp((x0 - x) / w))


def _round_clip(x):
    return min(100, max(0, math.floor(x + 0.5)))


# check name -> OFIQ 1.0.3's mapping, written from its source, independently of ananacare/quality/ofiq.py
OFIQ_FORMULAS = {
    "single_face": lambda x: 100 * (1 - x),
    "inter_eye_distance": lambda x: 100 * _sigma(x, 70, 20),
    "head_size": lambda x: 200 * (1 - _sigma(abs(x - 0.45), 0, 0.05)),
    "crop_left": lambda x: 100 * _sigma(x, 0.9, 0.1),
    "crop_right": lambda x: 100 * _sigma(x, 0.9, 0.1),
    "margin_above": lambda x: 100 * _sigma(x, 1.4, 0.1),
    "margin_below": lambda x: 100 * _sigma(x, 1.8, 0.1),
    "yaw": lambda x: 100 * max(0, math.cos(math.radians(x))) ** 2,
    "pitch": lambda x: 100 * max(0, math.cos(math.radians(x))) ** 2,
    "roll": lambda x: 100 * max(0, math.cos(math.radians(x))) ** 2,
    "eyes_open": lambda x: 100 * _sigma(x, 0.02, 0.01),
    "mouth_closed": lambda x: 100 * (1 - _sigma(x, 0.2, 0.06)),
    "luminance": lambda x: 100 * _sigma(x, 0.2, 0.05) * (1 - _sigma(x, 0.8, 0.05)),
    "luminance_variance": lambda v: 100 * math.sin(math.pi * 60 * v / (60 * v + 1)),
    "underexposure": lambda x: 120 * (0.832 - _sigma(x, 0.92, 0.05)),
    "overexposure": lambda x: 1 / (x + 0.01),
    "dynamic_range": lambda x: 12.5 * x,
    "illumination_uniformity": lambda x: 100 * x ** 0.3,
    "natural_colour": lambda x: 200 * (1 - _sigma(x, 0, 10)),
    "background_uniformity": lambda x: 190 * (1 - _sigma(x, 10, 100)),
}
POINTS = {
    "single_face": [0, 0.25, 0.5, 1], "inter_eye_distance": [10, 30, 70, 90, 150],
    "head_size": [0.1, 0.3, 0.42, 0.45, 0.5, 0.7], "crop_left": [0, 0.5, 0.9, 1.1, 3], "crop_right": [0.2, 0.85, 2],
    "margin_above": [0.5, 1.3, 1.4, 1.6], "margin_below": [1, 1.7, 1.8, 2.5], "yaw": [0, 10, 45, 60, 90, 135],
    "pitch": [-30, 5, 80], "roll": [-170, -20, 0, 100], "eyes_open": [0, 0.01, 0.02, 0.04, 0.08],
    "mouth_closed": [0, 0.1, 0.2, 0.35], "luminance": [0, 0.15, 0.2, 0.5, 0.8, 0.9],
    "luminance_variance": [0, 0.005, 1 / 60, 0.1, 0.25], "underexposure": [0, 0.5, 0.9, 0.95, 1],
    "overexposure": [0, 0.005, 0.09, 0.5, 1], "dynamic_range": [0, 3.3, 7.5, 8],
    "illumination_uniformity": [0, 0.1, 0.5, 0.9, 1], "natural_colour": [0, 5, 20, 60],
    "background_uniformity": [0, 10, 100, 300, 2000],
}
# values worked out by hand from OFIQ's definitions: the formulas above are checked too
BY_HAND = [("head_size", 0.45, 100), ("inter_eye_distance", 70, 50), ("crop_left", 0.9, 50), ("yaw", 60, 25),
           ("roll", 180, 0), ("overexposure", 0.0, 100), ("overexposure", 0.09, 10), ("dynamic_range", 4, 50),
           ("illumination_uniformity", 0.5, 81), ("eyes_open", 0.02, 50), ("mouth_closed", 0.2, 50),
           ("background_uniformity", 10, 95), ("natural_colour", 0, 100), ("single_face", 0.25, 75),
           ("luminance_variance", 1 / 60, 100), ("underexposure", 0.0, 100), ("margin_below", 1.8, 50)]


@pytest.mark.parametrize("name", sorted(OFIQ_FORMULAS))
def test_each_mapping_is_ofiqs_formula(name):
    for x in POINTS[name]:
        assert quality_component(name, x) == _round_clip(OFIQ_FORMULAS[name](x)), (name, x)
    assert quality_component(name, None) is None


@pytest.mark.parametrize("name, native, expected", BY_HAND)
def test_mappings_at_points_worked_out_by_hand(name, native, expected):
    assert quality_component(name, native) == expected


def test_luminance_is_ofiqs_linear_luminance():
    grey = np.array([[[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 0], [0, 255, 0], [0, 0, 255]]],
                    dtype=np.uint8)
    # linear sRGB: 128 -> 0.2158; red, green, blue carry 0.2126, 0.7152, 0.0722 of white
    assert linear_luminance(grey).tolist() == [[0, 255, 55, 54, 182, 18]]


def test_natural_colour_distance_is_zero_inside_the_skin_box():
    assert natural_colour_distance(15, 20) == 0
    assert natural_colour_distance(30, 20) == pytest.approx(5)
    assert natural_colour_distance(28, 39) == pytest.approx(5)
    assert natural_colour_distance(-1, 20) == 100


def test_scharr_gradient_and_erosion_match_opencvs_definitions():
    step = np.zeros((5, 6))
    step[:, 3:] = 1  # a unit step: OpenCV's Scharr kernel (3, 10, 3) x (-1, 0, 1) gives 16 beside it
    assert scharr_magnitude(step)[2].tolist() == [0, 0, 16, 16, 0, 0]
    assert scharr_magnitude(step.T)[:, 2].tolist() == [0, 0, 16, 16, 0, 0]
    mask = np.ones((8, 8), dtype=bool)
    mask[4, 4] = False  # a 4 x 4 erosion anchored at (2, 2) spreads a hole 2 up/left, 1 down/right
    rows, cols = np.nonzero(~_erode(mask, 4))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 6, 3, 6)


def test_convex_hull_of_a_square_and_its_inside_points():
    points = [(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0.5)]
    assert sorted(convex_hull(points)) == [(0, 0), (0, 2), (2, 0), (2, 2)]


def _checks(registry, image, settings=PipelineSettings()):
    validation = validate_image(encode(image, "PNG"), registry, settings)
    assert validation.faces, "no face found"
    return {check.name: check for check in validation.checks}


def _native(check):
    return check.native["value"]


def test_every_check_with_an_ofiq_measure_carries_native_and_quality(registry):
    checks = _checks(registry, photo("astronaut"))
    for name in OFIQ_FORMULAS:
        check = checks[name]
        assert check.native and check.native["unit"] and check.native["measure"], name
        assert check.quality == _round_clip(OFIQ_FORMULAS[name](_native(check))), name
    for name in ("face_presence", "face_size", "face_inside_frame", "sharpness", "colour"):
        assert checks[name].native is None and checks[name].quality is None
    # our own definitions and OFIQ's agree in direction and roughly in size where both are angles
    assert _native(checks["yaw"]) == checks["yaw"].value


def test_shifting_the_face_to_a_border_lowers_crop_left_or_right(registry):
    face = photo("astronaut").crop((100, 0, 360, 300))  # the head, eyes at about x 100-150

    def crop(x):
        checks = _checks(registry, on_canvas(face, (900, 400), 1.0, (x, 50)))
        return checks["crop_left"], checks["crop_right"]
    towards_left = [crop(x) for x in (320, -40, -70, -90)]
    lefts = [_native(left) for left, _ in towards_left]
    assert lefts == sorted(lefts, reverse=True) and lefts[-1] < 0.5
    assert [left.quality for left, _ in towards_left][::3] == [100, 0]
    assert all(right.quality == 100 for _, right in towards_left)
    assert towards_left[-1][0].passed is False and towards_left[-1][0].required is False  # normal: reported only
    left, right = crop(900 - 260 + 90)
    assert _native(right) < 0.7 and right.quality < 20 and left.quality == 100


def test_scaling_the_face_moves_head_size_towards_a_portraits(registry):
    full = _checks(registry, photo("astronaut"))  # T / H about 0.14
    closer = _checks(registry, photo("astronaut").crop((115, 20, 335, 240)))
    closest = _checks(registry, photo("astronaut").crop((150, 55, 300, 205)))
    sizes = [_native(c["head_size"]) for c in (full, closer, closest)]
    assert sizes == sorted(sizes) and sizes[-1] > 2.5 * sizes[0]
    qualities = [c["head_size"].quality for c in (full, closer, closest)]
    assert qualities == sorted(qualities) and qualities[0] < 5 and qualities[-1] > 50
    further = _checks(registry, on_canvas(photo("astronaut"), (1024, 1024), 1.0, (256, 256)))
    assert _native(further["head_size"]) == pytest.approx(sizes[0] / 2, rel=0.1)


def _busy(size):
    """A busy backdrop: the cameraman photo tiled (real texture, sharp edges)."""
    tile = photo("camera").convert("RGB")
    canvas = Image.new("RGB", size)
    for x in range(0, size[0], tile.width):
        for y in range(0, size[1], tile.height):
            canvas.paste(tile, (x, y))
    return canvas


def test_a_busy_background_lowers_background_uniformity(registry):
    head = photo("astronaut").crop((140, 10, 320, 260))
    flat = Image.new("RGB", (700, 450), (150, 160, 170))
    busy = _busy((700, 450))
    for canvas in (flat, busy):
        canvas.paste(head, (260, 100))
    plain, cluttered = _checks(registry, flat), _checks(registry, busy)
    assert _native(plain["background_uniformity"]) < 0.5 * _native(cluttered["background_uniformity"])
    assert plain["background_uniformity"].quality > cluttered["background_uniformity"].quality + 10
    assert plain["background_uniformity"].passed is True


def test_a_second_face_lowers_single_face(registry):
    one = _checks(registry, photo("astronaut"))
    pair = Image.new("RGB", (1000, 520), (120, 120, 120))
    pair.paste(photo("astronaut"), (0, 0))
    pair.paste(photo("astronaut").resize((410, 410)), (560, 60))
    two = _checks(registry, pair)
    assert one["single_face"].quality == 100 and _native(one["single_face"]) == 0
    assert two["face_detected"].value == 2
    # the second face is 0.8 x the first; the detector's boxes give it 0.3-0.8 of the area
    assert 0.3 < _native(two["single_face"]) < 0.8
    assert two["single_face"].quality == 100 - round(100 * _native(two["single_face"]))
    assert two["single_face"].passed is False


def _squinting(image, faces, keep):
    """The photo with each eye's opening squeezed to `keep` of its height (lids closing): the eye
    region is covered with the blurred skin below it and the squeezed eye put back in its middle."""
    edited = image.copy()
    right, left = faces[0].keypoints[0], faces[0].keypoints[1]
    distance = float(np.linalg.norm(left - right))
    for x, y in (right, left):
        half_width, half_height = 0.32 * distance, 0.16 * distance
        box = tuple(int(round(v)) for v in (x - half_width, y - half_height, x + half_width, y + half_height))
        eye = image.crop(box)
        below = image.crop((box[0], box[3], box[2], 2 * box[3] - box[1])).filter(ImageFilter.GaussianBlur(2))
        edited.paste(below, box[:2])
        slit = eye.resize((eye.width, max(1, round(eye.height * keep))))
        edited.paste(slit, (box[0], box[1] + (eye.height - slit.height) // 2))
    return edited


def test_closing_the_eyes_lowers_eyes_open(registry):
    image = photo("astronaut")
    validation = validate_image(encode(image, "PNG"), registry, PipelineSettings())
    openness = [_checks(registry, _squinting(image, validation.faces, keep))["eyes_open"] for keep in (1, 0.4, 0.05)]
    natives = [_native(check) for check in openness]
    assert natives == sorted(natives, reverse=True) and natives[-1] < 0.9 * natives[0]
    assert [c.value for c in openness] == sorted((c.value for c in openness), reverse=True)  # our EAR agrees
    # MediaPipe's 468-point mesh keeps a painted-out eye about 0.06 T open, far above OFIQ's 0.02
    # midpoint: the quality component barely moves (see docs/quality.md, eyes_open)
    assert openness[-1].quality <= openness[0].quality


def test_a_profile_may_judge_on_quality(registry):
    camera = photo("camera")  # the cameraman: yaw about 43 degrees, a grey photo
    normal = _checks(registry, camera)
    on_quality = _checks(registry, camera, PipelineSettings(quality_overrides={"yaw": {"min_quality": 50}}))
    assert normal["yaw"].passed is False  # |yaw| > 25 degrees
    assert on_quality["yaw"].threshold == {"min_quality": 50}
    assert on_quality["yaw"].passed is (on_quality["yaw"].quality >= 50)
    ofiq = _checks(registry, camera, PipelineSettings(quality_profile="ofiq"))
    assert all(check.required for name, check in ofiq.items() if name in OFIQ_FORMULAS)
    assert ofiq["head_size"].passed is False and ofiq["head_size"].quality < 50


def test_threshold_overrides_on_quality_are_checked():
    assert thresholds_for("normal", {"yaw": {"min_quality": 70}})["yaw"] == {"min_quality": 70}
    assert thresholds_for("normal", {"head_size": {"min_quality": 20}})["head_size"] == {"min_quality": 20}
    for bad in ({"sharpness": {"min_quality": 50}}, {"yaw": {"min_quality": 150}}, {"head_size": 0.4},
                {"yaw": {"max_quality": 5}}):
        with pytest.raises(ValueError):
            thresholds_for("normal", bad)
    assert set(PROFILES) == {"lenient", "normal", "strict", "ofiq", "skin"}


def test_without_the_segmentation_model_validate_still_answers(make_app, tmp_path):
    """The segmentation model is optional: a models file without it still validates, under every
    profile, and background uniformity says why it was not measured."""
    data = Path(str(resources.files("ananacare.models"))) / "data"
    text = (data.parent / "default_models.toml").read_text().split("[models.selfie_segmentation]")[0]
    spec_file = tmp_path / "models.toml"
    spec_file.write_text(text.replace('"path:data/', f'"path:{data}/'))
    assert not ModelRegistry(load_specs(str(spec_file))).names_with_role("segmentation")
    app = make_app(MODELS_FILE=str(spec_file))
    load_models(app)
    response = app.test_client().post("/api/validate/image?profile=ofiq", data=jpeg(), content_type="image/jpeg")
    assert response.status_code == 200
    background = {c["name"]: c for c in response.get_json()["checks"]}["background_uniformity"]
    assert background["passed"] is None and background["reason"] == "no_segmentation_model"
    assert background["required"] is False and background["native"] is None and background["quality"] is None


def test_the_openapi_document_describes_native_quality_and_the_ofiq_profile(client):
    document = client.get("/api/openapi.json").get_json()
    check = document["components"]["schemas"]["Check"]["properties"]
    assert check["quality"]["type"] == "integer" and check["quality"].get("nullable") is True
    assert {"$ref": "#/components/schemas/Native"} in check["native"]["anyOf"]
    assert any(option.get("nullable") for option in check["native"]["anyOf"])
    parameters = [p for path in document["paths"].values() for op in path.values() if isinstance(op, dict)
                  for p in op.get("parameters", []) if p.get("name") == "profile"]
    assert parameters and all("ofiq" in p["schema"]["enum"] for p in parameters)
    body = client.post("/api/validate/image?profile=ofiq", data=jpeg(), content_type="image/jpeg").get_json()
    checks = {c["name"]: c for c in body["checks"]}
    assert body["profile"] == "ofiq" and checks["yaw"]["threshold"] == {"min_quality": 50}
    assert checks["head_size"]["required"] is True and body["valid"] is False  # a selfie is no passport photo


def test_a_segmentation_model_that_fails_to_load_leaves_validate_and_readiness_alone(make_app, tmp_path):
    data = Path(str(resources.files("ananacare.models"))) / "data"
    text = (data.parent / "default_models.toml").read_text().replace('"path:data/', f'"path:{data}/')
    broken = tmp_path / "segmentation.tflite"
    broken.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 250145\n")
    spec_file = tmp_path / "models.toml"
    spec_file.write_text(text.replace(f'"path:{data}/selfie_segmentation_landscape.tflite"', f'"path:{broken}"'))
    app = make_app(MODELS_FILE=str(spec_file))
    load_models(app)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200  # optional: its failure is reported, not fatal
    body = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()
    background = {c["name"]: c for c in body["checks"]}["background_uniformity"]
    assert body["valid"] is True and background["passed"] is None and background["reason"] == "model_unavailable"
