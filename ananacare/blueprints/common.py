"""HTTP input shared by the blueprints (below them; blueprints never import each other)."""
import json

from flask import request

from ..errors import ApiError
from ..quality.checks import PROFILES

RAW_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def uploaded_image_bytes():
    """The uploaded photo's bytes: multipart field `image` or a raw image body."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        files = request.files.getlist("image")
        if not files:
            raise ApiError("missing_image", "Send the photo in the multipart field `image`.", 400,
                           {"received_files": _field_names(request.files),
                            "received_fields": _field_names(request.form)})
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


def _field_names(multidict, limit=20):
    """The first few field names of a form, as strings (clients send odd ones)."""
    return sorted({str(name)[:100] for name in multidict.keys()})[:limit]


def requested_profile():
    """The quality profile named by `?profile=` or a form field `profile`; None for the default."""
    profile = request.args.get("profile")
    if profile is None and request.mimetype == "multipart/form-data":
        profile = request.form.get("profile")
    if profile is not None and profile not in PROFILES:
        raise ApiError("invalid_profile", f"Unknown quality profile {profile[:40]!r}.", 400,
                       {"profiles": list(PROFILES)})
    return profile


def parse_json_body():
    """The JSON body as Python data; None when it is absent or not JSON (too deep a nesting included)."""
    if not request.is_json:
        return None
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return None
