"""The use cases that HTTP and the CLI share: validate-and-store, analyze an upload or a stored crop.

One function each, so the blueprints and `flask analyze` run the same code. It works on bytes, ids
and the calling tenant (ananacare.tenancy), never on a request; the current app's registry, crop
store and settings are used. Every crop is stored and looked up in its tenant's namespace.
"""
import io
import logging
import math

from flask import current_app

from .errors import ApiError
from .image_cache import crop_store
from .image_cache.base import EncodedSkin, not_found
from .models import BudgetedRegistry, model_registry
from .observability import current_timer, metrics
from .offload import in_real_thread, start_blocking
from .preprocess import PipelineSettings, analyze_crop, validate_image
from .preprocess.analysis import check_requested_models
from .preprocess.crop import inside_photo
from .preprocess.overlay import geometry_from_dict
from .preprocess.landmarks import Mesh
from .skin import CONCERNS, analyze_skin
from .skin.heatmaps import render_heatmap
from .timing import StageTimer, WorkBudget

log = logging.getLogger(__name__)


def pipeline_settings(profile=None):
    """The pipeline settings of the current app, with the request's quality profile if any."""
    return PipelineSettings.from_config(current_app.config, profile)


def work_timer():
    """The request's stage timer (a new one outside a request) with a work budget starting now:
    WORK_TIMEOUT_SECONDS for the whole of the work, MAX_SEARCH_MODEL_RUNS for the face search."""
    config = current_app.config
    timer = current_timer()
    if not isinstance(timer, StageTimer):
        timer = StageTimer()
    timer.budget = WorkBudget(config["WORK_TIMEOUT_SECONDS"], config["MAX_SEARCH_MODEL_RUNS"])
    return timer


def _png(image):
    """The image as PNG bytes (fast compression)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def off_hub(function, *args):
    """Run CPU-bound work on the worker's pipeline thread (ananacare.offload); `function` must not
    touch Flask's request or app context."""
    return current_app.extensions["ananacare"]["pipelines"].run(function, *args)


def validate_and_store(data, tenant, profile=None):
    """Run the validate pipeline on a photo's bytes and store the crop when a face was found."""
    settings = pipeline_settings(profile)
    timer = work_timer()  # the wait for a place counts towards the work deadline
    with admitted():
        return _validate_and_store(data, tenant, settings, timer)


def admitted():
    """One of the worker pipeline's places for a request's work (ananacare.offload.PipelinePool):
    every request that runs photo work takes one, in the order they came, so validates and reads
    of stored crops wait in one queue, and a waiting request holds no decoded image."""
    return current_app.extensions["ananacare"]["pipelines"].admitted()


def _validate_and_store(data, tenant, settings, timer=None):
    validation, stored = _validate_and_start_storing(data, tenant, settings, timer)
    if validation.crop is not None:
        with current_timer().stage("store", check=False):
            stored()
    return validation


def _validate_and_start_storing(data, tenant, settings, timer=None):
    """(validation, a function that stores its crops): the skin crop's encoding, most of a put's time,
    starts at once on another thread, so a caller can analyse meanwhile (analyze_upload does)."""
    image_id = tenant.image_id(data, settings.crop_settings())
    timer = timer or work_timer()
    validation = off_hub(validate_image, data, model_registry(), settings, timer, image_id, in_real_thread)
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
    answer waits until the crop is stored (its image_id is usable at once). The requested models are
    checked first: a refused request stores nothing."""
    registry = model_registry()
    if models is not None:
        models = check_requested_models(registry, models)
    settings = pipeline_settings(profile)
    timer = work_timer()
    with admitted():
        return _analyze_upload(data, tenant, models, registry, settings, timer)


def _analyze_upload(data, tenant, models, registry, settings, timer):
    validation, stored = _validate_and_start_storing(data, tenant, settings, timer)
    if validation.crop is None:
        raise ApiError("no_face_detected", "No face was found in the photo.", 422,
                       {"checks": [check.to_dict() for check in validation.checks]})
    try:
        results, unavailable = off_hub(_analysis, BudgetedRegistry(registry, timer.budget), timer, validation.crop,
                                       validation.skin_crop, validation.mesh, settings.crop_margin, models,
                                       math.degrees(validation.geometry.angle), _photo_area(validation.to_dict()))
    except Exception:
        try:  # the crop is valid and stored as validate would; the analysis's error is the answer
            stored()
        except Exception:
            log.warning("storing the crop failed beside a failed analysis", exc_info=True)
        raise
    with current_timer().stage("store", check=False):
        stored()
    return {"image_id": validation.image_id, "validation": validation.to_dict(), "results": results,
            "unavailable": unavailable}


def analyze_stored(image_id, tenant, models=None):
    """Analyse a crop the tenant stored by an earlier call (404 unknown or another's, 422 corrupt)."""
    registry = model_registry()
    if models is not None:
        models = check_requested_models(registry, models)
    timer = work_timer()
    results, unavailable = on_stored(image_id, tenant, _analyse_stored, BudgetedRegistry(registry, timer.budget),
                                     timer, models)
    return {"image_id": image_id, "validation": None, "results": results, "unavailable": unavailable}


def _analyse_stored(stored, registry, timer, models):
    """_analysis on a stored crop, with the settings, angle, mesh and photo area it was stored with."""
    margin = stored.metadata["settings"]["margin"]
    angle = ((stored.metadata.get("validation") or {}).get("crop") or {}).get("angle_degrees", 0.0)
    mesh = Mesh.from_dict(stored.metadata["landmarks"]) if "landmarks" in stored.metadata else None
    return _analysis(registry, timer, stored.image, stored.skin, mesh, margin, models, angle,
                     _photo_area(stored.metadata.get("validation")))


def _analysis(registry, timer, crop, skin_crop, mesh, margin, models, angle, photo_area=None):
    """(results, unavailable): the analyzers and the skin analysis on a crop (no Flask context: it
    runs off the hub)."""
    with timer.stage("analyze"):
        results, unavailable = analyze_crop(crop, registry, margin, models, angle, mesh)
    if mesh is None and "landmarks" in results:
        mesh = Mesh.from_dict(results["landmarks"])
    with timer.stage("skin"):
        results["skin"] = skin_results(crop, skin_crop, mesh, registry, photo_area=photo_area)
    return results, unavailable


def _photo_area(validation):
    """(crop geometry, photo size) from a validation's answer, for the crop's in-photo mask; None
    when it does not say (an entry stored before the geometry was)."""
    try:
        return geometry_from_dict(validation["crop"]), (validation["image"]["width"], validation["image"]["height"])
    except (KeyError, TypeError, ValueError):
        return None


def skin_results(crop, skin_crop, mesh, registry, concerns=None, heatmaps=False, photo_area=None):
    """Skin analysis on the skin crop (source resolution), or on the square crop for an entry stored
    without one (then the resolution-bound concerns say so). None without a mesh. `photo_area`
    (geometry, photo size) keeps the padding beyond the photo's border out of the skin."""
    if mesh is None:
        return None
    image = skin_crop if skin_crop is not None else crop
    points = mesh.points * (image.width / crop.width)
    iris = registry.names_with_role("iris")
    inside = inside_photo(photo_area[0], photo_area[1], image.width) if photo_area else None
    return analyze_skin(image, points, concerns=concerns, heatmaps=heatmaps, source_resolution=skin_crop is not None,
                        registry=registry, iris_name=iris[0] if iris else None, inside=inside)


def skin_heatmap(image_id, tenant, concern):
    """(PNG bytes, the concern's result, the stored crop): a concern's heatmap drawn on the tenant's
    stored crop (the crop's size)."""
    if concern not in CONCERNS:
        raise ApiError("unknown_concern", f"No skin concern {concern[:40]!r}; concerns: {', '.join(CONCERNS)}", 404,
                       {"concerns": list(CONCERNS)})
    timer = work_timer()
    return on_stored(image_id, tenant, _heatmap, BudgetedRegistry(model_registry(), timer.budget), timer, concern)


def _heatmap(stored, registry, timer, concern):
    """(the heatmap as PNG bytes, the concern's result, the stored crop) of one concern on a stored
    crop (off the hub)."""
    if "landmarks" not in stored.metadata:
        raise ApiError("no_landmarks", "This crop was stored without its landmarks; validate the photo again.", 422)
    mesh = Mesh.from_dict(stored.metadata["landmarks"])
    with timer.stage("skin"):
        body, maps = skin_results(stored.image, stored.skin, mesh, registry, [concern], heatmaps=True,
                                  photo_area=_photo_area(stored.metadata.get("validation")))
    result = body["concerns"].get(concern) or {"available": False, "reason": body.get("reason") or "no_skin_pixels"}
    with timer.stage("draw"):
        return _png(render_heatmap(stored.image, maps.get(concern), result, concern)), result, stored


_LOOKUP_RESULTS = {404: "miss", 422: "corrupt", 503: "error"}


def on_stored(image_id, tenant, work, *args):
    """work(stored, *args) on the worker's pipeline thread, for the tenant's crop read just before
    (on the hub: a Redis client belongs to its thread) once the pipeline admits the request: a
    request waiting for it holds no decoded image (under overload, dozens wait). The read is counted
    as a crop-store hit, miss, corrupt entry or error."""
    with admitted():
        stored = load_crop(image_id, tenant)
        return off_hub(work, stored, *args)


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


def stored_png(image_id, tenant, draw=None):
    """(PNG bytes, the stored crop): the tenant's crop, or what `draw(stored)` makes of it, encoded on
    the pipeline thread (see on_stored)."""
    return on_stored(image_id, tenant, _drawn_png, draw)


def _drawn_png(stored, draw):
    return _png(draw(stored) if draw else stored.image), stored


def delete_crop(image_id, tenant):
    """Erase the tenant's crop now; 404 when it holds nothing under the id."""
    if not crop_store().delete(image_id, tenant.namespace):
        raise not_found(image_id, "unknown or already deleted")
