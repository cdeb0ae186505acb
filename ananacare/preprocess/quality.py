"""Quality checks on the chosen face, in the manner of ISO/IEC 29794-5: each check says what was
measured, against what threshold, and why it passed or failed. Thresholds come in three profiles
(lenient, normal, strict) and one for skin analysis (skin), selectable per request, and each can
be overridden in settings.

`passed` is true or false for a measured check and null (None) for one that could not be measured
(no face: nothing to measure), with `reason` saying why. A check a profile does not require
(`required: false`, e.g. `colour` outside `strict`) is measured and judged but does not decide
`valid`."""
from dataclasses import asdict, dataclass

# kind: "min" value >= t; "max" value <= t; "abs_max" |value| <= t; "range" t[0] <= value <= t[1]
CHECK_KINDS = {
    "face_presence": "min", "face_size": "min", "inter_eye_distance": "min", "face_inside_frame": "min",
    "yaw": "abs_max", "pitch": "abs_max", "roll": "abs_max", "eyes_open": "min", "mouth_closed": "max",
    "sharpness": "min", "luminance": "range", "underexposure": "max", "overexposure": "max",
    "dynamic_range": "min", "illumination_uniformity": "min", "colour": "min", "px_per_mm": "min",
}
# Checks a profile measures and reports but does not require for `valid`. Colour (mean chroma C*
# of the face) is needed only by skin colour, so only `strict` (photos for skin analysis) needs it.
# px_per_mm (the skin crop's pixels per millimetre, from the inter-eye distance) only `skin` needs:
# analysis-grade selfies for wrinkles and texture (2 px/mm and more); the others judge it against
# what skin colour (normal: 0.5) and spots (strict: 1) need, without requiring it.
NOT_REQUIRED = {"lenient": {"colour", "px_per_mm"}, "normal": {"colour", "px_per_mm"}, "strict": {"px_per_mm"},
                "skin": set()}
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
    "px_per_mm": ("The skin has enough pixels per millimetre for skin analysis.",
                  "Too few pixels per millimetre on the skin for wrinkles and texture: come closer or use "
                  "the main camera at full resolution."),
}
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
    reason: str | None = None  # why a check was not measured ("no_face")

    def to_dict(self):
        """A JSON-ready dict."""
        return asdict(self)


def thresholds_for(profile, overrides=None):
    """A profile's thresholds with setting overrides applied; ValueError for unknown names or values."""
    if profile not in PROFILES:
        raise ValueError(f"unknown quality profile {profile!r}; profiles: {', '.join(PROFILES)}")
    for name, value in (overrides or {}).items():
        if name not in CHECK_KINDS:
            raise ValueError(f"unknown check {name!r}; checks: {', '.join(CHECK_KINDS)}")
        pair = CHECK_KINDS[name] == "range"
        if pair != isinstance(value, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value if pair else [value])):
            raise ValueError(f"{name} needs {'[low, high]' if pair else 'a number'}, not {value!r}")
    return {**PROFILES[profile], **(overrides or {})}


def _passes(kind, value, threshold):
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


def judge(name, value, thresholds, required=True):
    """One Check from a measured value and the thresholds in force."""
    threshold = thresholds[name]
    passed = bool(_passes(CHECK_KINDS[name], value, threshold))
    message = MESSAGES[name][0] if passed else MESSAGES[_message_key(name, value)][1]
    return Check(name, passed, value, threshold, message, required)


def is_valid(checks):
    """Valid when every required check was measured and passed."""
    return all(check.passed is True for check in checks if check.required)


def frame_margin(face, width, height):
    """Smallest distance from the face box to the image border, in face sizes (< 0: cut off)."""
    x, y, w, h = face.box
    return min(x, y, width - (x + w), height - (y + h)) / max(face.size, 1e-6)


def run_checks(faces, image_size, measures, thresholds, profile="normal"):
    """Every check for the primary face (faces[0]); `measures` holds its mesh and pixel measures.
    Without a face, face_detected fails and every other check is not measured (passed None)."""
    count = len(faces)
    optional = NOT_REQUIRED.get(profile, set())
    if not faces:
        return [Check("face_detected", False, 0, 1, "No face was found.")] + [
            Check(name, None, None, thresholds.get(name, 1), NOT_MEASURED, name not in optional, "no_face")
            for name in ("single_face", *CHECK_KINDS)]
    checks = [
        Check("face_detected", True, count, 1, "A face was found."),
        Check("single_face", count == 1, count, 1, "Exactly one face." if count == 1 else
              f"{count} faces were found; the photo must show one person."),
    ]
    values = {"face_size": round(float(faces[0].size), 1),
              "face_inside_frame": round(frame_margin(faces[0], *image_size), 3), **measures}
    return checks + [judge(name, values[name], thresholds, name not in optional) for name in CHECK_KINDS]
