"""Square, upright face crops: one similarity transform from the face to a size x size image.

The output is square by construction (its size is fixed); the face centre lands on the crop
centre, the eye line is horizontal, and whatever lies outside the photo is padded.
"""
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

PAD_COLOUR = (0, 0, 0)


@dataclass(frozen=True)
class CropGeometry:
    """Where a square crop sits in its source image."""

    center: tuple  # (x, y) in source pixels
    side: float  # crop side in source pixels
    angle: float  # eye-line angle in radians (clockwise in image coordinates)
    size: int  # output side in pixels

    @property
    def pixels_per_output(self):
        """Source pixels per crop pixel."""
        return self.side / self.size

    def affine(self):
        """PIL AFFINE coefficients mapping crop (x, y) to source (x, y)."""
        k, cos, sin = self.pixels_per_output, math.cos(self.angle), math.sin(self.angle)
        half = self.size / 2
        cx, cy = self.center
        return (k * cos, -k * sin, cx - k * half * cos + k * half * sin,
                k * sin, k * cos, cy - k * half * sin - k * half * cos)

    def to_crop(self, points):
        """Map source points (N x 2) into crop pixel coordinates."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2) - np.asarray(self.center)
        k, cos, sin = self.pixels_per_output, math.cos(self.angle), math.sin(self.angle)
        rotated = points @ np.array([[cos, -sin], [sin, cos]])
        return rotated / k + self.size / 2

    def to_source(self, points):
        """Map crop points (N x 2) back into source pixel coordinates."""
        a, b, c, d, e, f = self.affine()
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.stack([a * points[:, 0] + b * points[:, 1] + c, d * points[:, 0] + e * points[:, 1] + f], 1)

    def bounds(self, pad=2):
        """(left, top, right, bottom) of the axis-aligned box the turned square can touch, padded by
        `pad` pixels (unclipped: it may reach past the image)."""
        reach = self.side * math.sqrt(2) / 2 + pad
        cx, cy = self.center
        return cx - reach, cy - reach, cx + reach, cy + reach

    def scaled(self, factor):
        """The same crop for an image `factor` times as large."""
        return CropGeometry((self.center[0] * factor, self.center[1] * factor), self.side * factor,
                            self.angle, self.size)

    def to_dict(self):
        """A JSON-ready dict."""
        return {"center": [round(float(v), 2) for v in self.center], "side": round(float(self.side), 2),
                "angle_degrees": round(math.degrees(self.angle), 3), "size": self.size}


def crop_geometry(face, margin, size):
    """Centred on the face, side = face size x (1 + 2 x margin), rotated by the eye line."""
    right_eye, left_eye = face.eyes
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    side = max(face.size * (1 + 2 * margin), 1e-3)
    return CropGeometry(face.center, side, angle, size)


def cut_square(image, geometry):
    """The size x size crop; large reductions go through Image.reduce first to avoid aliasing."""
    reduce_by = int(geometry.pixels_per_output)
    if reduce_by >= 2:
        region, origin = _region_around(image, geometry)
        if region is not None:
            reduced = region.reduce(reduce_by)
            factor = reduced.width / region.width
            local = CropGeometry(((geometry.center[0] - origin[0]) * factor,
                                  (geometry.center[1] - origin[1]) * factor),
                                 geometry.side * factor, geometry.angle, geometry.size)
            return _transform(reduced, local)
    return _transform(image, geometry)


def _region_around(image, geometry):
    """The part of the image the rotated crop can touch, clipped to the image; None if outside."""
    left, top, right, bottom = geometry.bounds()
    left, top = max(0, math.floor(left)), max(0, math.floor(top))
    right, bottom = min(image.width, math.ceil(right)), min(image.height, math.ceil(bottom))
    if right - left < 2 or bottom - top < 2:
        return None, None
    return image.crop((left, top, right, bottom)), (left, top)


def _transform(image, geometry):
    return image.transform((geometry.size, geometry.size), Image.Transform.AFFINE, geometry.affine(),
                           resample=Image.Resampling.BILINEAR, fillcolor=PAD_COLOUR)


def inside_photo(geometry, photo_size, side):
    """A side x side boolean mask of the crop `geometry` cut at that side: true where its pixels come
    from the photo (width, height) and not from the padding beyond its border. The photo's rectangle
    mapped into the crop, filled (a convex polygon: exact and fast at any side)."""
    width, height = photo_size
    corners = geometry.to_crop(np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float64))
    corners = corners * side / geometry.size
    canvas = Image.new("L", (side, side), 0)
    ImageDraw.Draw(canvas).polygon([tuple(map(float, corner)) for corner in corners], fill=255)
    return np.asarray(canvas) > 0
