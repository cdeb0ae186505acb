"""The 468-point face mesh (MediaPipe face_landmark) on an aligned square crop.

The mesh model expects an upright face filling 1 / roi_scale of its input (the detector box
scaled by 1.5). A crop of margin m holds the face in 1 / (1 + 2m) of its side, so the model's
region is the centre roi_scale / (1 + 2m) of the crop: the geometry is derived, not guessed.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..models.tensors import normalize, sigmoid

MESH_POINTS = 468


@dataclass(frozen=True)
class Mesh:
    """Landmarks in crop pixels (x, y; z in the same scale) and the face-presence score."""

    points: np.ndarray  # 468 x 3
    face_flag: float
    region: object = None  # the model's input image (the face box x roi_scale), for pixel measures

    def to_dict(self, decimals=2):
        """A JSON-ready dict."""
        return {"points": np.round(self.points, decimals).tolist(), "face_flag": round(float(self.face_flag), 4),
                "count": int(len(self.points))}

    @classmethod
    def from_dict(cls, data):
        """The mesh back from to_dict() (as stored beside a crop)."""
        return cls(np.asarray(data["points"], dtype=np.float64), float(data["face_flag"]))


def mesh_region(crop_size, margin, roi_scale):
    """(left, top, side) of the model's input region inside the crop."""
    side = crop_size * roi_scale / (1 + 2 * margin)
    offset = (crop_size - side) / 2
    return offset, offset, side


def run_mesh(crop, margin, registry, name):
    """Landmarks and face flag of the face centred in an aligned square crop."""
    spec = registry.state(name).spec
    model = registry.get(name)
    input_h, input_w = model.input_size
    left, top, side = mesh_region(crop.width, margin, spec.param("roi_scale", 1.5))
    if abs(side - crop.width) < 1e-6:  # the crop is the model's region: a plain resize
        region = crop if crop.size == (input_w, input_h) else crop.resize(
            (input_w, input_h), Image.Resampling.BILINEAR)
    else:
        region = crop.transform((input_w, input_h), Image.Transform.EXTENT, (left, top, left + side, top + side),
                                resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0))
    outputs = registry.run(name, normalize(np.asarray(region), spec.preprocessing))
    landmarks, flag = sorted(outputs.values(), key=lambda a: a.size, reverse=True)
    points = landmarks.reshape(MESH_POINTS, 3).astype(np.float64) * (side / input_w)
    points[:, 0] += left
    points[:, 1] += top
    return Mesh(points, float(sigmoid(flag.reshape(-1)[0])), region)
