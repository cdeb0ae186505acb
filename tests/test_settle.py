"""The primary face's crop does not depend on how loose its detector box was: a face in a group
photo can come with a box half as large again as the face, turned, beside it (a three-quarter face
in insightface's t1.jpg: levelled at -7 degrees there and -31 alone); settle() finds it afresh."""
import math

import numpy as np
import pytest

from ananacare.preprocess.crop import crop_geometry, cut_square
from ananacare.preprocess.detect import Face
from ananacare.preprocess.faces import FaceEvidence, refine, search_faces, settle
from ananacare.preprocess.landmarks import run_mesh
from photos import photo

MARGIN = 0.25


def _loose(face, grow, shift, turn_degrees, score=0.53):
    """The face's box grown, shifted by `shift` face sizes and its keypoints turned: a loose candidate,
    scored as the group photo's was."""
    x, y, w, h = face.box
    cx, cy = face.center
    cx, cy = cx + shift * w, cy + shift * h
    side = max(w, h) * grow
    angle = math.radians(turn_degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    keypoints = (face.keypoints - face.center) @ rotation.T + (cx, cy)
    return Face((cx - side / 2, cy - side / 2, side, side), score, keypoints.astype(np.float32), True)


def _evidence(image, face, registry):
    geometry = crop_geometry(face, MARGIN, 192)
    region = cut_square(image, geometry)
    return FaceEvidence(face, run_mesh(region, MARGIN, registry, "face_landmarks"), region, geometry, image, MARGIN)


@pytest.mark.parametrize("grow, shift, turn", [(1.6, 0.25, 20), (1.5, -0.2, -25)])
def test_a_loose_candidate_settles_where_a_good_one_does(registry, grow, shift, turn):
    image = photo("astronaut")
    good = search_faces(image, registry)[0][0]
    reference = settle(good, registry).crop_geometry(MARGIN, 512)
    loose = _evidence(image, _loose(good.face, grow, shift, turn), registry)
    settled = settle(loose, registry).crop_geometry(MARGIN, 512)
    assert math.dist(settled.center, reference.center) < 0.05 * reference.side
    assert abs(settled.side / reference.side - 1) < 0.08
    assert abs(math.degrees(settled.angle - reference.angle)) < 3
    once = refine(loose, registry)  # what one refinement alone gives, for the record
    assert once.mesh.face_flag <= settle(loose, registry).mesh.face_flag
