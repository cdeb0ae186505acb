"""OFIQ's geometric measures from MediaPipe's 468-point mesh: eyes open, mouth closed, inter-eye
distance, head size, crop and margins, single face.

OFIQ places them with ADNet's 98 landmarks; here each ADNet part has its mesh counterpart:
eye centre = the middle of the two eye corners (as OFIQ's LEFT/RIGHT_EYE_CORNERS), chin = mesh
point 152 (ADNet 16), eyelid and inner-lip gaps = the largest of the vertical point pairs
(7 per eye and 7 across the inner lips here, 3 each in ADNet). T is the distance from the
midpoint between the eye centres to the chin. "Right eye" is the subject's right eye (on the
image's left in an upright photo), as in OFIQ.
"""
import math

import numpy as np

RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (263, 362)
# (upper lid, lower lid) pairs along each eye, outer to inner corner
RIGHT_EYELID_PAIRS = ((246, 7), (161, 163), (160, 144), (159, 145), (158, 153), (157, 154), (173, 155))
LEFT_EYELID_PAIRS = ((466, 249), (388, 390), (387, 373), (386, 374), (385, 380), (384, 381), (398, 382))
# (upper inner lip, lower inner lip) pairs, right corner to left corner
INNER_LIP_PAIRS = ((80, 88), (81, 178), (82, 87), (13, 14), (312, 317), (311, 402), (310, 318))
CHIN = 152
MOUTH_CENTRE = (13, 14)


def eye_corner_centres(points):
    """(right, left) eye centres: the middle of each eye's two corners (x, y)."""
    xy = points[:, :2]
    return xy[list(RIGHT_EYE_CORNERS)].mean(axis=0), xy[list(LEFT_EYE_CORNERS)].mean(axis=0)


def t_metric(points):
    """OFIQ's T: the distance from the midpoint between the eyes to the chin."""
    right, left = eye_corner_centres(points)
    return float(np.linalg.norm(points[CHIN, :2] - (right + left) / 2))


def largest_gap(points, pairs):
    """The largest distance between the points of any pair (x, y)."""
    xy = points[:, :2]
    return max(float(np.linalg.norm(xy[a] - xy[b])) for a, b in pairs)


def geometric_measures(points, image_size, yaw_degrees):
    """OFIQ's native geometric values for one face; `points` in the photo's pixels."""
    width, height = image_size
    right, left = eye_corner_centres(points)
    middle = (right + left) / 2
    t = max(t_metric(points), 1e-6)
    eye_distance = max(float(np.linalg.norm(left - right)), 1e-6)
    cos_yaw = math.cos(math.radians(yaw_degrees))
    return {
        "eyes_open": min(largest_gap(points, RIGHT_EYELID_PAIRS), largest_gap(points, LEFT_EYELID_PAIRS)) / t,
        "mouth_closed": largest_gap(points, INNER_LIP_PAIRS) / t,
        "inter_eye_distance": eye_distance / cos_yaw if abs(cos_yaw) > 1e-6 else None,
        "head_size": t / height,
        "crop_left": float(right[0]) / eye_distance,
        "crop_right": (width - float(left[0])) / eye_distance,
        "margin_above": float(middle[1]) / t,
        "margin_below": (height - float(middle[1])) / t,
    }


def second_face_ratio(faces):
    """OFIQ's single-face measure: the area of the second largest face over the largest (0: one face)."""
    areas = sorted((face.box[2] * face.box[3] for face in faces), reverse=True)
    return float(areas[1] / areas[0]) if len(areas) > 1 and areas[0] > 0 else 0.0


def cheek_zones(points):
    """OFIQ's two cheek zones as (x, y, side) squares: side 0.3 x the inter-eye distance, below each
    eye centre by half the eye-to-mouth distance, outward from it (subject's right zone to the left)."""
    right, left = eye_corner_centres(points)
    mouth = points[list(MOUTH_CENTRE), :2].mean(axis=0)
    side = int(np.linalg.norm(left - right) * 0.3)
    drop = int(np.linalg.norm(mouth - (right + left) / 2) / 2)
    return ((int(right[0]) - side, int(right[1]) + drop, side), (int(left[0]), int(left[1]) + drop, side))
