"""What the blueprints share, below them: reading an upload, and validate-then-store.

Blueprints never import each other; validate and analyze both call `validate_upload()`.
"""
from flask import current_app, request

from ..errors import ApiError
from ..image_cache import crop_store
from ..models import model_registry
from ..preprocess import PipelineSettings, validate_image

RAW_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def pipeline_settings():
    """The pipeline settings of the current app."""
    return PipelineSettings.from_config(current_app.config)


def uploaded_image_bytes():
    """The uploaded photo's bytes: multipart field `image` or a raw image body."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        files = request.files.getlist("image")
        if not files:
            raise ApiError("missing_image", "Send the photo in the multipart field `image`.", 400,
                           {"received_files": sorted(request.files.keys()),
                            "received_fields": sorted(request.form.keys())})
        if len(files) > 1:
            raise ApiError("multiple_images", "Send exactly one photo per request.", 400, {"count": len(files)})
        data = files[0].read()
    elif mimetype in RAW_IMAGE_TYPES:
        data = request.get_data(cache=False)
    elif not mimetype and not request.content_length:
        raise ApiError("missing_image", "Send a photo: multipart field `image`, or the raw bytes with "
                       "Content-Type image/jpeg, image/png or image/webp.", 400)
    else:
        raise ApiError("unsupported_media_type", f"Content-Type {mimetype or 'none'} is not accepted.", 415,
                       {"accepted": ["multipart/form-data", *RAW_IMAGE_TYPES]})
    if not data:
        raise ApiError("missing_image", "The uploaded photo is empty.", 400)
    return data


def validate_upload():
    """Run the validate pipeline on the request's photo and store the crop when a face was found."""
    settings = pipeline_settings()
    validation = validate_image(uploaded_image_bytes(), model_registry(), settings)
    if validation.crop is not None:
        crop_store().put(validation.image_id, validation.crop,
                         {"settings": settings.crop_settings(), "validation": validation.to_dict()})
    return validation
