"""The analyzers on an aligned square crop: the face mesh, pixel measurements, analyzer models."""
from ..errors import ApiError
from ..models import ModelUnavailable
from .landmarks import run_mesh
from .measure import crop_measurements
from .pipeline import model_roles


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


def analyze_crop(crop, registry, margin, models=None):
    """(results, unavailable) for a crop cut with `margin`.

    `models=None` runs every analyzer model and lists failed ones under `unavailable`; a list runs
    just those, and one that cannot run is a 503 `model_unavailable` naming it and its stage.
    """
    _, mesh_name = model_roles(registry)
    results = {"measurements": crop_measurements(crop)}
    if mesh_name is not None:
        results["landmarks"] = run_mesh(crop, margin, registry, mesh_name).to_dict()
    requested = models is not None
    names = check_requested_models(registry, models) if requested else registry.names_with_role("analyzer")
    predictions, unavailable = {}, {}
    for name in names:
        try:
            predictions[name] = registry.predict(name, crop)
        except ModelUnavailable as error:
            if requested:
                raise
            unavailable[name] = {"stage": error.details["stage"], "error": error.details["error"]}
    results["models"] = predictions
    return results, unavailable
