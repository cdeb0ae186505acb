"""The analyzers on an aligned square crop: the face mesh, pixel measurements, analyzer models."""
import numpy as np

from ..errors import ApiError
from ..models import ModelUnavailable
from .face_measures import face_geometry, pose_and_openness
from .landmarks import run_mesh
from .measure import crop_measurements
from .faces import model_roles


def check_requested_models(registry, names):
    """Every requested name is a known analyzer; 400 otherwise (unknown names list the known ones)."""
    analyzers = registry.names_with_role("analyzer")
    for name in names:
        registry.state(name)  # UnknownModel for a name not in the registry
        if name not in analyzers:
            raise ApiError("not_an_analyzer", f"Model {name!r} is a {registry.state(name).spec.role}, "
                           f"not an analyzer; analyzers: {', '.join(analyzers) or 'none configured'}", 400,
                           {"model": name, "analyzers": analyzers})
    return list(dict.fromkeys(names))


def analyze_crop(crop, registry, margin, models=None, crop_angle_degrees=0.0, mesh=None):
    """(results, unavailable) for a crop cut with `margin` and rotated by crop_angle_degrees.

    The default analyzers: landmarks (in crop pixels, to draw on the crop), pose (roll in the
    original photo), eye and mouth openness, face geometry, measurements (skin: ananacare.skin,
    run by the service beside this).
    `mesh` is the crop's landmarks when validation already produced them (kept with the crop);
    otherwise the mesh model runs on the crop. `models=None` also runs every analyzer model and
    lists failed ones under `unavailable`; a list runs just those, and one that cannot run is a
    503 `model_unavailable` naming it and its stage.
    """
    _, mesh_name = model_roles(registry)
    if mesh is None and mesh_name is not None:
        mesh = run_mesh(crop, margin, registry, mesh_name)
    pixels = np.asarray(crop)
    results = {"measurements": crop_measurements(face_box(pixels, margin))}
    if mesh is not None:
        results["landmarks"] = mesh.to_dict()
        results["pose"] = pose_and_openness(mesh.points, crop_angle_degrees)
        results["geometry"] = face_geometry(mesh.points)
    requested = models is not None
    names = check_requested_models(registry, models) if requested else registry.names_with_role("analyzer")
    predictions, unavailable = {}, {}
    for name in names:
        try:
            predictions[name] = registry.predict(name, crop)
        except ModelUnavailable as error:
            if requested:
                raise
            unavailable[name] = {"stage": error.details["stage"]}  # why: /api/diagnostics (operators)
    results["models"] = predictions
    return results, unavailable


def face_box(crop, margin, step=2):
    """The face box in the middle of a crop cut with `margin`, every `step`-th pixel (for measures)."""
    pixels = np.asarray(crop)  # a no-op for an array
    inset = int(round(pixels.shape[0] * margin / (1 + 2 * margin)))
    return pixels[inset:pixels.shape[0] - inset:step, inset:pixels.shape[1] - inset:step]
