"""Faces BlazeFace's own minimum scores lose, found without a false face (issue 15).

A candidate below the detector's minimum counts only when the face mesh confirms it and a second
look agrees; faces beside a large one are searched in tiles; a photo with two people fails
`single_face` even when the second one is turned away.
"""

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from ananacare.preprocess.detect import run_detector
from ananacare.preprocess.faces import find_faces
from photos import encode, photo

LFW_SPOTS = [(800, 120), (1150, 380), (900, 650), (1350, 150)]


def lfw_face(index, side):
    """One of scikit-image's LFW faces (25 x 25 grey, tightly cropped), scaled to side x side."""
    patch = (data.lfw_subset()[index] * 255).astype(np.uint8)
    return Image.fromarray(patch).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)


def group_photo():
    """The astronaut close to the camera (face about 110 px) and four people further away (grey LFW
    faces of 120 px) on a 1600 x 1000 photo of grass."""
    canvas = Image.fromarray(data.grass()).convert("RGB").resize((1600, 1000), Image.Resampling.BICUBIC)
    canvas.paste(photo("astronaut"), (60, 300))
    for index, spot in zip((1, 3, 6, 7), LFW_SPOTS):
        canvas.paste(lfw_face(index, 120), spot)
    return canvas


def test_group_photo_with_one_large_face_counts_every_face(registry):
    faces = find_faces(group_photo(), registry)
    assert len(faces) == 5
    assert faces[0].size > 90 and 60 + 172 <= faces[0].center[0] <= 60 + 282  # the astronaut, primary
    for x, y in LFW_SPOTS:
        assert sum(x <= f.center[0] <= x + 120 and y <= f.center[1] <= y + 120 for f in faces) == 1, (x, y)


def astronaut_and_cameraman():
    """The astronaut (frontal) beside the cameraman (grey, three-quarter profile, one eye hidden)."""
    pair = Image.new("RGB", (1024, 512))
    pair.paste(photo("astronaut"), (0, 0))
    pair.paste(photo("camera"), (512, 0))
    return pair


def test_a_face_turned_away_beside_a_frontal_one_is_found(registry):
    faces = find_faces(astronaut_and_cameraman(), registry)
    assert len(faces) == 2
    centres = sorted(f.center for f in faces)
    assert 172 <= centres[0][0] <= 282 and 55 <= centres[0][1] <= 175  # the astronaut
    assert 512 + 180 <= centres[1][0] <= 512 + 268 and 85 <= centres[1][1] <= 192  # the cameraman


def test_single_face_fails_for_a_frontal_and_a_profile_face(client):
    response = client.post("/api/validate/image", data=encode(astronaut_and_cameraman(), "JPEG", quality=92),
                           content_type="image/jpeg")
    assert response.status_code == 200
    body = response.get_json()
    single = next(c for c in body["checks"] if c["name"] == "single_face")
    assert len(body["faces"]) == 2
    assert single["passed"] is False and single["value"] == 2
    assert body["valid"] is False


def non_faces():
    """scikit-image's LFW non-face patches (the negatives of its face set), 80 px each, on grass."""
    canvas = Image.fromarray(data.grass()).convert("RGB").resize((900, 300), Image.Resampling.BICUBIC)
    for i in range(8):
        patch = (data.lfw_subset()[100 + i] * 255).astype(np.uint8)
        canvas.paste(Image.fromarray(patch).convert("RGB").resize((80, 80), Image.Resampling.BICUBIC),
                     (30 + 110 * i, 110))
    return canvas


NO_FACE = {
    "coffee": lambda: photo("coffee"),
    "rocket": lambda: photo("rocket"),  # its badge fools the mesh (flag 0.94); the second look does not agree
    "chelsea": lambda: photo("chelsea"),  # a cat
    "camera_background": lambda: photo("camera").crop((300, 0, 512, 512)),  # the tripod, field and buildings
    "astronaut_suit": lambda: photo("astronaut").crop((0, 200, 512, 512)),  # a sleeve scored 0.41, flag 1.0
    "coins": lambda: photo("coins"),
    "horse": lambda: photo("horse"),
    "lfw_non_faces": non_faces,
}


@pytest.mark.parametrize("name", NO_FACE)
@pytest.mark.parametrize("view", ["as_is", "mirrored"])
def test_no_face_at_the_low_thresholds(registry, name, view):
    # mirrored: the cat, read sideways, scored 0.64 with a mesh flag of 0.9 until a face found
    # only in a turned pass under CERTAIN_SCORE needed the second look too
    image = NO_FACE[name]()
    assert find_faces(image if view == "as_is" else ImageOps.mirror(image), registry) == []


def test_mirrored_pass_maps_faces_back_with_eyes_and_ears_swapped(registry):
    """The model on the mirrored input finds the face where it finds it on the mirrored photo,
    mapped back: the box mirrored, the subject's right eye still on the image's left."""
    image = photo("astronaut").crop((60, 0, 400, 300))
    name = registry.names_with_role("detector")[-1]
    [face] = run_detector(image, registry, name, turns=(0,), mirror=True)
    [seen] = run_detector(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), registry, name, turns=(0,))
    x, y, w, h = seen.box
    assert np.allclose(face.box, (image.width - x - w, y, w, h), atol=1.0)
    right_eye, left_eye = face.eyes
    assert right_eye[0] < left_eye[0]
    assert np.allclose(face.keypoints[[1, 0, 2, 3, 5, 4], 0], image.width - seen.keypoints[:, 0], atol=1.0)
    assert np.allclose(face.keypoints[[1, 0, 2, 3, 5, 4], 1], seen.keypoints[:, 1], atol=1.0)


def four_on_the_moon():
    """Four grey LFW faces (scikit-image's 68-71, 120 px) in a row on the moon's surface, 800 x 300."""
    canvas = Image.fromarray(data.moon()).convert("RGB").resize((800, 300), Image.Resampling.BICUBIC)
    for i, index in enumerate(range(68, 72)):
        canvas.paste(lfw_face(index, 120), (40 + 190 * i, 90))
    return canvas


def test_a_photo_and_its_mirror_image_have_the_same_faces(registry):
    # the mesh's flag on one of these faces depends on which way it faces: 3 faces as is and 4
    # mirrored until a candidate the photo rejects was tried on the mirrored photo too
    image = four_on_the_moon()
    assert len(find_faces(image, registry)) == len(find_faces(ImageOps.mirror(image), registry)) == 4


TURNED = {  # photo, its face count
    "astronaut": (lambda: photo("astronaut"), 1),  # turned 120 or 135 degrees, a badge on the suit was a
    # second face: the mesh flagged it 0.003, 0.57 on its mirror image, which alone confirmed it
    "camera": (lambda: photo("camera"), 1),
    "astronaut_and_cameraman": (astronaut_and_cameraman, 2),
    "coffee": (lambda: photo("coffee"), 0),
    "chelsea": (lambda: photo("chelsea"), 0),
}


@pytest.mark.parametrize("name", TURNED)
def test_a_photo_turned_to_any_angle_has_its_faces_and_no_more(registry, name):
    make, count = TURNED[name]
    image = make()
    wrong = {}
    for degrees in range(0, 360, 15):
        found = len(find_faces(image.rotate(degrees, Image.Resampling.BICUBIC, expand=True), registry))
        if found != count:
            wrong[degrees] = found
    assert wrong == {}, f"face counts at the angles that differ from {count}"


def test_a_face_placed_by_the_mesh_is_where_the_mesh_is(registry):
    """A second look places the face by the mesh's points, not by the region the mesh looked at: a
    region off the face by a third of its side gave a box off the face too, and the same face,
    confirmed again from a better candidate, counted twice (a turned group photo, 7 faces for 6)."""
    from ananacare.preprocess.crop import crop_geometry, cut_square
    from ananacare.preprocess.faces import FaceEvidence, mesh_face, model_roles
    from ananacare.preprocess.landmarks import run_mesh
    image = photo("astronaut")
    [face] = find_faces(image, registry)
    _, mesh_name = model_roles(registry)
    margin, size = 0.25, registry.get(mesh_name).input_size[0]
    shift = face.size / 3
    off = type(face)((face.box[0] + shift, face.box[1], *face.box[2:]), face.score, face.keypoints + [shift, 0],
                     face.sure)
    geometry = crop_geometry(off, margin, size)
    region = cut_square(image, geometry)
    evidence = FaceEvidence(off, run_mesh(region, margin, registry, mesh_name), region, geometry, image, margin)
    placed = mesh_face(evidence, face.score)
    assert abs(placed.center[0] - face.center[0]) < 0.15 * face.size
    assert abs(placed.center[1] - face.center[1]) < 0.15 * face.size
    nose = placed.keypoints[2]
    x, y, w, h = placed.box
    assert x <= nose[0] <= x + w and y <= nose[1] <= y + h
