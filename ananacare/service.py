"""The use cases that HTTP and the CLI share: validate-and-store, analyze an upload or a stored crop.

One function each, so the blueprints and `flask analyze` run the same code. It works on bytes, ids
and the calling tenant (ananacare.tenancy), never on a request; the current app's registry, crop
store and settings are used. Every crop is stored and looked up in its tenant's namespace.
"""
import logging
import math

from flask import current_app

from .errors import ApiError
from .image_cache import crop_store
from .image_cache.base import EncodedSkin, not_found, start_blocking
from .models import model_registry
from .observability import current_timer, metrics
from .preprocess import PipelineSettings, analyze_crop, validate_image
from .preprocess.landmarks import Mesh
from .skin import CONCERNS, analyze_skin
from .skin.heatmaps import render_heatmap

log = logging.getLogger(__name__)


def pipeline_settings(profile=None):
    """The pipeline settings of the current app, with the request's quality profile if any."""
    return PipelineSettings.from_config(current_app.config, profile)


def validate_and_store(data, tenant, profile=None):
    """Run the validate pipeline on a photo's bytes and store the crop when a face was found."""
    return _validate_and_store(data, tenant, pipeline_settings(profile))


def _validate_and_store(data, tenant, settings):
    validation, stored = _validate_and_start_storing(data, tenant, settings)
    if validation.crop is not None:
        with current_timer().stage("store"):
            stored()
    return validation


def _validate_and_start_storing(data, tenant, settings):
    """(validation, a function that stores its crops): the skin crop's encoding, most of a put's time,
    starts at once on another thread, so a caller can analyse meanwhile (analyze_upload does)."""
    image_id = tenant.image_id(data, settings.crop_settings())
    validation = validate_image(data, model_registry(), settings, current_timer(), image_id)
    if validation.crop is None:
        return validation, lambda: None
    encoded = start_blocking(EncodedSkin.of, validation.skin_crop) if validation.skin_crop is not None else None
    metadata = {"tenant": tenant.name, "settings": settings.crop_settings(), "validation": validation.to_dict(),
                "landmarks": validation.mesh.to_dict(decimals=3)}

    def store():
        crop_store().put(image_id, validation.crop, metadata, tenant.namespace, skin=encoded() if encoded else None)
    return validation, store


def analyze_upload(data, tenant, models=None, profile=None):
    """Validate and store a photo, then analyse its crop; 422 `no_face_detected` without a face. The
    answer waits until the crop is stored (its image_id is usable at once)."""
    settings = pipeline_settings(profile)
    validation, stored = _validate_and_start_storing(data, tenant, settings)
    if validation.crop is None:
        raise ApiError("no_face_detected", "No face was found in the photo.", 422,
                       {"checks": [check.to_dict() for check in validation.checks]})
    try:
        with current_timer().stage("analyze"):
            results, unavailable = analyze_crop(validation.crop, model_registry(), settings.crop_margin, models,
                                                math.degrees(validation.geometry.angle), validation.mesh)
        with current_timer().stage("skin"):
            results["skin"] = skin_results(validation.crop, validation.skin_crop, validation.mesh)
    except Exception:
        try:  # the crop is valid and stored as validate would; the analysis's error is the answer
            stored()
        except Exception:
            log.warning("storing the crop failed beside a failed analysis", exc_info=True)
        raise
    with current_timer().stage("store"):
        stored()
    return {"image_id": validation.image_id, "validation": validation.to_dict(), "results": results,
            "unavailable": unavailable}


def analyze_stored(image_id, tenant, models=None):
    """Analyse a crop the tenant stored by an earlier call (404 unknown or another's, 422 corrupt)."""
    stored = load_crop(image_id, tenant)
    margin = stored.metadata["settings"]["margin"]
    angle = ((stored.metadata.get("validation") or {}).get("crop") or {}).get("angle_degrees", 0.0)
    mesh = Mesh.from_dict(stored.metadata["landmarks"]) if "landmarks" in stored.metadata else None
    with current_timer().stage("analyze"):
        results, unavailable = analyze_crop(stored.image, model_registry(), margin, models, angle, mesh)
    if mesh is None and "landmarks" in results:
        mesh = Mesh.from_dict(results["landmarks"])
    with current_timer().stage("skin"):
        results["skin"] = skin_results(stored.image, stored.skin, mesh)
    return {"image_id": image_id, "validation": None, "results": results, "unavailable": unavailable}


def skin_results(crop, skin_crop, mesh, concerns=None, heatmaps=False):
    """Skin analysis on the skin crop (source resolution), or on the square crop for an entry stored
    without one (then the resolution-bound concerns say so). None without a mesh."""
    if mesh is None:
        return None
    image = skin_crop if skin_crop is not None else crop
    points = mesh.points * (image.width / crop.width)
    iris = model_registry().names_with_role("iris")
    return analyze_skin(image, points, concerns=concerns, heatmaps=heatmaps, source_resolution=skin_crop is not None,
                        registry=model_registry(), iris_name=iris[0] if iris else None)


def skin_heatmap(image_id, tenant, concern):
    """A concern's heatmap drawn on the tenant's stored crop (PIL image, the crop's size)."""
    if concern not in CONCERNS:
        raise ApiError("unknown_concern", f"No skin concern {concern[:40]!r}; concerns: {', '.join(CONCERNS)}", 404,
                       {"concerns": list(CONCERNS)})
    stored = load_crop(image_id, tenant)
    if "landmarks" not in stored.metadata:
        raise ApiError("no_landmarks", "This crop was stored without its landmarks; validate the photo again.", 422)
    mesh = Mesh.from_dict(stored.metadata["landmarks"])
    with current_timer().stage("skin"):
        body, maps = skin_results(stored.image, stored.skin, mesh, [concern], heatmaps=True)
    result = body["concerns"].get(concern) or {"available": False, "reason": body.get("reason") or "no_skin_pixels"}
    return render_heatmap(stored.image, maps.get(concern), result, concern), body, stored


_LOOKUP_RESULTS = {404: "miss", 422: "corrupt", 503: "error"}


def load_crop(image_id, tenant):
    """The tenant's stored crop by id, counted as a crop-store hit, miss, corrupt entry or error."""
    store = crop_store()
    try:
        with current_timer().stage("load"):
            stored = store.get(image_id, tenant.namespace)
    except ApiError as error:
        if error.status in _LOOKUP_RESULTS:
            metrics().crop_lookups.labels(store.backend, _LOOKUP_RESULTS[error.status]).inc()
        raise
    metrics().crop_lookups.labels(store.backend, "hit").inc()
    return stored


def delete_crop(image_id, tenant):
    """Erase the tenant's crop now; 404 when it holds nothing under the id."""
    if not crop_store().delete(image_id, tenant.namespace):
        raise not_found(image_id, "unknown or already deleted")
