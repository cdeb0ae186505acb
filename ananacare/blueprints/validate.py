"""POST /api/validate/image: is this photo usable, and where is its square face crop."""
from flask_smorest import Blueprint

from .common import validate_upload
from .schemas import IMAGE_BODY, ValidationSchema

bp = Blueprint("validate", __name__, url_prefix="/api/validate",
               description="Check a face photo and keep its square, upright face crop.")


@bp.route("/image", methods=["POST"])
@bp.doc(requestBody=IMAGE_BODY)
@bp.response(200, ValidationSchema)
def validate_image_route():
    """Validate a photo; a photo that fails quality is `valid: false`, not an error."""
    return validate_upload().to_dict()
