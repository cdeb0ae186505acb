"""The validate pipeline, one function that validate and analyze both call.

bytes -> sniff -> open under limits -> draft decode -> EXIF -> RGB -> detect (short + full
range) -> verify each face with the mesh model's face flag -> quality checks -> square crop.
"""
import hashlib
import json
from dataclasses import dataclass

from ..timing import NULL_TIMER
from .crop import crop_geometry, cut_square
from .decode import decode_image
from .detect import detect_candidates, detect_small_candidates
from .landmarks import run_mesh
from .quality import Thresholds, run_checks

PIPELINE_VERSION = 1  # bump when a change makes old crops differ from new ones


@dataclass(frozen=True)
class PipelineSettings:
    """The settings the pipeline reads, taken from app.config."""

    crop_size: int = 512
    crop_margin: float = 0.25
    max_pixels: int = 50_000_000
    decode_max_side: int = 1600
    min_face_size: int = 80
    frame_margin: float = 0.0

    @classmethod
    def from_config(cls, config):
        """Read the pipeline's settings out of a Flask config."""
        return cls(crop_size=config["CROP_SIZE"], crop_margin=config["CROP_MARGIN"],
                   max_pixels=config["MAX_IMAGE_PIXELS"], decode_max_side=config["DECODE_MAX_SIDE"],
                   min_face_size=config["MIN_FACE_SIZE"], frame_margin=config["FRAME_MARGIN"])

    def crop_settings(self):
        """What decides the crop's pixels: part of the image id and of the stored metadata."""
        return {"size": self.crop_size, "margin": self.crop_margin,
                "decode_max_side": self.decode_max_side, "pipeline": PIPELINE_VERSION}


def image_id_for(data, settings):
    """32 hex chars from the upload's bytes and the crop settings: same upload, same id."""
    digest = hashlib.sha256(json.dumps(settings.crop_settings(), sort_keys=True).encode())
    digest.update(data)
    return digest.hexdigest()[:32]


@dataclass
class Validation:
    """What validate learned about one upload; `crop` is None when no face was found."""

    image_id: str | None
    valid: bool
    checks: list
    faces: list  # source coordinates, primary first
    image: dict  # format, width, height, mode, orientation
    crop: object = None  # PIL image, size x size
    geometry: object = None  # CropGeometry in source coordinates

    def to_dict(self):
        """The validate response body."""
        return {
            "valid": self.valid,
            "image_id": self.image_id,
            "checks": [check.to_dict() for check in self.checks],
            "faces": [face.to_dict() for face in self.faces],
            "image": self.image,
            "crop": self.geometry.to_dict() if self.geometry else None,
        }


def model_roles(registry):
    """(detector names, landmark model name) from the registry's roles."""
    landmarks = registry.names_with_role("landmarks")
    return registry.names_with_role("detector"), (landmarks[0] if landmarks else None)


# A photo whose long side exceeds this many detector inputs is searched again in tiles when the
# whole-image pass finds no face: faces under about 5% of the long side need the zoom.
TILING_MIN_RATIO = 4


def find_faces(image, registry):
    """Faces in an RGB image, each confirmed by the mesh model's face flag; primary first."""
    detectors, mesh_name = model_roles(registry)
    faces = _confirmed(image, registry, mesh_name, detect_candidates(image, registry, detectors))
    if not faces and detectors:
        wide_range = detectors[-1]  # spec order: short range first, full range last
        input_size = registry.get(wide_range).input_size[0]
        if max(image.size) >= TILING_MIN_RATIO * input_size:
            grid = min(4, round(max(image.size) / (TILING_MIN_RATIO * input_size) * 2))
            faces = _confirmed(image, registry, mesh_name,
                               detect_small_candidates(image, registry, wide_range, grid))
    return sorted(faces, key=lambda f: f.size * f.size * f.score, reverse=True)


def _confirmed(image, registry, mesh_name, candidates):
    """The candidates that the mesh model's face flag confirms."""
    if mesh_name is None or not candidates:
        return candidates
    spec = registry.state(mesh_name).spec
    roi_margin = (spec.param("roi_scale", 1.5) - 1) / 2
    min_flag = spec.param("min_face_flag", 0.5)
    input_size = registry.get(mesh_name).input_size[0]
    confirmed = []
    for face in candidates:
        region = cut_square(image, crop_geometry(face, roi_margin, input_size))
        if run_mesh(region, roi_margin, registry, mesh_name).face_flag >= min_flag:
            confirmed.append(face)
    return confirmed


def validate_image(data, registry, settings, timer=NULL_TIMER):
    """Decode, find faces, check quality and cut the square crop of the primary face."""
    with timer.stage("decode"):
        decoded = decode_image(data, settings.max_pixels, settings.decode_max_side)
    with timer.stage("detect"):
        working_faces = find_faces(decoded.image, registry)
    to_source = 1 / decoded.scale
    faces = [face.scaled(to_source) for face in working_faces]
    checks = run_checks(faces, decoded.source_size, Thresholds(settings.min_face_size, settings.frame_margin))
    image = {"format": decoded.format, "width": decoded.source_size[0], "height": decoded.source_size[1],
             "mode": decoded.source_mode, "orientation": decoded.orientation}
    if not faces:
        return Validation(None, False, checks, faces, image)
    with timer.stage("crop"):
        geometry = crop_geometry(working_faces[0], settings.crop_margin, settings.crop_size)
        crop = cut_square(decoded.image, geometry)
    return Validation(image_id_for(data, settings), all(c.passed for c in checks), checks, faces, image,
                      crop, geometry.scaled(to_source))
