"""The validate pipeline, one function that validate and analyze both call.

bytes -> sniff -> open under limits -> draft decode -> EXIF -> RGB -> detect (short + full
range) -> confirm each face with the mesh model's face flag -> measure and check the primary
face -> square crop, and the same square at the photo's source resolution (the skin crop, side
bounded by skin_max_side; decoded again when the working image was reduced) for skin analysis.
"""
import math
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from ..models import BudgetedRegistry
from ..quality import is_valid, ofiq_measures, run_checks, thresholds_for
from ..timing import NULL_TIMER
from .crop import CropGeometry, cut_square
from .decode import decode_image, decode_region, decode_stored, region_scale
from .structure import StructureLimits
from .face_measures import inter_eye_distance, yaw_pitch_degrees
from .scale import pixels_per_mm
from .faces import face_measures, search_faces, settle
from .landmarks import Mesh

INTER_EYE_MM = 63.0  # adults' mean (Dodgson 2004); preprocess.scale uses the iris when it can
PIPELINE_VERSION = 4  # bump when a change makes old crops differ from new ones
# The skin crop is cut again from a second decode of the photo (a large JPEG is decoded at 1/2 or
# less for detection) when that gives it at least this many times the working image's pixels on
# its side; a JPEG DCT scale giving 1/SECOND_DECODE_GAIN of the side wanted is enough. A second
# decode costs a decode of the whole photo at that scale (Pillow decodes no region alone): at full
# scale the skin_crop stage of bench/run.py's selfies takes 64 ms at 12 MP, 99 ms at 24 MP.
SECOND_DECODE_GAIN = 1.25
# With a background thread at hand, a reduced JPEG up to this size is decoded again at full scale
# while the faces are searched (a 12 MP selfie's skin crop wants it: 66 ms of decode off the
# critical path); a larger one (24-50 MP) keeps the decode at the scale its skin crop needs, after.
PREFETCH_MAX_PIXELS = 16_000_000
# A turned face's eyes look closer together, down to about this share of their distance (a face
# turned 60 degrees): skin_side needs no iris when even then the source has less than it wants.
MIN_IED_SHARE = 0.5


@dataclass(frozen=True)
class PipelineSettings:
    """The settings the pipeline reads, taken from app.config."""

    crop_size: int = 512
    crop_margin: float = 0.25
    max_pixels: int = 50_000_000
    max_decode_bytes: int = 224 * 1048576
    decode_max_side: int = 1600
    quality_profile: str = "normal"
    quality_overrides: dict = field(default_factory=dict)
    skin_max_side: int = 2048  # 0: no skin crop
    skin_px_per_mm: float = 5.0  # the skin crop keeps no more than this (0: the source's, up to the side)
    structure_limits: StructureLimits = StructureLimits()

    @classmethod
    def from_config(cls, config, profile=None):
        """Read the pipeline's settings out of a Flask config (a request may name another profile)."""
        return cls(crop_size=config["CROP_SIZE"], crop_margin=config["CROP_MARGIN"],
                   max_pixels=config["MAX_IMAGE_PIXELS"], max_decode_bytes=config["MAX_DECODE_BYTES"],
                   decode_max_side=config["DECODE_MAX_SIDE"],
                   quality_profile=profile or config["QUALITY_PROFILE"],
                   quality_overrides=config["QUALITY_THRESHOLDS"] or {},
                   skin_max_side=config["SKIN_CROP_MAX_SIDE"], skin_px_per_mm=config["SKIN_CROP_PX_PER_MM"],
                   structure_limits=StructureLimits(config["MAX_JPEG_SCANS"], config["MAX_SEGMENTS"],
                                                    config["MAX_METADATA_BYTES"]))

    def thresholds(self):
        """The quality thresholds in force."""
        return thresholds_for(self.quality_profile, self.quality_overrides)

    def crop_settings(self):
        """What decides the crop's pixels: part of the image id and of the stored metadata."""
        return {"size": self.crop_size, "margin": self.crop_margin,
                "decode_max_side": self.decode_max_side, "pipeline": PIPELINE_VERSION,
                "skin_max_side": self.skin_max_side, "skin_px_per_mm": self.skin_px_per_mm}


@dataclass
class Validation:
    """What validate learned about one upload; `crop` is None when no face was found."""

    image_id: str | None
    valid: bool
    checks: list
    faces: list  # source coordinates, primary first
    image: dict  # format, width, height, mode, orientation
    profile: str = "normal"
    crop: object = None  # PIL image, size x size
    geometry: object = None  # CropGeometry in source coordinates
    mesh: object = None  # Mesh of the primary face in crop pixels (from validation's own mesh run)
    skin_crop: object = None  # PIL image: the crop's square at working resolution (<= skin_max_side)
    detection: dict = field(default_factory=lambda: {"exhaustive": True})

    def to_dict(self):
        """The validate response body."""
        return {
            "valid": self.valid,
            "image_id": self.image_id,
            "profile": self.profile,
            "checks": [check.to_dict() for check in self.checks],
            "faces": [face.to_dict() for face in self.faces],
            "detection": self.detection,
            "image": self.image,
            "crop": self.geometry.to_dict() if self.geometry else None,
        }


def validate_image(data, registry, settings, timer=NULL_TIMER, image_id=None, background=None):
    """Decode, find faces, measure and check quality, and cut the square crop of the primary face
    (`image_id` names that crop in the answer; the caller derives it, see ananacare.tenancy). Every
    model run is charged to the timer's work budget: its deadline, and the face search's run budget.
    `background(function, *args)`, when given, starts work on another thread and returns a function
    that waits for it (ananacare.offload.in_real_thread): a large JPEG's full-scale decode for its
    skin crop then runs beside the face search instead of after it."""
    thresholds = settings.thresholds()
    budget = timer.budget  # one object for the whole call (a NullTimer makes a fresh one each time)
    registry = BudgetedRegistry(registry, budget)
    with timer.stage("decode"):
        decoded = decode_image(data, settings.max_pixels, settings.decode_max_side, settings.max_decode_bytes,
                               settings.structure_limits)
    prefetched = None
    if (background is not None and settings.skin_max_side and decoded.format == "JPEG"
            and decoded.scale < 1 / SECOND_DECODE_GAIN and decoded.source_size[0] * decoded.source_size[1]
            <= PREFETCH_MAX_PIXELS):
        prefetched = background(decode_stored, data, decoded, 1.0, settings.max_decode_bytes)
    with timer.stage("detect"):
        evidence, exhaustive = search_faces(decoded.image, registry, budget)
    detection = {"exhaustive": exhaustive, "search_model_runs": budget.search_runs}
    to_source = 1 / decoded.scale
    faces = [item.face.scaled(to_source) for item in evidence]
    image = {"format": decoded.format, "width": decoded.source_size[0], "height": decoded.source_size[1],
             "mode": decoded.source_mode, "orientation": decoded.orientation}
    if not faces:
        checks = not_exhaustive(run_checks(faces, decoded.source_size, {}, thresholds, settings.quality_profile),
                                exhaustive)
        return Validation(None, False, checks, faces, image, settings.quality_profile, detection=detection)
    with timer.stage("detect"):
        primary = settle(evidence[0], registry)
    geometry = primary.crop_geometry(settings.crop_margin, settings.crop_size)
    skin_crop = None
    if settings.skin_max_side:
        with timer.stage("skin_crop"):
            side = skin_side(primary, decoded, geometry, settings, registry)
            skin_crop = cut_skin_crop(data, decoded, geometry, side, settings.max_decode_bytes, prefetched)
    with timer.stage("quality"):
        measures = face_measures(primary, decoded.scale)
        analysed_side = skin_crop.width if skin_crop is not None else settings.crop_size
        measures["px_per_mm"] = round(measures["inter_eye_distance"] * decoded.scale * analysed_side / geometry.side
                                      / INTER_EYE_MM, 3)
        pose = measures["yaw"], measures["pitch"], measures["roll"]
        natives, reasons = ofiq_measures(primary, faces, decoded.scale, decoded.source_size, pose, registry)
        checks = not_exhaustive(run_checks(faces, decoded.source_size, measures, thresholds,
                                           settings.quality_profile, natives, reasons), exhaustive)
    with timer.stage("crop"):
        crop = square_crop(decoded.image, geometry, skin_crop)
        # rounded as stored beside the crop, so analyze/image and analyze/by-id see the same points
        mesh = Mesh(np.round(primary.points_in_crop(geometry), 3), primary.mesh.face_flag)
    return Validation(image_id, is_valid(checks), checks, faces, image,
                      settings.quality_profile, crop, geometry.scaled(to_source), mesh, skin_crop, detection)


_NOT_EXHAUSTIVE = ("The face search stopped at its budget of model runs (MAX_SEARCH_MODEL_RUNS): the photo "
                   "may hold faces that were not looked for.")


def not_exhaustive(checks, exhaustive):
    """The face-count checks marked `reason: search_not_exhaustive` when the search stopped at its
    budget: a count that may be short is said so, never silently."""
    if exhaustive:
        return checks
    return [replace(check, reason="search_not_exhaustive", message=f"{check.message} {_NOT_EXHAUSTIVE}")
            if check.name in ("face_detected", "single_face") else check for check in checks]


def square_crop(image, geometry, skin_crop=None):
    """The CROP_SIZE crop: resized from the skin crop (the same square, already cut) when there is
    one, in one small resampling instead of a second transform of the whole working image."""
    if skin_crop is None:
        return cut_square(image, geometry)
    return skin_crop.resize((geometry.size, geometry.size), Image.Resampling.BILINEAR, reducing_gap=2.0)


def skin_side(primary, decoded, geometry, settings, registry):
    """The skin crop's side: the square at the source's resolution, but no more than
    SKIN_CROP_PX_PER_MM needs (the finest concern, pores, needs 4 px/mm; the default asks 5 for a
    margin: the analysis measures the scale again on the skin crop) and at most SKIN_CROP_MAX_SIDE.
    The scale is the iris's on the working image, as the analysis measures it (two runs of the iris
    model); the inter-eye distance at 63 mm, corrected for the face's yaw, where the iris model is
    not configured (adults' eyes are 54-74 mm apart)."""
    source_side = geometry.side / decoded.scale
    if not settings.skin_px_per_mm:
        return min(settings.skin_max_side, max(16, round(source_side)))
    points = primary.source_points(1.0)  # working pixels
    estimate = inter_eye_distance(points) / INTER_EYE_MM / decoded.scale  # source px/mm, roughly
    if estimate / MIN_IED_SHARE * 1.25 < settings.skin_px_per_mm:  # the source has less, however turned
        return min(settings.skin_max_side, max(16, round(source_side)))
    iris = registry.names_with_role("iris")
    scale = pixels_per_mm(decoded.image, points, registry, iris[0] if iris else None)
    if scale["method"] == "iris":
        working_px_per_mm = scale["px_per_mm"]
    else:
        yaw = min(abs(yaw_pitch_degrees(points)[0]), 60.0)  # a turned face's eyes look closer together
        working_px_per_mm = inter_eye_distance(points) / math.cos(math.radians(yaw)) / INTER_EYE_MM
    square_mm = geometry.side / max(working_px_per_mm, 1e-6)
    return max(16, min(settings.skin_max_side, round(source_side), math.ceil(settings.skin_px_per_mm * square_mm)))


def cut_skin_crop(data, decoded, geometry, max_side, max_decode_bytes, prefetched=None):
    """The crop's square (`geometry`, working coordinates) at the photo's source resolution, side <=
    max_side, never upsampled (but at least 16 px): cut from the working image when it has (nearly)
    the pixels, otherwise from the face's region of the photo decoded again at the scale it needs
    (`prefetched`: a function returning that decode at full scale, started earlier)."""
    source = geometry.scaled(1 / decoded.scale)  # the same square in source pixels
    wanted = min(round(source.side), max_side)
    scale = region_scale(decoded, wanted / source.side, SECOND_DECODE_GAIN)
    found = None
    if scale >= decoded.scale * SECOND_DECODE_GAIN:
        stored = prefetched() if prefetched is not None else None
        found = decode_region(data, decoded, source.bounds(2 / decoded.scale), scale, max_decode_bytes, stored)
    if found is None:  # the working image has the pixels, or a second decode is over the budget
        image, local = decoded.image, geometry
    else:
        image, (left, top), (rx, ry) = found
        local = CropGeometry((source.center[0] * rx - left, source.center[1] * ry - top), source.side * rx,
                             geometry.angle, geometry.size)
    return cut_square(image, replace(local, size=int(max(16, min(wanted, round(local.side))))))
