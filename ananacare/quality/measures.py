"""OFIQ's native values for the primary face, gathered from the measure families."""
from .background import background_uniformity
from .geometry import geometric_measures, second_face_ratio
from .lighting import lighting_measures


def ofiq_measures(evidence, faces, scale, source_size, pose, registry, background=True):
    """({check name: native value or None}, {check name: why not measured}) for the primary face.

    `evidence` is the primary face's FaceEvidence (working image), `faces` every face in source
    pixels, `scale` working pixels per source pixel, `pose` its (yaw, pitch, roll) in degrees.
    `background=False` skips the segmentation run. Reads what preprocess/ found through those
    objects and imports nothing from it (preprocess/pipeline.py calls this module)."""
    points = evidence.source_points(scale)
    yaw, pitch, roll = pose
    natives = {"single_face": second_face_ratio(faces), "yaw": yaw, "pitch": pitch, "roll": roll,
               **geometric_measures(points, source_size, yaw),
               **lighting_measures(evidence.region, evidence.mesh.points, evidence.inside())}
    reasons = {}
    if background:
        natives["background_uniformity"], reason = background_uniformity(
            evidence.image, evidence.crop_geometry(0.0, 1), registry)
        if reason:
            reasons["background_uniformity"] = reason
    else:
        reasons["background_uniformity"] = "not_measured"
    return natives, reasons
