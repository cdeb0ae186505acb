"""Finding faces: detector candidates confirmed by the face mesh, and the primary face's measures.

Confirming a candidate runs the mesh model on the candidate's upright region (the box scaled by
the model's roi_scale, turned by the angle of the detector's eye keypoints, as MediaPipe does):
the mesh is fitted to an upright face whatever the photo's rotation. That evidence is kept, so
the primary face's pose, eye and mouth openness, exposure and crop come from the same run.
"""
import math
from dataclasses import dataclass

import numpy as np

from ..models import ModelUnavailable
from .crop import CropGeometry, crop_geometry, cut_square
from .detect import EIGHTH_TURNS, detect_candidates, detect_small_candidates
from .face_measures import (LEFT_EYE, RIGHT_EYE, eye_aspect_ratio, inter_eye_distance, mouth_opening, roll_degrees,
                            yaw_pitch_degrees)
from .landmarks import run_mesh
from .measure import face_exposure
from .colour import mean_chroma

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
    image: object = None  # the working image the region was cut from
    margin: float = 0.25  # the region's margin around the face, in face sizes (roi_scale = 1 + 2 margin)

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

    def crop_geometry(self, margin, size):
        """The upright square crop of this face, placed by the mesh (working coordinates).

        Angle: the mesh's eye line over the full circle (eyes above the mouth in the crop).
        Centre and side: the middle and the larger extent of the 468 points along the face's own
        axes (about the detector's box on an upright face), so a turned photo gives the same crop.
        """
        points = self.mesh.points.copy()
        points[:, :2] = self.geometry.to_source(points[:, :2])
        angle = math.radians(roll_degrees(points))
        cos, sin = math.cos(angle), math.sin(angle)
        along = points[:, :2] @ np.array([[cos, -sin], [sin, cos]])  # the face's own axes
        low, high = along.min(axis=0), along.max(axis=0)
        centre = np.array([[cos, sin], [-sin, cos]]).T @ ((low + high) / 2)
        side = max(float((high - low).max()), 1e-3) * (1 + 2 * margin)
        return CropGeometry((float(centre[0]), float(centre[1])), side, angle, size)

    def face_pixels(self):
        """The face box part of the region (upright), as an RGB array."""
        pixels = np.asarray(self.region)
        inset = int(round(pixels.shape[0] * self.margin / (1 + 2 * self.margin)))
        return pixels[inset:pixels.shape[0] - inset, inset:pixels.shape[1] - inset]


def refine(evidence, registry):
    """The mesh run once more on the region its own points place (centre, side, eye-line angle),
    as MediaPipe's tracking does between frames. The detector's box and keypoints drift with the
    photo's rotation (up to 30 % in size at 45 degrees); the mesh's own region much less, so
    measures and crop stop depending on it. One pass: on a face turned far sideways (the
    cameraman, yaw about 45) further passes drift instead of settling (yaw 43 -> 55 in 4 passes)."""
    _, mesh_name = model_roles(registry)
    geometry = evidence.crop_geometry(evidence.margin, registry.get(mesh_name).input_size[0])
    region = cut_square(evidence.image, geometry)
    mesh = run_mesh(region, evidence.margin, registry, mesh_name)
    return FaceEvidence(evidence.face, mesh, region, geometry, evidence.image, evidence.margin)


def face_measures(evidence, scale):
    """The values the quality checks judge, for one confirmed face."""
    points = evidence.source_points(scale)
    yaw, pitch = yaw_pitch_degrees(points)
    pixels = evidence.face_pixels()
    exposure = face_exposure(pixels)
    return {
        "face_presence": round(evidence.mesh.face_flag, 4),
        "inter_eye_distance": round(inter_eye_distance(points), 1),
        "yaw": round(yaw, 2), "pitch": round(pitch, 2), "roll": round(roll_degrees(points), 2),
        "eyes_open": round(min(eye_aspect_ratio(points, RIGHT_EYE), eye_aspect_ratio(points, LEFT_EYE)), 4),
        "mouth_closed": round(mouth_opening(points), 4),
        "colour": round(mean_chroma(pixels[::2, ::2]), 2),
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
    if not found and detectors:  # a face turned about 45 degrees can escape every quarter turn
        diagonal = detect_candidates(image, registry, detectors, turns=EIGHTH_TURNS)
        found = _confirmed(image, registry, mesh_name, diagonal)
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
            confirmed.append(FaceEvidence(face, mesh, region, geometry, image, roi_margin))
    return confirmed
