"""The default analyzers on an aligned square crop: the face mesh and pixel measurements."""
from .landmarks import run_mesh
from .measure import crop_measurements
from .pipeline import model_roles


def analyze_crop(crop, registry, margin):
    """Landmarks (468 points, face flag) and measurements of a crop cut with `margin`."""
    _, mesh_name = model_roles(registry)
    results = {"measurements": crop_measurements(crop)}
    if mesh_name is not None:
        results["landmarks"] = run_mesh(crop, margin, registry, mesh_name).to_dict()
    return results
