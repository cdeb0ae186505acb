"""Draw what the service saw on a stored crop: face box, the 6 detector keypoints, the face mesh."""
import math

import numpy as np
from PIL import ImageDraw

from .crop import CropGeometry

BOX_COLOUR = (255, 196, 0)
KEYPOINT_COLOUR = (255, 64, 64)
MESH_COLOUR = (64, 224, 255)


def geometry_from_dict(data):
    """A CropGeometry back from its to_dict() (as stored with a crop)."""
    return CropGeometry(tuple(data["center"]), data["side"], math.radians(data["angle_degrees"]), data["size"])


def draw_overlay(crop, geometry, face=None, mesh_points=None):
    """A copy of the crop with the face box and keypoints (source coordinates, mapped through the
    crop geometry) and the mesh points (crop coordinates) drawn on it."""
    image = crop.convert("RGB").copy()
    draw = ImageDraw.Draw(image)
    scale = max(1, image.width // 256)
    if mesh_points is not None:
        for x, y in np.asarray(mesh_points)[:, :2]:
            draw.ellipse((x - scale, y - scale, x + scale, y + scale), fill=MESH_COLOUR)
    if face is not None:
        box = face["box"]
        corners = [(box["x"], box["y"]), (box["x"] + box["width"], box["y"]),
                   (box["x"] + box["width"], box["y"] + box["height"]), (box["x"], box["y"] + box["height"])]
        mapped = [tuple(p) for p in geometry.to_crop(corners)]
        draw.polygon(mapped, outline=BOX_COLOUR, width=2 * scale)
        for x, y in geometry.to_crop(list(face["keypoints"].values())):
            r = 3 * scale
            draw.ellipse((x - r, y - r, x + r, y + r), outline=KEYPOINT_COLOUR, width=scale)
    return image
