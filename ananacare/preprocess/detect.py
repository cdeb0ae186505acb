"""Face detection with BlazeFace (MediaPipe), decoded from the raw model outputs.

Facts from MediaPipe's published graph configs: the input is letterboxed (aspect kept, black
border); SSD anchors with a fixed size of 1, centres at (cell + 0.5) / grid, and layers of equal
stride sharing one grid; each output row is a box (centre offsets and size, in input pixels)
followed by 6 keypoints; score = sigmoid(clip(raw, -100, 100)); weighted NMS.

BlazeFace is trained on roughly upright faces: it misses faces turned past about 45 degrees and,
worse, reads an upside-down face as an upright one (its "eyes" on the mouth). So every detector
runs on its letterboxed input in the four quarter turns, and each face is mapped back to the
photo with its keypoints, which then give the face's in-plane angle over the full circle.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from ..models.tensors import normalize, sigmoid

KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


@dataclass(frozen=True)
class Face:
    """A detected face in some image's pixel coordinates."""

    box: tuple  # (x, y, width, height)
    score: float
    keypoints: np.ndarray  # 6 x 2, in KEYPOINT_NAMES order
    sure: bool = True  # scored at least the detector's own minimum (else the mesh and a second look decide)

    @property
    def center(self):
        """(x, y) of the box centre."""
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    @property
    def size(self):
        """The box's longer side."""
        return max(self.box[2], self.box[3])

    @property
    def eyes(self):
        """(right eye, left eye) points: the subject's right eye is on the image's left."""
        return self.keypoints[0], self.keypoints[1]

    def scaled(self, factor):
        """The same face in an image `factor` times as large."""
        return Face(tuple(v * factor for v in self.box), self.score, self.keypoints * factor, self.sure)

    def with_sides_swapped(self):
        """The same box with left and right keypoints swapped (eyes, ears): a face seen in a mirror,
        its points mapped back, has the subject's right eye where the left one is."""
        return Face(self.box, self.score, self.keypoints[[1, 0, 2, 3, 5, 4]], self.sure)

    def to_dict(self):
        """A JSON-ready dict with named keypoints."""
        x, y, w, h = (round(float(v), 2) for v in self.box)
        return {
            "box": {"x": x, "y": y, "width": w, "height": h},
            "score": round(float(self.score), 4),
            "keypoints": {name: [round(float(px), 2), round(float(py), 2)]
                          for name, (px, py) in zip(KEYPOINT_NAMES, self.keypoints)},
        }


@lru_cache(maxsize=8)
def ssd_anchors(input_size, strides, anchors_per_layer):
    """Anchor centres (N x 2, normalised) for MediaPipe's SSD layout; equal strides share a grid."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride, repeats = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            repeats += anchors_per_layer
            layer += 1
        grid = int(np.ceil(input_size / stride))
        ys, xs = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        cells = np.stack([(xs.ravel() + 0.5) / grid, (ys.ravel() + 0.5) / grid], axis=1)
        centres.append(np.repeat(cells, repeats, axis=0))
    anchors = np.concatenate(centres).astype(np.float32)
    anchors.setflags(write=False)
    return anchors


def letterbox(image, size):
    """Fit an RGB image into size x size with a black border; (pixels, scale, pad_x, pad_y)."""
    scale = size / max(image.width, image.height)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    canvas = Image.new("RGB", (size, size))
    pad_x, pad_y = (size - width) // 2, (size - height) // 2
    canvas.paste(resized, (pad_x, pad_y))
    return np.asarray(canvas), scale, pad_x, pad_y


def decode_boxes(regressors, raw_scores, anchors, input_size, min_score):
    """Raw outputs -> (boxes N x 4 as x1,y1,x2,y2; keypoints N x 6 x 2; scores N) in input pixels."""
    scores = sigmoid(raw_scores.reshape(-1))
    keep = scores >= min_score
    rows, anchors, scores = regressors.reshape(len(anchors), -1)[keep], anchors[keep], scores[keep]
    centre = anchors * input_size
    cx, cy = rows[:, 0] + centre[:, 0], rows[:, 1] + centre[:, 1]
    w, h = rows[:, 2], rows[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    keypoints = rows[:, 4:16].reshape(-1, 6, 2) + centre[:, np.newaxis, :]
    return boxes, keypoints, scores


def iou(box, boxes):
    """IoU of one box (or of each of N boxes, shape N x 1 x 4) with every box of `boxes` (M x 4)."""
    x1 = np.maximum(box[..., 0], boxes[:, 0])
    y1 = np.maximum(box[..., 1], boxes[:, 1])
    x2 = np.minimum(box[..., 2], boxes[:, 2])
    y2 = np.minimum(box[..., 3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def weighted_nms(boxes, keypoints, scores, iou_threshold):
    """MediaPipe's weighted NMS: overlapping boxes are averaged by score, the best score kept."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    results = []
    remaining = np.arange(len(scores))
    while remaining.size:
        overlap = iou(boxes[remaining[0]], boxes[remaining]) > iou_threshold
        group, remaining = remaining[overlap], remaining[~overlap]
        weights = scores[group][:, np.newaxis]
        box = (boxes[group] * weights).sum(0) / weights.sum()
        points = (keypoints[group] * weights[:, :, np.newaxis]).sum(0) / weights.sum()
        results.append((box, points, float(scores[group[0]])))
    return results


QUARTER_TURNS = (0, 90, 180, 270)  # degrees counterclockwise: every face within 45 degrees of one
EIGHTH_TURNS = (45, 135, 225, 315)  # the diagonals, for faces the quarter turns miss
# Turned passes see more texture that is nearly a face (a torso, a cat): a turned input must score
# at least this (MediaPipe's full-range minimum; false faces measured 0.51-0.56, real ones >= 0.61).
TURNED_MIN_SCORE = 0.6
SEEN_SCORE = 0.2  # run_detector's `seen`: boxes scored this much or more


def turned_input(pixels, degrees):
    """The square detector input turned counterclockwise by `degrees`, the same size; and the
    function mapping points (N x 2) of the turned input back into the unturned one."""
    size = pixels.shape[0]
    angle = np.radians(degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    if degrees % 90 == 0:
        turned = np.ascontiguousarray(np.rot90(pixels, degrees // 90))
        fit = 1.0
    else:  # turned with its corners kept and shrunk back to the input size, in one affine resampling
        fit = abs(cos) + abs(sin)
        centre = size / 2
        # each output point p is sampled at back(p): input = R(-degrees) (p - centre) fit + centre
        a, b, d, e = fit * cos, -fit * sin, fit * sin, fit * cos
        turned = np.asarray(Image.fromarray(pixels).transform(
            (size, size), Image.Transform.AFFINE,
            (a, b, centre - (a + b) * centre, d, e, centre - (d + e) * centre), Image.Resampling.BILINEAR))

    def back(points):
        # a counterclockwise turn maps (x, y) about the centre to (x cos + y sin, -x sin + y cos)
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2) * fit - size * fit / 2
        return np.stack([xy[:, 0] * cos - xy[:, 1] * sin, xy[:, 0] * sin + xy[:, 1] * cos], axis=1) + size / 2
    return turned, back


def run_detector(image, registry, name, turns=QUARTER_TURNS, low_score=None, letterboxed=None, mirror=False,
                 seen=None):
    """Faces found by one BlazeFace model on the image turned by each angle, in the image's pixels.

    With `low_score`, boxes scoring from it up to the model's own minimum are kept too, as faces of
    their own where they overlap none of the confident ones (never averaged into a confident face,
    whose box they would drag): the face mesh decides on them. `letterboxed`, a dict, keeps the
    image's letterboxed inputs by size for the next pass on the same image. With `mirror`, the
    model looks at the mirrored input (its faces mapped back into the image unmirrored). `seen`, a
    list, receives every box scored SEEN_SCORE or more, unmerged, as (score, (x1, y1, x2, y2)) in the
    image's pixels (for an unturned, unmirrored pass): what a pass saw besides what it kept."""
    size = registry.get(name).input_size[0]
    if letterboxed is None:
        letterboxed = {}
    if size not in letterboxed:
        letterboxed[size] = letterbox(image, size)
    pixels, scale, pad_x, pad_y = letterboxed[size]
    return detect_in_input(pixels, registry, name, turns, low_score, scale, (pad_x, pad_y), mirror, seen)


def detect_in_input(pixels, registry, name, turns=(0,), low_score=None, scale=1.0, offset=(0, 0), mirror=False,
                    seen=None):
    """Faces one BlazeFace model finds in a square input of its size (uint8 pixels) turned by each
    angle, in the pixels of the image the input shows: image = (input - offset) / scale."""
    spec = registry.state(name).spec
    size = pixels.shape[0]
    anchors = ssd_anchors(size, tuple(spec.param("anchor_strides")), spec.param("anchors_per_layer"))
    offset = np.asarray(offset, dtype=np.float64)
    threshold = spec.param("iou_threshold", 0.3)
    if mirror:
        pixels = np.ascontiguousarray(pixels[:, ::-1])
    faces = []
    for degrees in turns:
        turned, back = turned_input(pixels, degrees)
        if mirror:
            back = _mirrored_back(back, size)
        outputs = registry.run(name, normalize(turned, spec.preprocessing))
        regressors, raw_scores = sorted(outputs.values(), key=lambda a: a.shape[-1], reverse=True)
        min_score = spec.param("min_score", 0.5) if degrees == 0 else max(spec.param("min_score", 0.5),
                                                                          TURNED_MIN_SCORE)
        floor = min_score if low_score is None else min(min_score, low_score)
        if seen is not None and degrees == 0 and not mirror:
            near, _, near_scores = decode_boxes(regressors, raw_scores, anchors, size, SEEN_SCORE)
            seen += [(float(score), tuple((box - np.tile(offset, 2)) / scale)) for box, score in zip(near, near_scores)]
        boxes, keypoints, scores = decode_boxes(regressors, raw_scores, anchors, size, floor)
        sure = scores >= min_score
        found = weighted_nms(boxes[sure], keypoints[sure], scores[sure], threshold)
        if not sure.all():
            unsure = ~sure
            if found:
                kept = np.stack([box for box, _, _ in found])
                unsure &= iou(boxes[:, np.newaxis, :], kept).max(axis=1) <= threshold
            found += weighted_nms(boxes[unsure], keypoints[unsure], scores[unsure], threshold)
        for box, points, score in found:
            face = _face_back(box, points, score, back, offset, scale, degrees, score >= min_score)
            faces.append(face.with_sides_swapped() if mirror else face)
    return faces


def _mirrored_back(back, size):
    """`back` of a turned mirrored input, continued into the unmirrored input (x -> size - x)."""
    def unmirrored(points):
        xy = back(points)
        xy[:, 0] = size - xy[:, 0]
        return xy
    return unmirrored


def _face_back(box, points, score, back, offset, scale, degrees, sure=True):
    """A face found in a turned input, in the photo's pixels (a diagonal turn's box becomes square)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    width, height = x2 - x1, y2 - y1
    if degrees % 180 == 90:
        width, height = height, width
    elif degrees % 90:
        width = height = max(width, height)
    unit = back([[0, 0], [1, 0]])
    stretch = float(np.linalg.norm(unit[1] - unit[0])) / scale
    centre = (back([(x1 + x2) / 2, (y1 + y2) / 2])[0] - offset) / scale
    width, height = width * stretch, height * stretch
    keypoints = ((back(points) - offset) / scale).astype(np.float32)
    return Face((float(centre[0] - width / 2), float(centre[1] - height / 2), width, height), score, keypoints,
                sure)


def _corners(face):
    x, y, w, h = face.box
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def merge_faces(faces, iou_threshold):
    """Greedy NMS over faces from several detectors: the best-scored of overlapping ones stays (a face
    above its detector's minimum before one below it)."""
    kept = []
    for face in sorted(faces, key=lambda f: (f.sure, f.score), reverse=True):
        if not kept or iou(_corners(face), np.stack([_corners(k) for k in kept])).max() <= iou_threshold:
            kept.append(face)
    return kept


def detect_candidates(image, registry, detectors, iou_threshold=0.3, turns=QUARTER_TURNS, low_score=None,
                      letterboxed=None, mirror=False):
    """Faces from every detector (short and full range) on the whole image (or its mirror image)
    turned by each of `turns`, merged; unverified."""
    faces = [face for name in detectors
             for face in run_detector(image, registry, name, turns, low_score, letterboxed, mirror)]
    return merge_faces(faces, iou_threshold)
