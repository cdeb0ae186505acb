"""Quality checks on the chosen face, in the manner of ISO/IEC 29794-5: each check says what was
measured, against what threshold, and why it passed or failed. Thresholds come in five profiles
(lenient, normal, strict, ofiq, and skin for analysis-grade selfies), selectable per request, and
each can be overridden in settings.

`passed` is true or false for a measured check and null (None) for one that could not be measured
(no face: nothing to measure), with `reason` saying why. A check a profile does not require
(`required: false`, e.g. `colour` outside `strict`) is measured and judged but does not decide
`valid`.

Each check also carries OFIQ's reading of the same property (ISO/IEC 29794-5's reference
implementation, see ofiq.py): `native`, the measure's native value with its OFIQ name and unit,
and `quality`, its 0-100 quality component; both null where OFIQ has no such measure. A
threshold is a value in the check's own units, or {"min_quality": q}: judged on `quality` >= q.
Checks only OFIQ defines (head size, crop and margins, luminance variance, natural colour,
background uniformity) are judged on quality alone; the `ofiq` profile judges every check that
has a quality component on it and requires them all."""
import math
from dataclasses import asdict, dataclass

from .ofiq import MEASURES, native_entry, quality_component

# kind: "min" value >= t; "max" value <= t; "abs_max" |value| <= t; "range" t[0] <= value <= t[1]
CHECK_KINDS = {
    "face_presence": "min", "face_size": "min", "inter_eye_distance": "min", "face_inside_frame": "min",
    "yaw": "abs_max", "pitch": "abs_max", "roll": "abs_max", "eyes_open": "min", "mouth_closed": "max",
    "sharpness": "min", "luminance": "range", "underexposure": "max", "overexposure": "max",
    "dynamic_range": "min", "illumination_uniformity": "min", "colour": "min", "px_per_mm": "min",
    # OFIQ's own measures, judged on their quality component only
    "luminance_variance": "quality", "natural_colour": "quality", "head_size": "quality", "crop_left": "quality",
    "crop_right": "quality", "margin_above": "quality", "margin_below": "quality", "background_uniformity": "quality",
}
OFIQ_ONLY = tuple(name for name, kind in CHECK_KINDS.items() if kind == "quality")
MIN_QUALITY = 50  # OFIQ sets no pass mark; 50 is where most of its sigmoids cross their middle
# Checks a profile measures and reports but does not require for `valid`. Colour (mean chroma C*
# of the face) is needed only by skin colour, so only `strict` (photos for skin analysis) needs it.
# OFIQ's framing and background measures are written for passport-style portraits, not selfies:
# only the `ofiq` profile requires them. px_per_mm (the skin crop's pixels per millimetre, from the
# inter-eye distance) only `skin` requires: analysis-grade selfies for wrinkles and texture (2 px/mm
# and more); the others judge it against what skin colour (normal: 0.5) and spots (strict: 1) need.
NOT_REQUIRED = {"lenient": {"colour", "px_per_mm", *OFIQ_ONLY}, "normal": {"colour", "px_per_mm", *OFIQ_ONLY},
                "strict": {"px_per_mm", *OFIQ_ONLY}, "ofiq": {"colour", "px_per_mm"}, "skin": set(OFIQ_ONLY)}
PROFILES = {
    "lenient": {"face_presence": 0.3, "face_size": 48, "inter_eye_distance": 20, "face_inside_frame": -0.05,
                "yaw": 35, "pitch": 30, "roll": 30, "eyes_open": 0.1, "mouth_closed": 0.5, "sharpness": 5,
                "luminance": [35, 225], "underexposure": 0.3, "overexposure": 0.15, "dynamic_range": 40,
                "illumination_uniformity": 0.5, "colour": 4, "px_per_mm": 0.25},
    "normal": {"face_presence": 0.5, "face_size": 80, "inter_eye_distance": 30, "face_inside_frame": 0.0,
               "yaw": 25, "pitch": 25, "roll": 20, "eyes_open": 0.15, "mouth_closed": 0.35, "sharpness": 15,
               "luminance": [50, 210], "underexposure": 0.15, "overexposure": 0.08, "dynamic_range": 60,
               "illumination_uniformity": 0.65, "colour": 4, "px_per_mm": 0.5},
    "strict": {"face_presence": 0.8, "face_size": 160, "inter_eye_distance": 60, "face_inside_frame": 0.1,
               "yaw": 12, "pitch": 12, "roll": 8, "eyes_open": 0.2, "mouth_closed": 0.2, "sharpness": 40,
               "luminance": [80, 190], "underexposure": 0.05, "overexposure": 0.03, "dynamic_range": 90,
               "illumination_uniformity": 0.8, "colour": 4, "px_per_mm": 1.0},
    # analysis-grade selfies: frontal, even light, sharp, colour, enough px/mm; heavy shine is held
    # back by the clipped-pixel share (overexposure) until validation measures shine itself
    "skin": {"face_presence": 0.8, "face_size": 160, "inter_eye_distance": 60, "face_inside_frame": 0.05,
             "yaw": 12, "pitch": 12, "roll": 10, "eyes_open": 0.15, "mouth_closed": 0.2, "sharpness": 40,
             "luminance": [70, 200], "underexposure": 0.05, "overexposure": 0.02, "dynamic_range": 60,
             "illumination_uniformity": 0.8, "colour": 4, "px_per_mm": 2.0},
}
for _thresholds in PROFILES.values():
    _thresholds.update({name: {"min_quality": MIN_QUALITY} for name in OFIQ_ONLY})
# ofiq: every check with an OFIQ quality component judged on it; the others as in `normal`
PROFILES["ofiq"] = {name: ({"min_quality": MIN_QUALITY} if name in MEASURES else value)
                    for name, value in PROFILES["normal"].items()}
PROFILES["ofiq"]["single_face"] = {"min_quality": MIN_QUALITY}  # elsewhere: exactly one face
MESSAGES = {
    "face_presence": ("The face model confirms a face.", "The face model is not sure this is a face."),
    "face_size": ("The face is large enough.", "The face is too small: come closer or use a larger photo."),
    "inter_eye_distance": ("The eyes are far enough apart in pixels.", "Too few pixels between the eyes."),
    "face_inside_frame": ("The whole face is inside the photo.",
                          "Part of the face is cut off by the photo's border; centre the face."),
    "yaw": ("The face looks at the camera.", "The head is turned sideways; look straight at the camera."),
    "pitch": ("The head is level.", "The head is tilted up or down; hold the camera at eye level."),
    "roll": ("The head is upright.", "The head is tilted to one side; keep it upright."),
    "roll_sideways": (None, "The photo is sideways (the face is turned a quarter); turn it upright."),
    "roll_upside_down": (None, "The photo is upside down; turn it upright."),
    "eyes_open": ("Both eyes are open.", "The eyes look closed; open both eyes."),
    "mouth_closed": ("The mouth is closed enough.", "The mouth is open; close it."),
    "sharpness": ("The face is in focus.", "The face is blurred; hold still and focus on the face."),
    "luminance": ("The face is well lit.", "The face is too dark or too bright."),
    "underexposure": ("Few face pixels are near black.", "Too much of the face is near black; add light."),
    "overexposure": ("Few face pixels are clipped.", "Too much of the face is blown out; avoid direct light."),
    "dynamic_range": ("The face shows enough contrast.", "The face looks flat or washed out."),
    "illumination_uniformity": ("The light is even across the face.",
                                "One side of the face is much darker; face the light."),
    "colour": ("The photo has colour.", "The photo has no colour (grey): skin colour cannot be measured."),
    "luminance_variance": ("The face shows enough variation of light.", "The face's light is too flat or too harsh."),
    "natural_colour": ("The skin colour looks natural.", "The skin colour looks unnatural; check the white balance."),
    "head_size": ("The head fills a portrait's share of the photo.",
                  "The head is too small or too large in the photo for a portrait."),
    "crop_left": ("There is room left of the face.", "The face is too close to the photo's left edge."),
    "crop_right": ("There is room right of the face.", "The face is too close to the photo's right edge."),
    "margin_above": ("There is room above the eyes.", "Too little room above the face."),
    "margin_below": ("There is room below the eyes.", "Too little room below the face."),
    "background_uniformity": ("The background is plain.", "The background is busy; use a plain background."),
    "px_per_mm": ("The skin has enough pixels per millimetre for skin analysis.",
                  "Too few pixels per millimetre on the skin for wrinkles and texture: come closer or use "
                  "the main camera at full resolution."),
}
NOT_MEASURABLE = {"no_segmentation_model": "Not measured: no segmentation model is configured.",
                  "model_unavailable": "Not measured: the segmentation model is unavailable (see /api/diagnostics).",
                  "no_background": "Not measured: no background is visible around the face.",
                  "not_measurable": "Not measured: the face's landmarks do not allow it."}
NOT_MEASURED = "Not measured: no face was found."


@dataclass(frozen=True)
class Check:
    """One quality check as the API reports it."""

    name: str
    passed: bool | None  # None: not measured (see reason)
    value: object
    threshold: object
    message: str
    required: bool = True  # False: reported, but `valid` does not depend on it
    reason: str | None = None  # why a check was not measured ("no_face", "model_unavailable", ...)
    native: dict | None = None  # OFIQ's measure: {"measure", "value", "unit"}
    quality: int | None = None  # OFIQ's 0-100 quality component of `native`

    def to_dict(self):
        """A JSON-ready dict."""
        return asdict(self)


def thresholds_for(profile, overrides=None):
    """A profile's thresholds with setting overrides applied; ValueError for unknown names or values."""
    if profile not in PROFILES:
        raise ValueError(f"unknown quality profile {profile!r}; profiles: {', '.join(PROFILES)}")
    for name, value in (overrides or {}).items():
        if name not in CHECK_KINDS and name != "single_face":
            raise ValueError(f"unknown check {name!r}; checks: single_face, {', '.join(CHECK_KINDS)}")
        if isinstance(value, dict) or CHECK_KINDS.get(name, "quality") == "quality":
            _check_min_quality(name, value)
            continue
        pair = CHECK_KINDS[name] == "range"
        numbers = value if pair and isinstance(value, list) else [value]
        if (pair != isinstance(value, list) or (pair and len(value) != 2)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in numbers)
                or (pair and value[0] > value[1])):
            raise ValueError(f"{name} needs {'[low, high] with low <= high' if pair else 'a finite number'}, "
                             f"not {value!r}")
    return {**PROFILES[profile], **(overrides or {})}


def _check_min_quality(name, value):
    if name not in MEASURES:
        raise ValueError(f"{name} has no OFIQ quality component: it needs a value threshold, not {value!r}")
    q = value.get("min_quality") if isinstance(value, dict) else None
    if (not isinstance(value, dict) or set(value) != {"min_quality"} or isinstance(q, bool)
            or not isinstance(q, (int, float)) or not math.isfinite(q) or not 0 <= q <= 100):
        raise ValueError(f'{name} needs {{"min_quality": 0-100}}, not {value!r}')


def _passes(kind, value, threshold, quality=None):
    if isinstance(threshold, dict):
        return quality >= threshold["min_quality"]
    if kind == "min":
        return value >= threshold
    if kind == "max":
        return value <= threshold
    if kind == "abs_max":
        return abs(value) <= threshold
    return threshold[0] <= value <= threshold[1]


def _message_key(name, value):
    """Roll is measured over the full circle: past 45 degrees the photo is sideways, past 135 upside down."""
    if name == "roll" and value is not None and abs(value) > 45:
        return "roll_upside_down" if abs(value) > 135 else "roll_sideways"
    return name


def _rounded(native):
    return round(float(native), 4) if native is not None else None


def judge(name, value, thresholds, required=True, native=None, reason=None):
    """One Check from a measured value, OFIQ's native value of the same property (None: not
    defined or not measurable, then `reason` says why) and the thresholds in force."""
    threshold = thresholds[name]
    native = _rounded(native)
    quality = quality_component(name, native)
    if CHECK_KINDS[name] == "quality":
        value = native
    if value is None or (isinstance(threshold, dict) and quality is None):
        reason = reason or "not_measurable"
        # an optional model's absence never invalidates a photo: the check is then not required
        return Check(name, None, value, threshold, NOT_MEASURABLE.get(reason, NOT_MEASURABLE["not_measurable"]),
                     required and reason == "not_measurable", reason, native_entry(name, native), quality)
    passed = bool(_passes(CHECK_KINDS[name], value, threshold, quality))
    message = MESSAGES[name][0] if passed else MESSAGES[_message_key(name, value)][1]
    return Check(name, passed, value, threshold, message, required, None, native_entry(name, native), quality)


def is_valid(checks):
    """Valid when every required check was measured and passed."""
    return all(check.passed is True for check in checks if check.required)


def frame_margin(face, width, height):
    """Smallest distance from the face box to the image border, in face sizes (< 0: cut off)."""
    x, y, w, h = face.box
    return min(x, y, width - (x + w), height - (y + h)) / max(face.size, 1e-6)


def run_checks(faces, image_size, measures, thresholds, profile="normal", natives=None, reasons=None):
    """Every check for the primary face (faces[0]); `measures` holds its mesh and pixel measures,
    `natives` OFIQ's native values (None where one could not be measured, `reasons` says why).
    Without a face, face_detected fails and every other check is not measured (passed None)."""
    count = len(faces)
    optional = NOT_REQUIRED.get(profile, set())
    if not faces:
        return [Check("face_detected", False, 0, 1, "No face was found.")] + [
            Check(name, None, None, thresholds.get(name, 1), NOT_MEASURED, name not in optional, "no_face")
            for name in ("single_face", *CHECK_KINDS)]
    natives, reasons = natives or {}, reasons or {}
    single = natives.get("single_face")
    single_quality = quality_component("single_face", _rounded(single))
    if isinstance(thresholds.get("single_face"), dict) and single_quality is not None:
        single_passed = single_quality >= thresholds["single_face"]["min_quality"]
    else:
        single_passed = count == 1
    checks = [
        Check("face_detected", True, count, 1, "A face was found."),
        Check("single_face", single_passed, count, thresholds.get("single_face", 1),
              "Exactly one face." if count == 1 else f"{count} faces were found; the photo must show one person.",
              True, None, native_entry("single_face", _rounded(single)), single_quality),
    ]
    values = {"face_size": round(float(faces[0].size), 1),
              "face_inside_frame": round(frame_margin(faces[0], *image_size), 3), **measures}
    return checks + [judge(name, values.get(name), thresholds, name not in optional, natives.get(name),
                           reasons.get(name)) for name in CHECK_KINDS]
