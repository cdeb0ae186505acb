"""POST /api/validate/image: is this photo usable, and where is its square face crop."""
from flask_smorest import Blueprint

from ..security import current_tenant
from ..service import validate_and_store
from .common import requested_profile, uploaded_image_bytes
from .schemas import IMAGE_BODY, PROFILE_PARAMETER, UPLOAD_ERRORS, ValidationSchema, error_responses

bp = Blueprint("validate", __name__, url_prefix="/api/validate",
               description="Check a face photo and keep its square, upright face crop.")


@bp.route("/image", methods=["POST"])
@bp.doc(requestBody=IMAGE_BODY, parameters=[PROFILE_PARAMETER], responses=error_responses(*UPLOAD_ERRORS))
@bp.response(200, ValidationSchema)
def validate_image_route():
    """Validate a photo; a photo that fails quality is `valid: false`, not an error."""
    profile = requested_profile()
    return validate_and_store(uploaded_image_bytes(), current_tenant(), profile).to_dict()
