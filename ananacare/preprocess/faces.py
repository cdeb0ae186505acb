"""Finding faces: detector candidates confirmed by the face mesh, and the primary face's measures.

Confirming a candidate runs the mesh model on the candidate's upright region (the box scaled by
the model's roi_scale, turned by the angle of the detector's eye keypoints, as MediaPipe does):
the mesh is fitted to an upright face whatever the photo's rotation. That evidence is kept, so
the primary face's pose, eye and mouth openness, exposure and crop come from the same run.
"""
import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import ImageOps

from ..models import ModelUnavailable
from ..timing import NULL_BUDGET, SearchExhausted
from .crop import CropGeometry, crop_geometry, cut_square, inside_photo
from .detect import EIGHTH_TURNS, QUARTER_TURNS, Face, detect_candidates, iou, merge_faces, run_detector
from .face_measures import (LEFT_EYE, LEFT_FACE_EDGE, MOUTH, RIGHT_EYE, RIGHT_FACE_EDGE, eye_aspect_ratio,
                            eye_centres, inter_eye_distance, mouth_opening, roll_degrees, yaw_pitch_degrees)
from .landmarks import run_mesh
from .measure import face_exposure
from .colour import mean_chroma
from .tiling import candidates_beside, candidates_without_faces

# Candidates scored from LOW_SCORE up to their detector's own minimum are kept for the face mesh
# and a second look to decide (measured on bench/eval_set.py: real faces at 0.33-0.59 that the
# minimum loses), at most MAX_UNSURE of them per pass, best first.
LOW_SCORE = 0.3
MAX_UNSURE = 4
TILE_MAX_UNSURE = 12  # for all the tiles of a photo together
# A face the detector is sure of but the mesh doubts (flag from RETRY_FLAG up to the minimum) gets
# the second look too: the detector's box on a small or tilted face can miss the mesh's region.
RETRY_FLAG = 0.1
# A face read in a turned pass (sideways or upside down in the photo) scored under this needs the
# second look as well, however sure the mesh is: the mirrored cat (skimage chelsea), read sideways,
# scored 0.64 with a flag of 0.90. Not for upright faces: that cost 2 real faces of the eval set.
CERTAIN_SCORE = 0.75
# Beside faces found, heads tilted further (thrown back, leaning) are looked for at +-30 degrees
# from the photo's orientation, by the full-range model, which also looks at the mirrored photo.
TILTS = (30, -30)
# The photo upright and upside down first (BlazeFace reads an upside-down face as an upright one,
# and so does the mesh on the region it gives: the better score of the two decides); the sideways
# turns only when a face found there is not within UPRIGHT_ROLL of upright, or none was found.
# UPRIGHT_ROLL is the upright detectors' own reach (BlazeFace misses faces turned past about 45
# degrees); other faces as tilted as one found are within the +-30 degree passes' reach. At 30,
# a photo turned 30 degrees ran the sideways turns too for nothing (bench/detection.py --variants,
# turned 30: median model time 79 -> 65 ms, recall the same on every row).
FIRST_TURNS = (0, 180)
# The selfie's fast path (_dominant_face): one sure face this surely scored, this large a share of
# the photo's shorter side, and no other candidate in the photo as it lies.
DOMINANT_SCORE, DOMINANT_SHARE = 0.85, 0.15
NEAR_FLOOR = 0.25  # ... and nothing else the first pass scored this much (LOW_SCORE is the candidate floor)
UPRIGHT_ROLL = 45
SECOND_LOOK_MARGIN = 0.5  # the upright region the short-range model looks at again: face = half its side
SECOND_LOOK_MIN_SCORE = 0.75  # measured: real faces 0.81-0.96, a rocket's badge 0.64, a sleeve 0.58
SETTLE_MAX_YAW = 40  # settle: beyond this (degrees) the fresh detection is not tried
SETTLE_TOLERANCE = 0.08  # settle: a fresh detection this close (share of the side) confirms the refined mesh
NOSE_TIP = 1
MOUTH_CENTRE = (MOUTH["upper_inner"], MOUTH["lower_inner"])


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

    def inside(self):
        """The region's pixels that come from the photo (boolean, the region's shape): a face near the
        border has padding in its region."""
        return inside_photo(self.geometry, self.image.size, self.region.width)

    def face_inside(self):
        """inside() cut to the face box, as face_pixels() is."""
        mask = self.inside()
        inset = int(round(mask.shape[0] * self.margin / (1 + 2 * self.margin)))
        return mask[inset:mask.shape[0] - inset, inset:mask.shape[1] - inset]


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


def settle(evidence, registry):
    """The primary face's mesh, refined (see refine), and checked against a fresh detection: the
    short-range detector runs on the refined upright region (the face half its side, as in the
    second look), which places the face as it would a face photographed alone. Where that placement
    disagrees with the refined mesh's own region (centre or size off by more than SETTLE_TOLERANCE),
    the mesh is run there (and refined) and taken unless the mesh model is clearly less sure of it.
    A face the detector scored DOMINANT_SCORE or more is only refined: such a box sits on the face.

    A candidate box from a group photo can be loose (a three-quarter face scored 0.53 in insightface's
    t1.jpg came with a box half as large again as her face: the mesh spread over the wall and her
    jaw and was levelled at -7 degrees, where the face alone gives -31), and a refinement only
    follows the mesh it starts from; the mesh's face flag does not tell (it was 0.86 there, and 1.0
    on a spread mesh of the astronaut). Costs one detector run, and two mesh runs where they disagree."""
    refined = refine(evidence, registry)
    if evidence.face.sure and evidence.face.score >= DOMINANT_SCORE:
        return refined  # a box the detector is this sure of sits on the face (a selfie's, say)
    points = refined.mesh.points.copy()
    points[:, :2] = refined.geometry.to_source(points[:, :2])
    if abs(yaw_pitch_degrees(points)[0]) > SETTLE_MAX_YAW:
        return refined  # a profile: the short-range detector places it no better than its own mesh
    detector = registry.names_with_role("detector")[0]  # spec order: short range first
    size = registry.get(detector).input_size[0]
    geometry = refined.crop_geometry(SECOND_LOOK_MARGIN, size)
    centre = size / 2
    found = [face for face in run_detector(cut_square(evidence.image, geometry), registry, detector, turns=(0,))
             if math.dist(face.center, (centre, centre)) < 0.25 * size]
    if not found:
        return refined
    face = max(found, key=lambda f: f.score)
    keypoints = geometry.to_source(face.keypoints).astype(np.float32)
    side = face.size * geometry.pixels_per_output
    cx, cy = geometry.to_source([face.center])[0]
    placed = Face((cx - side / 2, cy - side / 2, side, side), evidence.face.score, keypoints, evidence.face.sure)
    _, mesh_name = model_roles(registry)
    again = crop_geometry(placed, evidence.margin, registry.get(mesh_name).input_size[0])
    if (math.dist(again.center, refined.geometry.center) < SETTLE_TOLERANCE * refined.geometry.side
            and abs(again.side / refined.geometry.side - 1) < SETTLE_TOLERANCE):
        return refined
    region = cut_square(evidence.image, again)
    fresh = refine(FaceEvidence(evidence.face, run_mesh(region, evidence.margin, registry, mesh_name), region, again,
                                evidence.image, evidence.margin), registry)
    return fresh if fresh.mesh.face_flag >= refined.mesh.face_flag - 0.05 else refined


def face_measures(evidence, scale):
    """The values the quality checks judge, for one confirmed face."""
    points = evidence.source_points(scale)
    yaw, pitch = yaw_pitch_degrees(points)
    pixels = evidence.face_pixels()
    inside = evidence.face_inside()
    exposure = face_exposure(pixels, inside)
    return {
        "face_presence": round(evidence.mesh.face_flag, 4),
        "inter_eye_distance": round(inter_eye_distance(points), 1),
        "yaw": round(yaw, 2), "pitch": round(pitch, 2), "roll": round(roll_degrees(points), 2),
        "eyes_open": round(min(eye_aspect_ratio(points, RIGHT_EYE), eye_aspect_ratio(points, LEFT_EYE)), 4),
        "mouth_closed": round(mouth_opening(points), 4),
        "colour": round(mean_chroma(pixels[::2, ::2][inside[::2, ::2]]) if inside.any() else 0.0, 2),
        **exposure,
    }


def model_roles(registry):
    """(detector names, landmark model name) from the registry's roles."""
    landmarks = registry.names_with_role("landmarks")
    return registry.names_with_role("detector"), (landmarks[0] if landmarks else None)


def find_faces(image, registry):
    """Faces in an RGB image, each confirmed by the mesh model's face flag; primary first."""
    return [evidence.face for evidence in find_face_evidence(image, registry)]


def upright_turn(face):
    """The quarter turn (counterclockwise degrees) that brings a face's eye line level."""
    right_eye, left_eye = face.eyes
    angle = math.degrees(math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    return int(round(angle / 90) * 90) % 360


def _fresh(candidates, found):
    """The candidates that are no face already found: neither centre lies in the other's box."""
    def inside(face, other):
        x, y, w, h = other.box
        cx, cy = face.center
        return x <= cx <= x + w and y <= cy <= y + h
    return [c for c in candidates if not any(inside(c, e.face) or inside(e.face, c) for e in found)]


def _upright_and_agreed(evidence):
    """The face is within UPRIGHT_ROLL degrees of upright by the mesh, and the mesh's eye line within
    45 degrees of the detector's: no sideways turn would see it better."""
    points = evidence.mesh.points.copy()
    points[:, :2] = evidence.geometry.to_source(points[:, :2])
    right_eye, left_eye = evidence.face.eyes
    detector = math.degrees(math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    roll = roll_degrees(points)
    return abs(roll) <= UPRIGHT_ROLL and abs((roll - detector + 180) % 360 - 180) < 45


def find_face_evidence(image, registry):
    """Confirmed faces with their mesh evidence, primary (largest, surest) first (see search_faces)."""
    return search_faces(image, registry)[0]


def search_faces(image, registry, budget=NULL_BUDGET, fast=True):
    """(confirmed faces with their mesh evidence, primary first; whether the search was exhaustive).

    The detectors run on the photo upright and upside down first; only when that finds no face, or
    one that is not upright, do they run on the sideways turns too (then on the diagonals). With
    faces found, the photo's orientation is known: the full-range model looks again at +-30
    degrees from it and on the mirrored photo, and a large photo is searched in tiles.

    Every model run of the search is charged to `budget` (registry: a BudgetedRegistry on the same
    budget): when its runs are spent the search stops, keeps what it confirmed so far, and says it
    was not exhaustive; a photo of a hundred faces costs a bounded number of runs.

    `fast` (the default) lets a selfie stop after its first pass (see _dominant_face); False runs
    every pass (bench/fast_path.py compares the two on the evaluation set)."""
    detectors, mesh_name = model_roles(registry)
    if mesh_name is None:
        raise ModelUnavailable("landmarks", "resolve", "no model with role 'landmarks' is configured")
    if not detectors:
        return [], True
    found = []
    try:
        with budget.searching():
            _search(image, registry, detectors, mesh_name, found, fast)
        exhaustive = True
    except SearchExhausted:
        exhaustive = False
    distinct = []
    for evidence in sorted(found, key=lambda e: e.face.sure, reverse=True):  # a mesh-placed face may repeat one
        if _fresh([evidence.face], distinct):
            distinct.append(evidence)
    return sorted(distinct, key=lambda e: e.face.size * e.face.size * e.face.score, reverse=True), exhaustive


def _search(image, registry, detectors, mesh_name, found, fast=True):
    """The passes of search_faces, each adding what it confirms to `found` as it goes (a search
    stopped by its budget keeps every face confirmed until then)."""
    inputs = {}  # the letterboxed photo by detector input size, shared by the passes
    seen = []  # every box the first pass scored SEEN_SCORE or more
    level = [face for name in detectors  # the photo as it lies, unmerged (merged with the upside-down pass below)
             for face in run_detector(image, registry, name, (0,), LOW_SCORE, inputs, seen=seen)]
    if fast and _dominant_face(image, registry, mesh_name, merge_faces(level, 0.3), seen, found):
        return
    found.clear()
    upside_down = [face for name in detectors
                   for face in run_detector(image, registry, name, (180,), LOW_SCORE, inputs)]
    upright = merge_faces(level + upside_down, 0.3)  # as one pass over both turns
    _confirmed(image, registry, mesh_name, upright, into=found)
    if not (any(e.face.sure for e in found) and all(_upright_and_agreed(e) for e in found if e.face.sure)):
        sideways = [turn for turn in QUARTER_TURNS if turn not in FIRST_TURNS]
        turned = detect_candidates(image, registry, detectors, turns=sideways, low_score=LOW_SCORE,
                                   letterboxed=inputs)
        again = []  # the upright candidates merged with the sideways ones, confirmed afresh
        try:
            _confirmed(image, registry, mesh_name, merge_faces(upright + turned, 0.3), into=again)
        except SearchExhausted:
            found += again  # search_faces keeps one of each face
            raise
        found[:] = again
    if not found:  # a face turned about 45 degrees can escape every quarter turn
        _confirmed(image, registry, mesh_name,
                   detect_candidates(image, registry, detectors, turns=EIGHTH_TURNS, letterboxed=inputs), into=found)
    full_range = detectors[-1]  # spec order: short range first, full range last
    turns = sorted({upright_turn(e.face) for e in found})
    if found:
        tilted = detect_candidates(image, registry, [full_range], low_score=LOW_SCORE, letterboxed=inputs,
                                   turns=[(turn + tilt) % 360 for turn in turns for tilt in TILTS])
        _confirmed(image, registry, mesh_name, _fresh(tilted, found), into=found)
        flipped = detect_candidates(image, registry, [full_range], turns=turns, low_score=LOW_SCORE,
                                    letterboxed=inputs, mirror=True)
        _confirmed(image, registry, mesh_name, _fresh(flipped, found), into=found)
    _tiled(image, registry, mesh_name, detectors, found, turns)


def _dominant_face(image, registry, mesh_name, candidates, seen, found):
    """The selfie's fast path: True (its face in `found`) when the photo as it lies holds one candidate,
    a sure one of at least DOMINANT_SCORE spanning DOMINANT_SHARE of the photo's shorter side, no
    other box scoring NEAR_FLOOR or more (`seen`: a profile beside a frontal face scores just under the
    candidate floor, 0.29 against 0.3, where a selfie's body or background scores 0.21-0.23), and
    the mesh confirms it upright. The passes that look for other
    faces (upside down, tilted, mirrored, in tiles) are then skipped: on the evaluation set and every
    variant of it none added a face beside such a face (bench/fast_path.py), and a portrait's tiles
    were already skipped (faces half its size are within the whole-image passes' reach). A photo
    upside down or sideways, with a second person, or a face filling less of it takes the full search."""
    if len(candidates) != 1:
        return False
    face = candidates[0]
    if not (face.sure and face.score >= DOMINANT_SCORE and face.size >= DOMINANT_SHARE * min(image.size)):
        return False
    box = np.array([face.box[0], face.box[1], face.box[0] + face.box[2], face.box[1] + face.box[3]])
    if any(score >= NEAR_FLOOR and iou(np.array(other), box[np.newaxis])[0] < 0.3 for score, other in seen):
        return False
    _confirmed(image, registry, mesh_name, candidates, into=found)
    return len(found) == 1 and found[0].face is face and _upright_and_agreed(found[0])


def _tiled(image, registry, mesh_name, detectors, found, turns):
    """Faces too small for the whole-image passes, from tiles (see tiling), added to `found`: without
    a face so far, the full-range model's; then, beside the faces found, the short-range model's.
    Each has its own gate (the photo's size; the faces' size): a gate on the photo's size alone for
    both, 768 px, dropped faces of the same size in pixels on a smaller photo."""
    if not found:
        _confirmed(image, registry, mesh_name, candidates_without_faces(image, registry, detectors[-1], LOW_SCORE),
                   TILE_MAX_UNSURE, into=found)
        turns = sorted({upright_turn(e.face) for e in found})
    if not found:
        return
    beside = candidates_beside(image, registry, detectors, [e.face for e in found], turns, LOW_SCORE)
    _confirmed(image, registry, mesh_name, _fresh(beside, found), TILE_MAX_UNSURE, into=found)


def _confirmed(image, registry, mesh_name, candidates, max_unsure=None, into=None):
    """FaceEvidence for the candidates that the mesh model's face flag confirms, appended to `into`
    one by one (a new list when None) and returned; a candidate below its detector's minimum needs a
    second look too. One the photo does not confirm is tried on the mirrored photo (see
    _confirmed_in_mirror); search_faces has checked that a mesh model is configured."""
    confirmed = [] if into is None else into
    if not candidates:
        return confirmed
    spec = registry.state(mesh_name).spec
    roi_margin = (spec.param("roi_scale", 1.5) - 1) / 2
    min_flag = spec.param("min_face_flag", 0.5)
    input_size = registry.get(mesh_name).input_size[0]
    mirrored = []  # the mirrored photo, made once when needed
    unsure = sorted((face for face in candidates if not face.sure), key=lambda f: f.score, reverse=True)
    unsure = unsure[:MAX_UNSURE if max_unsure is None else max_unsure]
    for face in [face for face in candidates if face.sure] + unsure:
        evidence, looked = _confirm(image, face, registry, mesh_name, roi_margin, min_flag, input_size)
        if evidence is None and (face.sure or looked.mesh.face_flag >= RETRY_FLAG):
            evidence = _confirmed_in_mirror(image, mirrored, face, looked.region, registry, mesh_name, roi_margin,
                                            min_flag, input_size)
        if evidence is not None:
            confirmed.append(evidence)
    return confirmed


def _confirm(image, face, registry, mesh_name, roi_margin, min_flag, input_size, flag_enough=True):
    """(FaceEvidence or None: whether the mesh's face flag, and where needed the second look, confirm
    the face; the FaceEvidence of the mesh's first look, confirmed or not). Without `flag_enough`
    every face takes the second look."""
    geometry = crop_geometry(face, roi_margin, input_size)
    region = cut_square(image, geometry)
    mesh = run_mesh(region, roi_margin, registry, mesh_name)
    evidence = FaceEvidence(face, mesh, region, geometry, image, roi_margin)
    if (flag_enough and mesh.face_flag >= min_flag and face.sure
            and (face.score >= CERTAIN_SCORE or upright_turn(face) == 0)):
        return evidence, evidence
    if mesh.face_flag >= _retry_flag(face, min_flag):
        return second_look(evidence, registry, min_flag), evidence
    return None, evidence


def _retry_flag(face, min_flag):
    return RETRY_FLAG if face.sure else min_flag


def _confirmed_in_mirror(image, mirrored, face, region, registry, mesh_name, roi_margin, min_flag, input_size):
    """The face confirmed on the mirrored photo, when the photo itself did not confirm it; None otherwise.

    Neither model is symmetric: on the same region the mesh's flag can be 0.00 one way and 0.59 the
    other (a 120 px LFW face), the second look's score 0.68 and 0.78 (a blurred 64 px one), so a face
    found in a photo could be lost in its mirror image and the reverse (eval set mirrored: recall
    0.895 against 0.982). A face is one if either way confirms it: for a close call, the same
    decision on the photo and on its mirror image. A close call is one the detector was sure of, or
    whose mesh flag reached RETRY_FLAG (_confirmed asks); a candidate both models doubted (under the
    detector's minimum, flag under RETRY_FLAG) is not tried: on every --variants row of
    bench/detection.py that kept all 9 faces the mirror confirmed and cut its tries from 820 to 140
    (the median photo 71 -> 67 ms). A try costs a mesh run on the mirrored region and, where its
    flag passes, the confirmation on the mirrored photo (made once), which always takes the second
    look: a flag that passes one way only is no evidence of its own (the astronaut turned 120 or 135
    degrees: a badge on the suit flagged 0.003, 0.57 on its mirror image, and was a second face; the
    cost, one real face of the eval set mirrored, flagged 0.002 and 0.59, whose second look scores
    0.67: mirrored recall 0.965 -> 0.947, bench/detection.py --variants). The face the mirror confirms
    is placed by that mesh and mapped back (box mirrored, sides swapped); its evidence is the mesh
    run on the photo at that place (mesh points carry the subject's left and right, so the
    mirror's cannot be used as they are)."""
    if run_mesh(ImageOps.mirror(region), roi_margin, registry, mesh_name).face_flag < _retry_flag(face, min_flag):
        return None  # the common case: junk both ways
    if not mirrored:
        mirrored.append(ImageOps.mirror(image))
    found, _ = _confirm(mirrored[0], _mirror_face(face, image.width), registry, mesh_name, roi_margin, min_flag,
                        input_size, flag_enough=False)
    if found is None:
        return None
    placed = replace(_mirror_face(mesh_face(found, face.score), image.width), sure=found.face.sure)
    geometry = crop_geometry(placed, roi_margin, input_size)
    region = cut_square(image, geometry)
    return FaceEvidence(placed, run_mesh(region, roi_margin, registry, mesh_name), region, geometry, image,
                        roi_margin)


def _mirror_face(face, width):
    """The face in the photo mirrored left to right (`width` its width): box and keypoints mirrored,
    the subject's sides swapped back."""
    x, y, w, h = face.box
    keypoints = face.keypoints.copy()
    keypoints[:, 0] = width - keypoints[:, 0]
    return Face((width - x - w, y, w, h), face.score, keypoints, face.sure).with_sides_swapped()


def second_look(evidence, registry, min_flag):
    """A face the detector scored low (or the mesh doubted), kept only if the mesh, run again on the
    region its own points place, still sees a face, and the short-range detector on that upright,
    zoomed region scores it SECOND_LOOK_MIN_SCORE; then the face's box and keypoints come from that
    mesh (such a detector box is often off the face: centred on a neck or an ear). None otherwise."""
    refined = refine(evidence, registry)
    if refined.mesh.face_flag < min_flag:
        return None
    detector = registry.names_with_role("detector")[0]  # spec order: short range first
    size = registry.get(detector).input_size[0]
    region = cut_square(evidence.image, refined.crop_geometry(SECOND_LOOK_MARGIN, size))
    centre = size / 2
    scores = [face.score for face in run_detector(region, registry, detector, turns=(0,))
              if math.dist(face.center, (centre, centre)) < 0.15 * size]
    if max(scores, default=0.0) < SECOND_LOOK_MIN_SCORE:
        return None
    return FaceEvidence(mesh_face(refined, evidence.face.score), refined.mesh, refined.region, refined.geometry,
                        refined.image, refined.margin)


def mesh_face(evidence, score):
    """A Face placed by the mesh: the square of the mesh's extent, keypoints at the mesh's eye
    centres, nose tip, mouth centre and the face's edges beside the ears (for the tragions)."""
    points = evidence.mesh.points.copy()
    points[:, :2] = evidence.geometry.to_source(points[:, :2])
    right_eye, left_eye = eye_centres(points)
    keypoints = np.array([right_eye, left_eye, points[NOSE_TIP, :2], points[list(MOUTH_CENTRE), :2].mean(axis=0),
                          points[RIGHT_FACE_EDGE, :2], points[LEFT_FACE_EDGE, :2]], dtype=np.float32)
    extent = evidence.crop_geometry(0.0, 1)  # the mesh's own centre and extent, not its region's
    side, (cx, cy) = extent.side, extent.center
    return Face((cx - side / 2, cy - side / 2, side, side), score, keypoints, False)
