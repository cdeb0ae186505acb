"""Pixels per millimetre on the face: the visible iris, or the distance between the eyes.

The horizontal visible iris diameter (HVID) of adults is 11.7 mm with a small spread (about
+-0.5 mm; Rüfer et al. 2005, 11.71 +- 0.42 mm in 200 eyes), so the iris model's 5 iris points
give px/mm. MediaPipe's iris_landmark.tflite takes a 64x64 crop of one eye (the eye corners'
span x 2.3, square; the left eye mirrored) scaled to [0, 1], and returns 71 eye-contour points and
5 iris points (centre, then 4 on the limbus). When the iris model is not configured or cannot
run, the distance between the eye centres, about 63 mm in adults (Dodgson 2004: mean 63 mm,
range about 50-75), gives a coarser scale.
"""
import numpy as np
from PIL import Image

from ..models import ModelUnavailable
from ..models.tensors import normalize
from .face_measures import inter_eye_distance

IRIS_DIAMETER_MM = 11.7
INTER_EYE_MM = 63.0
EYE_SPAN = 2.3  # MediaPipe iris ROI: the eye corners' distance scaled by 2.3
IRIS_EYES = ((33, 133, False), (263, 362, True))  # (outer, inner, mirrored) for the right, left eye
IRIS_AGREEMENT = 0.2  # two eyes whose iris sizes differ more than this (relative) are not trusted


def iris_diameters(image, points, registry, name):
    """The visible iris diameter of each eye in the image's pixels (mean of the two limbus spans)."""
    spec = registry.state(name).spec
    model = registry.get(name)
    height, width = model.input_size
    diameters = []
    for outer, inner, mirrored in IRIS_EYES:
        a, b = points[outer, :2], points[inner, :2]
        centre, side = (a + b) / 2, float(np.linalg.norm(a - b)) * EYE_SPAN
        box = (centre[0] - side / 2, centre[1] - side / 2, centre[0] + side / 2, centre[1] + side / 2)
        eye = image.transform((width, height), Image.Transform.EXTENT, box, resample=Image.Resampling.BILINEAR)
        if mirrored:
            eye = eye.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        outputs = registry.run(name, normalize(np.asarray(eye), spec.preprocessing))
        found = next((value for value in outputs.values() if value.size == 15), None)
        if found is None:  # a configured model without MediaPipe's 5-point iris output
            raise ModelUnavailable(name, "outputs", "no output of 5 iris points (15 values)")
        iris = found.reshape(5, 3)[:, :2]
        span = (np.linalg.norm(iris[1] - iris[3]) + np.linalg.norm(iris[2] - iris[4])) / 2
        diameters.append(float(span) * side / width)
    return diameters


def pixels_per_mm(image, points, registry=None, iris_name=None):
    """{"px_per_mm", "method", ...}: the iris when its model runs and both eyes agree, else the IED."""
    ied = inter_eye_distance(np.asarray(points))
    fallback = {"px_per_mm": round(ied / INTER_EYE_MM, 3), "method": "inter_eye_distance",
                "reference_mm": INTER_EYE_MM, "inter_eye_px": round(ied, 2)}
    if registry is None or iris_name is None:
        return {**fallback, "iris": "not_configured"}
    try:
        right, left = iris_diameters(image, np.asarray(points), registry, iris_name)
    except ModelUnavailable as error:
        return {**fallback, "iris": f"unavailable: {error.details['stage']}"}
    if min(right, left) <= 0 or abs(right - left) / max(right, left) > IRIS_AGREEMENT:
        return {**fallback, "iris": "eyes_disagree", "iris_px": [round(right, 2), round(left, 2)]}
    diameter = (right + left) / 2
    return {"px_per_mm": round(diameter / IRIS_DIAMETER_MM, 3), "method": "iris", "reference_mm": IRIS_DIAMETER_MM,
            "iris_px": [round(right, 2), round(left, 2)], "inter_eye_px": round(ied, 2),
            "inter_eye_mm": round(ied / (diameter / IRIS_DIAMETER_MM), 1)}
