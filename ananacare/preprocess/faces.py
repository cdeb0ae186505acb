"""Finding faces: detector candidates confirmed by the face mesh, and the primary face's measures.

Confirming a candidate runs the mesh model on the candidate's upright region (the box scaled by
the model's roi_scale); that evidence is kept, so the primary face's pose, eye and mouth
openness and exposure come from the same run, at no extra inference.
"""
from dataclasses import dataclass

import numpy as np

from ..models import ModelUnavailable
from .crop import crop_geometry, cut_square
from .detect import detect_candidates, detect_small_candidates
from .face_measures import (LEFT_EYE, RIGHT_EYE, eye_aspect_ratio, inter_eye_distance, mouth_opening, roll_degrees,
                            yaw_pitch_degrees)
from .landmarks import run_mesh
from .measure import face_exposure

# A photo whose long side exceeds this many detector inputs is searched again in tiles when the
# whole-image pass finds no face: faces under about 5% of the long side need the zoom.
TILING_MIN_RATIO = 4


@dataclass(frozen=True)
class FaceEvidence:
    """A confirmed face and what confirming it produced: the mesh on its upright region."""

    face: object  # Face, working coordinates
    mesh: object  # Mesh, region pixels
    region: object  # PIL image: the face box x roi_scale, upright, the mesh model's input
    geometry: object  # CropGeometry of the region, working coordinates

    def source_points(self, scale):
        """Mesh points in source pixels (z in the same scale)."""
        points = self.mesh.points.copy()
        points[:, :2] = self.geometry.to_source(points[:, :2]) / scale
        points[:, 2] *= self.geometry.pixels_per_output / scale
        return points

    def points_in_crop(self, crop):
        """Mesh points mapped into another crop of the same image (its CropGeometry)."""
        points = self.mesh.points.copy()
        points[:, :2] = crop.to_crop(self.geometry.to_source(points[:, :2]))
        points[:, 2] *= self.geometry.pixels_per_output / crop.pixels_per_output
        return points

    def face_pixels(self):
        """The face box part of the region (upright), as an RGB array."""
        pixels = np.asarray(self.region)
        inset = int(round(pixels.shape[0] * (1 - self.face.size / self.geometry.side) / 2))
        return pixels[inset:pixels.shape[0] - inset, inset:pixels.shape[1] - inset]


def face_measures(evidence, scale):
    """The values the quality checks judge, for one confirmed face."""
    points = evidence.source_points(scale)
    yaw, pitch = yaw_pitch_degrees(points)
    exposure = face_exposure(evidence.face_pixels())
    return {
        "face_presence": round(evidence.mesh.face_flag, 4),
        "inter_eye_distance": round(inter_eye_distance(points), 1),
        "yaw": round(yaw, 2), "pitch": round(pitch, 2), "roll": round(roll_degrees(points), 2),
        "eyes_open": round(min(eye_aspect_ratio(points, RIGHT_EYE), eye_aspect_ratio(points, LEFT_EYE)), 4),
        "mouth_closed": round(mouth_opening(points), 4),
        **exposure,
    }


def model_roles(registry):
    """(detector names, landmark model name) from the registry's roles."""
    landmarks = registry.names_with_role("landmarks")
    return registry.names_with_role("detector"), (landmarks[0] if landmarks else None)


def find_faces(image, registry):
    """Faces in an RGB image, each confirmed by the mesh model's face flag; primary first."""
    return [evidence.face for evidence in find_face_evidence(image, registry)]


def find_face_evidence(image, registry):
    """Confirmed faces with their mesh evidence, primary (largest, surest) first."""
    detectors, mesh_name = model_roles(registry)
    found = _confirmed(image, registry, mesh_name, detect_candidates(image, registry, detectors))
    if not found and detectors:
        wide_range = detectors[-1]  # spec order: short range first, full range last
        input_size = registry.get(wide_range).input_size[0]
        if max(image.size) >= TILING_MIN_RATIO * input_size:
            grid = min(4, round(max(image.size) / (TILING_MIN_RATIO * input_size) * 2))
            found = _confirmed(image, registry, mesh_name,
                               detect_small_candidates(image, registry, wide_range, grid))
    return sorted(found, key=lambda e: e.face.size * e.face.size * e.face.score, reverse=True)


def _confirmed(image, registry, mesh_name, candidates):
    """FaceEvidence for the candidates that the mesh model's face flag confirms."""
    if mesh_name is None:
        raise ModelUnavailable("landmarks", "resolve", "no model with role 'landmarks' is configured")
    if not candidates:
        return []
    spec = registry.state(mesh_name).spec
    roi_margin = (spec.param("roi_scale", 1.5) - 1) / 2
    min_flag = spec.param("min_face_flag", 0.5)
    input_size = registry.get(mesh_name).input_size[0]
    confirmed = []
    for face in candidates:
        geometry = crop_geometry(face, roi_margin, input_size)
        region = cut_square(image, geometry)
        mesh = run_mesh(region, roi_margin, registry, mesh_name)
        if mesh.face_flag >= min_flag:
            confirmed.append(FaceEvidence(face, mesh, region, geometry))
    return confirmed
