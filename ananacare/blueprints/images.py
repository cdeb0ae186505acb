"""GET and DELETE /api/images/<image_id>: the stored crop as PNG, and the user's right to erase it."""
import io

from flask import send_file
from flask_smorest import Blueprint

from ..image_cache import check_image_id, crop_store
from ..image_cache.base import not_found
from ..service import load_crop

bp = Blueprint("images", __name__, url_prefix="/api/images", description="Stored square face crops.")


@bp.route("/<image_id>", methods=["GET"])
@bp.doc(responses={"200": {"description": "The square crop", "content": {"image/png": {
    "schema": {"type": "string", "format": "binary"}}}}})
def get_image(image_id):
    """The stored crop as a PNG (verified on read: 404 unknown or expired, 422 corrupt)."""
    stored = load_crop(check_image_id(image_id))
    buffer = io.BytesIO()
    stored.image.save(buffer, format="PNG", compress_level=1)
    buffer.seek(0)
    response = send_file(buffer, mimetype="image/png", etag=stored.metadata["sha256"], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<image_id>", methods=["DELETE"])
@bp.response(204)
def delete_image(image_id):
    """Erase a stored crop now (privacy); 404 when nothing was stored under the id."""
    store = crop_store()
    if not store.delete(check_image_id(image_id)):
        raise not_found(image_id, "unknown or already deleted")
    return ""
