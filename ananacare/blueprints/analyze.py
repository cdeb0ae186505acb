"""POST /api/analyze/image and /api/analyze/by-id: face analysis on the square crop."""
from flask import request
from flask_smorest import Blueprint

from ..errors import ApiError
from ..image_cache import check_image_id
from ..security import current_tenant
from ..service import analyze_stored, analyze_upload
from .common import parse_json_body, requested_profile, uploaded_image_bytes
from .schemas import (BODY_ERRORS, IMAGE_BODY, PROFILE_PARAMETER, STORED_CROP_ERRORS, UPLOAD_ERRORS, AnalysisSchema,
                      ByIdRequestSchema, error_responses)

MODEL_ERRORS = ("unknown_model", "not_an_analyzer", "model_unavailable")

bp = Blueprint("analyze", __name__, url_prefix="/api/analyze",
               description="Analyse the face in a photo, or in a crop kept from an earlier call.")


@bp.route("/image", methods=["POST"])
@bp.doc(requestBody=IMAGE_BODY, parameters=[PROFILE_PARAMETER, {
    "in": "query", "name": "models", "required": False, "schema": {"type": "string"},
    "description": "comma-separated analyzer models to run (default: all); also a multipart field"}],
        responses=error_responses(*UPLOAD_ERRORS, *MODEL_ERRORS, "no_face_detected"))
@bp.response(200, AnalysisSchema)
def analyze_image_route():
    """Validate the photo (same pipeline as validate), store its crop, analyse it."""
    profile = requested_profile()
    data = uploaded_image_bytes()
    return analyze_upload(data, current_tenant(), _models_from_form_or_query(), profile)


@bp.route("/by-id", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ByIdRequestSchema}}},
        responses=error_responses("invalid_json", "invalid_request", *BODY_ERRORS, *STORED_CROP_ERRORS, *MODEL_ERRORS))
@bp.response(200, AnalysisSchema)
def analyze_by_id_route():
    """Analyse a crop stored by an earlier validate or analyze call."""
    image_id, models = _by_id_payload()
    return analyze_stored(image_id, current_tenant(), models)


def _models_from_form_or_query():
    """`models` as repeated or comma-separated form fields or query parameters; None if absent."""
    values = request.form.getlist("models") + request.args.getlist("models")
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _by_id_payload():
    payload = parse_json_body()
    if payload is None:
        raise ApiError("invalid_json", 'Send a JSON object such as {"image_id": "..."} with '
                       "Content-Type application/json.", 400)
    if not isinstance(payload, dict) or "image_id" not in payload:
        raise ApiError("invalid_request", "The JSON body needs an `image_id` field.", 400,
                       {"image_id": ["Missing data for required field."]})
    models = payload.get("models")
    if models is not None and (not isinstance(models, list) or not all(isinstance(m, str) for m in models)):
        raise ApiError("invalid_request", "`models` must be a list of model names.", 400,
                       {"models": ["Not a list of strings."]})
    return check_image_id(payload["image_id"]), models
