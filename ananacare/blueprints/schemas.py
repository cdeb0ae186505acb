"""Marshmallow schemas shared by the blueprints: they shape responses and the OpenAPI document."""
from marshmallow import Schema, fields

from ..errors import ERROR_CODES
from ..quality.checks import PROFILES
from ..skin import CONCERNS

IMAGE_ID_PATTERN = "^[0-9a-f]{32}$"
IMAGE_ID_PARAMETER = {"in": "path", "name": "image_id", "required": True,
                      "schema": {"type": "string", "pattern": IMAGE_ID_PATTERN},
                      "description": "32 lowercase hex characters, from a validate or analyze answer"}
CONCERN_PARAMETER = {"in": "path", "name": "concern", "required": True,
                     "schema": {"type": "string", "enum": list(CONCERNS)}, "description": "a skin concern"}
# What every upload or JSON body can meet before a view runs (ananacare/request_body.py).
BODY_ERRORS = ("incomplete_body", "request_timeout", "payload_too_large", "server_busy")
UPLOAD_ERRORS = ("missing_image", "multiple_images", "invalid_profile", "bad_request", *BODY_ERRORS,
                 "image_too_large", "unsupported_media_type", "undecodable_image", "image_structure_refused",
                 "model_unavailable", "cache_unavailable", "work_timeout", "store_quota_exceeded")
STORED_CROP_ERRORS = ("invalid_image_id", "image_not_found", "corrupt_cache_entry", "cache_unavailable",
                      "work_timeout")


def error_responses(*codes):
    """OpenAPI responses for these error codes (errors.ERROR_CODES), grouped by HTTP status: the one
    error shape, its `code` limited to the codes the status can carry here, each code's meaning in
    the description."""
    by_status = {}
    for code in dict.fromkeys(codes):
        status, _ = ERROR_CODES[code]
        by_status.setdefault(str(status), []).append(code)
    return {status: error_response(listed) for status, listed in sorted(by_status.items())}


def error_response(codes):
    """One status's OpenAPI response: the error shape with `code` one of `codes`."""
    return {
        "description": "; ".join(f"`{code}`: {ERROR_CODES[code][1]}" for code in codes),
        "content": {"application/json": {"schema": {"allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string", "enum": list(codes)}}}}},
        ]}}},
    }


IMAGE_BODY = {
    "description": "The photo: multipart field `image`, or the raw bytes with an image Content-Type.",
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["image"],
                                           "properties": {"image": {"type": "string", "format": "binary"}}}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/webp": {"schema": {"type": "string", "format": "binary"}},
    },
}


PROFILE_PARAMETER = {"in": "query", "name": "profile", "required": False,
                     "schema": {"type": "string", "enum": list(PROFILES)},
                     "description": "quality profile (default from settings); also a multipart field"}


class NativeSchema(Schema):
    measure = fields.String(metadata={"description": "the OFIQ (ISO/IEC 29794-5) measure, e.g. HeadSize"})
    value = fields.Float(metadata={"description": "its native value, by OFIQ's definition on our landmarks"})
    unit = fields.String()


class CheckSchema(Schema):
    name = fields.String(required=True)
    passed = fields.Boolean(required=True, allow_none=True,
                            metadata={"description": "true/false when measured; null when it could not be "
                                                     "measured (then `reason` says why, e.g. no_face)"})
    value = fields.Raw(allow_none=True, metadata={"description": "what was measured; null when not measured"})
    threshold = fields.Raw(allow_none=True, metadata={
        "description": "in the value's units (a number, or [low, high]), or {\"min_quality\": q}: judged on quality"})
    message = fields.String()
    required = fields.Boolean(metadata={"description": "false: reported, but `valid` does not depend on it "
                                                       "(the profile does not need it, e.g. colour outside strict)"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why the check was not measured: no_face, no_segmentation_model, model_unavailable, "
                       "no_background, not_measurable"})
    native = fields.Nested(NativeSchema, allow_none=True, metadata={
        "description": "OFIQ's native value of this property; null where OFIQ has no such measure"})
    quality = fields.Integer(allow_none=True, metadata={
        "description": "OFIQ's 0-100 quality component of `native`; null without one"})


class BoxSchema(Schema):
    x = fields.Float()
    y = fields.Float()
    width = fields.Float()
    height = fields.Float()


class FaceSchema(Schema):
    box = fields.Nested(BoxSchema)
    score = fields.Float()
    keypoints = fields.Dict(keys=fields.String(), values=fields.List(fields.Float()),
                            metadata={"description": "right_eye, left_eye, nose_tip, mouth_center, "
                                                     "right_ear_tragion, left_ear_tragion as [x, y]"})


class ImageFactsSchema(Schema):
    format = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    mode = fields.String()
    orientation = fields.Integer()


class CropFactsSchema(Schema):
    center = fields.List(fields.Float())
    side = fields.Float()
    angle_degrees = fields.Float()
    size = fields.Integer()


class DetectionSchema(Schema):
    exhaustive = fields.Boolean(required=True, metadata={
        "description": "false when the face search stopped at its budget of model runs (MAX_SEARCH_MODEL_RUNS): "
                       "`faces` may be short, and face_detected / single_face say reason search_not_exhaustive"})
    search_model_runs = fields.Integer(metadata={"description": "model runs the face search took"})


class ValidationSchema(Schema):
    valid = fields.Boolean(required=True)
    image_id = fields.String(allow_none=True, metadata={"description": "32 hex chars; null when no face"})
    profile = fields.String(metadata={"description": "the quality profile the checks used"})
    checks = fields.List(fields.Nested(CheckSchema))
    faces = fields.List(fields.Nested(FaceSchema), metadata={"description": "source pixels, after EXIF orientation"})
    detection = fields.Nested(DetectionSchema)
    image = fields.Nested(ImageFactsSchema)
    crop = fields.Nested(CropFactsSchema, allow_none=True)


class LandmarksSchema(Schema):
    points = fields.Raw(metadata={"description": "468 [x, y, z] points in crop pixels"})
    face_flag = fields.Float()
    count = fields.Integer()


class MeasurementsSchema(Schema):
    crop_mean_luminance = fields.Float(metadata={"description": "mean luma (0-255) of the crop's face box"})
    crop_sharpness = fields.Float(metadata={
        "description": "variance of the Laplacian of the crop's face box at crop scale (every 2nd pixel); "
                       "not the `sharpness` check, which is measured on the face at the mesh model's 128 px"})


class PredictionSchema(Schema):
    label = fields.String()
    score = fields.Float()


class ModelResultSchema(Schema):
    predictions = fields.List(fields.Nested(PredictionSchema), metadata={"description": "classifiers: top-k"})
    output = fields.String(metadata={"description": "the output the predictions come from"})
    outputs = fields.Dict(keys=fields.String(), values=fields.List(fields.Float()),
                          metadata={"description": "other models: every output, flattened"})


class EyeRatiosSchema(Schema):
    right = fields.Float()
    left = fields.Float()


class PoseSchema(Schema):
    yaw = fields.Float(metadata={"description": "degrees; > 0: turned towards the image's right"})
    pitch = fields.Float(metadata={"description": "degrees; > 0: chin up"})
    roll = fields.Float(metadata={"description": "degrees in the original photo; > 0: subject's left eye lower"})
    eye_aspect_ratio = fields.Nested(EyeRatiosSchema)
    mouth_opening = fields.Float()


class GeometrySchema(Schema):
    width_to_height = fields.Float()
    symmetry = fields.Float(metadata={"description": "1 = mirrored landmark pairs coincide"})


class SkinColourSchema(Schema):
    lab = fields.List(fields.Float(), metadata={"description": "mean CIE L*a*b* (D65)"})
    ita = fields.Float(metadata={"description": "Individual Typology Angle as photographed, degrees"})
    ita_corrected = fields.Float(allow_none=True, metadata={
        "description": "overall only: ITA under the white reference of the eyes (null: the eyes give none)"})
    ita_category = fields.String(allow_none=True, metadata={
        "description": "overall only: the ITA skin type from ita_corrected; null when there is no white reference "
                       "(see the tone concern's category_reason)"})
    redness = fields.Float(metadata={"description": "mean a*"})
    evenness = fields.Float(metadata={"description": "standard deviation of L* about its local mean (8 mm): "
                                                     "blotchiness, not shading; lower is more even"})
    pixels = fields.Integer()


class SkinScaleSchema(Schema):
    px_per_mm = fields.Float(metadata={"description": "pixels per millimetre on the analysed skin image"})
    method = fields.String(metadata={"description": "iris (11.7 mm visible iris) or inter_eye_distance (63 mm)"})
    reference_mm = fields.Float()
    iris = fields.String(metadata={"description": "why the iris was not used (fallback only)"})
    iris_px = fields.List(fields.Float(), metadata={"description": "iris diameters, right and left eye"})
    inter_eye_px = fields.Float()
    inter_eye_mm = fields.Float(metadata={"description": "the eye distance measured by the iris scale"})


class SkinSchema(Schema):
    available = fields.Boolean(metadata={"description": "false: no skin colour is reported (see reason)"})
    reason = fields.String(metadata={"description": "no_colour (a grey photo: chroma under 4), no_skin_pixels"})
    chroma = fields.Float(metadata={"description": "mean CIE C* over the skin regions (skin: about 10-30)"})
    scale = fields.Nested(SkinScaleSchema)
    image = fields.Dict(metadata={"description": "width, height of the analysed skin image; source_resolution: "
                                                 "false for an entry stored without its skin crop"})
    coverage = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "per region: skin share, measured, reason (covered_by_hair, beard_or_shadow, ...)"})
    regions = fields.Dict(keys=fields.String(), values=fields.Nested(SkinColourSchema),
                          metadata={"description": "colour of the measured regions (forehead, nose, chin, cheeks)"})
    overall = fields.Nested(SkinColourSchema, allow_none=True)
    concerns = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "wrinkles, spots, pores, texture, redness, dark_circles, shine, tone; each: available "
                       "(false: reason, e.g. resolution_too_low with min_px_per_mm), method, value, unit, score "
                       "(0-100, 100 = best), severity (none, mild, moderate, severe), min_px_per_mm, regions, and "
                       "the concern's own extras (docs/api.md: Skin concerns)"})


class ResultsSchema(Schema):
    landmarks = fields.Nested(LandmarksSchema)
    pose = fields.Nested(PoseSchema)
    geometry = fields.Nested(GeometrySchema)
    skin = fields.Nested(SkinSchema, allow_none=True)
    measurements = fields.Nested(MeasurementsSchema)
    models = fields.Dict(keys=fields.String(), values=fields.Nested(ModelResultSchema))


class AnalysisSchema(Schema):
    image_id = fields.String(required=True)
    validation = fields.Nested(ValidationSchema, allow_none=True)
    results = fields.Nested(ResultsSchema)
    unavailable = fields.Dict(keys=fields.String(), values=fields.Raw())


class ByIdRequestSchema(Schema):
    image_id = fields.String(required=True, metadata={"description": "from a validate or analyze response"})
    models = fields.List(fields.String(), metadata={"description": "analyzer models to run (default: all)"})


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
    request_id = fields.String()


class HealthSchema(Schema):
    status = fields.String()


class ReadinessSchema(Schema):
    ready = fields.Boolean()
    pid = fields.Integer()
    reasons = fields.List(fields.Dict(), metadata={"description": "per required model not ready: "
                                                                  "model, status; a failed one also stage and "
                                                                  "verdict (its error: /api/diagnostics)"})


class ModelSummarySchema(Schema):
    name = fields.String()
    runtime = fields.String()
    role = fields.String()
    required = fields.Boolean()
    source = fields.String()
    sha256_pin = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    file = fields.Dict(allow_none=True, metadata={"description": "path, size, sha256, head_hex, verdict, problem"})
    status = fields.String(metadata={"description": "not_loaded | loading | ready | failed"})
    failed_stage = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    load_seconds = fields.Float(allow_none=True)
    last_used = fields.Float(allow_none=True)
    inference_count = fields.Integer()


class ModelDetailSchema(ModelSummarySchema):
    inputs = fields.List(fields.Dict(), allow_none=True, metadata={"description": "name, shape, dtype"})
    outputs = fields.List(fields.Dict(), allow_none=True)
    labels = fields.List(fields.String())
    preprocessing = fields.Dict()
    params = fields.Dict()
    threads = fields.Integer(allow_none=True)
    top_k = fields.Integer()


class DiagnosticsSchema(Schema):
    app_version = fields.String()
    python = fields.String()
    platform = fields.String()
    pid = fields.Integer()
    packages = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    tflite_runtime = fields.String()
    hugging_face = fields.Dict()
    crop_cache = fields.Dict()
    ready = fields.Boolean()
    not_ready_reasons = fields.List(fields.Dict())
    models = fields.List(fields.Nested(ModelSummarySchema))
