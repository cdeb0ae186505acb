"""POST /api/analyze/image and /api/analyze/by-id: face analysis on the square crop."""
from flask import request
from flask_smorest import Blueprint

from ..errors import ApiError
from ..image_cache import check_image_id, crop_store
from ..models import model_registry
from ..preprocess import analyze_crop
from .common import pipeline_settings, validate_upload
from .schemas import IMAGE_BODY, AnalysisSchema, ByIdRequestSchema

bp = Blueprint("analyze", __name__, url_prefix="/api/analyze",
               description="Analyse the face in a photo, or in a crop kept from an earlier call.")


@bp.route("/image", methods=["POST"])
@bp.doc(requestBody=IMAGE_BODY)
@bp.response(200, AnalysisSchema)
def analyze_image_route():
    """Validate the photo (same pipeline as validate), store its crop, analyse it."""
    validation = validate_upload()
    if validation.crop is None:
        raise ApiError("no_face_detected", "No face was found in the photo.", 422,
                       {"checks": [check.to_dict() for check in validation.checks]})
    results = analyze_crop(validation.crop, model_registry(), pipeline_settings().crop_margin)
    return {"image_id": validation.image_id, "validation": validation.to_dict(), "results": results,
            "unavailable": {}}


def _requested_image_id():
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError("invalid_json", 'Send a JSON object such as {"image_id": "..."} with '
                       "Content-Type application/json.", 400)
    if not isinstance(payload, dict) or "image_id" not in payload:
        raise ApiError("invalid_request", "The JSON body needs an `image_id` field.", 400,
                       {"image_id": ["Missing data for required field."]})
    return check_image_id(payload["image_id"])


@bp.route("/by-id", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ByIdRequestSchema}}})
@bp.response(200, AnalysisSchema)
def analyze_by_id_route():
    """Analyse a crop stored by an earlier validate or analyze call."""
    image_id = _requested_image_id()
    stored = crop_store().get(image_id)
    margin = stored.metadata["settings"]["margin"]
    results = analyze_crop(stored.image, model_registry(), margin)
    return {"image_id": image_id, "validation": None, "results": results, "unavailable": {}}
