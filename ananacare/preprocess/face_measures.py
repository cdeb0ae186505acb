"""Measures of the face from the 468-point mesh: pose, eye and mouth openness, geometry.

Index facts of MediaPipe's canonical face mesh (the subject's right eye is on the image's left).
Pose comes from the mesh's 3D points: the eye-to-eye axis and the forehead-to-chin axis give the
head's frame; its z components give yaw and pitch, and the eye axis in the image plane gives roll.
"""
import math

import numpy as np

RIGHT_EYE = {"outer": 33, "inner": 133, "upper": (160, 158), "lower": (144, 153)}
LEFT_EYE = {"outer": 263, "inner": 362, "upper": (387, 385), "lower": (373, 380)}
RIGHT_EYE_RING = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_RING = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
MOUTH = {"upper_inner": 13, "lower_inner": 14, "right_corner": 78, "left_corner": 308}
FOREHEAD_TOP, CHIN, GLABELLA, MID_FOREHEAD = 10, 152, 9, 151
RIGHT_FACE_EDGE, LEFT_FACE_EDGE = 234, 454
BELOW_LIP = 17
RIGHT_CHEEK, LEFT_CHEEK = 205, 425
RIGHT_BROW_MID, LEFT_BROW_MID = 105, 334
# (right side, left side) landmark pairs that mirror each other across the face's midline
MIRROR_PAIRS = ((33, 263), (133, 362), (159, 386), (145, 374), (105, 334), (70, 300), (61, 291),
                (234, 454), (205, 425), (50, 280), (93, 323), (132, 361), (58, 288), (172, 397))


def eye_centres(points):
    """(right, left) eye centres: the mean of each eye's contour, x and y."""
    return points[list(RIGHT_EYE_RING), :2].mean(axis=0), points[list(LEFT_EYE_RING), :2].mean(axis=0)


def inter_eye_distance(points):
    """Distance between the eye centres, in the points' pixels."""
    right, left = eye_centres(points)
    return float(np.linalg.norm(left - right))


def roll_degrees(points):
    """In-plane tilt of the eye line, degrees; positive when the subject's left eye is lower."""
    right, left = eye_centres(points)
    return math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))


def _unit(vector):
    return vector / max(np.linalg.norm(vector), 1e-9)


def yaw_pitch_degrees(points):
    """(yaw, pitch) in degrees from the mesh's 3D frame.

    yaw > 0: the face turns towards the image's right (the subject's left); pitch > 0: the chin
    goes up. Mirroring a photo flips the sign of yaw and keeps pitch.
    """
    across = _unit(points[LEFT_EYE["outer"]] - points[RIGHT_EYE["outer"]])
    down = points[CHIN] - points[FOREHEAD_TOP]
    down = _unit(down - np.dot(down, across) * across)
    yaw = math.degrees(math.asin(float(np.clip(across[2], -1, 1))))
    pitch = math.degrees(math.asin(float(np.clip(down[2], -1, 1))))
    return yaw, pitch


def eye_aspect_ratio(points, eye):
    """Soukupova and Cech's EAR: eyelid opening over eye width (about 0.25-0.35 open, < 0.15 closed)."""
    width = np.linalg.norm(points[eye["outer"], :2] - points[eye["inner"], :2])
    opening = sum(np.linalg.norm(points[u, :2] - points[d, :2]) for u, d in zip(eye["upper"], eye["lower"]))
    return float(opening / (2 * max(width, 1e-9)))


def mouth_opening(points):
    """Inner-lip gap over mouth width (0 closed; a wide smile with teeth about 0.1-0.2)."""
    gap = np.linalg.norm(points[MOUTH["upper_inner"], :2] - points[MOUTH["lower_inner"], :2])
    width = np.linalg.norm(points[MOUTH["right_corner"], :2] - points[MOUTH["left_corner"], :2])
    return float(gap / max(width, 1e-9))


def symmetry_score(points):
    """1 - mean distance between each landmark and its mirrored partner, over face width (1 = symmetric)."""
    xy = points[:, :2]
    across = _unit(xy[LEFT_FACE_EDGE] - xy[RIGHT_FACE_EDGE])  # the midline's normal
    midline_point = (xy[FOREHEAD_TOP] + xy[CHIN]) / 2
    width = np.linalg.norm(xy[LEFT_FACE_EDGE] - xy[RIGHT_FACE_EDGE])
    errors = []
    for right, left in MIRROR_PAIRS:
        offset = xy[right] - midline_point
        mirrored = xy[right] - 2 * np.dot(offset, across) * across
        errors.append(np.linalg.norm(mirrored - xy[left]))
    return float(1 - np.mean(errors) / max(width, 1e-9))


def face_geometry(points):
    """Width to height ratio (face edges over forehead-to-chin) and the symmetry score."""
    width = np.linalg.norm(points[LEFT_FACE_EDGE, :2] - points[RIGHT_FACE_EDGE, :2])
    height = np.linalg.norm(points[CHIN, :2] - points[FOREHEAD_TOP, :2])
    return {"width_to_height": round(float(width / max(height, 1e-9)), 4),
            "symmetry": round(symmetry_score(points), 4)}


def pose_and_openness(points, roll_offset_degrees=0.0):
    """Yaw, pitch, roll (roll_offset adds the crop's own rotation back), eye and mouth openness."""
    yaw, pitch = yaw_pitch_degrees(points)
    return {
        "yaw": round(yaw, 2), "pitch": round(pitch, 2),
        "roll": round(math.remainder(roll_degrees(points) + roll_offset_degrees, 360), 2),  # -180..180
        "eye_aspect_ratio": {"right": round(eye_aspect_ratio(points, RIGHT_EYE), 4),
                             "left": round(eye_aspect_ratio(points, LEFT_EYE), 4)},
        "mouth_opening": round(mouth_opening(points), 4),
    }
