"""GET and DELETE /api/images/<image_id>: the stored crop as PNG, and the user's right to erase it."""
import io

from flask import send_file
from flask_smorest import Blueprint

from ..image_cache import check_image_id
from ..preprocess.overlay import draw_overlay, geometry_from_dict
from ..security import current_tenant
from ..service import delete_crop, skin_heatmap, stored_png
from .schemas import CONCERN_PARAMETER, IMAGE_ID_PARAMETER, STORED_CROP_ERRORS, error_responses

bp = Blueprint("images", __name__, url_prefix="/api/images", description="Stored square face crops.")


PNG_RESPONSE = {"200": {"description": "PNG", "content": {"image/png": {
    "schema": {"type": "string", "format": "binary"}}}}}


def _png_response(data, etag):
    response = send_file(io.BytesIO(data), mimetype="image/png", etag=etag, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<image_id>", methods=["GET"], parameters=[IMAGE_ID_PARAMETER])
@bp.doc(responses={**PNG_RESPONSE, **error_responses(*STORED_CROP_ERRORS)})
def get_image(image_id):
    """The stored crop as a PNG (verified on read: 404 unknown or expired, 422 corrupt)."""
    data, stored = stored_png(check_image_id(image_id), current_tenant())
    return _png_response(data, stored.metadata["sha256"])


def _overlay(stored):
    """The crop with the face box, the detector's keypoints and the mesh drawn on it."""
    validation = stored.metadata.get("validation") or {}
    face = (validation.get("faces") or [None])[0] if validation.get("crop") else None  # box needs the geometry
    geometry = geometry_from_dict(validation["crop"]) if face else None
    mesh = (stored.metadata.get("landmarks") or {}).get("points")
    return draw_overlay(stored.image, geometry, face, mesh)


@bp.route("/<image_id>/overlay.png", methods=["GET"], parameters=[IMAGE_ID_PARAMETER])
@bp.doc(responses={**PNG_RESPONSE, **error_responses(*STORED_CROP_ERRORS)})
def get_overlay(image_id):
    """The crop with the face box, the detector's keypoints and the 468-point mesh drawn on it."""
    data, stored = stored_png(check_image_id(image_id), current_tenant(), _overlay)
    return _png_response(data, stored.metadata["sha256"] + "-overlay")


@bp.route("/<image_id>/skin/<concern>.png", methods=["GET"], parameters=[IMAGE_ID_PARAMETER, CONCERN_PARAMETER])
@bp.doc(responses={**PNG_RESPONSE, **error_responses(
    *STORED_CROP_ERRORS, "unknown_concern", "no_landmarks", "model_unavailable")})
def get_skin_heatmap(image_id, concern):
    """A skin concern's heatmap on the crop (wrinkles, spots, pores, texture, redness, dark_circles,
    shine, tone); a concern that could not be measured gives the crop dimmed, and the headers
    X-Skin-Available and X-Skin-Reason say so."""
    data, result, stored = skin_heatmap(check_image_id(image_id), current_tenant(), concern)
    response = _png_response(data, f"{stored.metadata['sha256']}-skin-{concern}")
    response.headers["X-Skin-Available"] = "true" if result.get("available") else "false"
    if not result.get("available"):
        response.headers["X-Skin-Reason"] = result.get("reason", "")
    return response


@bp.route("/<image_id>", methods=["DELETE"], parameters=[IMAGE_ID_PARAMETER])
@bp.response(204)
@bp.doc(responses=error_responses("invalid_image_id", "image_not_found", "cache_unavailable"))
def delete_image(image_id):
    """Erase a stored crop now (privacy); 404 when nothing was stored under the id."""
    delete_crop(check_image_id(image_id), current_tenant())
    return ""
