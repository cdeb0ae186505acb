"""Tiles: faces too small for the whole-image passes, searched on windows of a model's input size
cut from the photo resized once (no per-tile crop, resize or letterbox; neighbours overlap by a
quarter, the last window flush with the far edge). The candidates are unverified: the caller
confirms them with the face mesh.
"""
import math
from dataclasses import replace

import numpy as np
from PIL import Image

from .detect import QUARTER_TURNS, detect_in_input, merge_faces

# Without a face found, the full-range model runs on GRID x GRID tiles: the photo zoomed to GRID
# inputs overlapping by a quarter (624 px) on its long side, whatever its size, so a face keeps the
# same size in the tiles as long as the photo does not shrink below that. A photo under
# MIN_GRID_SIDE (three inputs) has none (the six faces on the photo at x0.5, 500 px, stay unfound).
# Before, the grid had 2 to 4 tiles a side by the photo's size and only photos from 768 px had any:
# the same six 45 px faces were found on a 1000 px photo (30 px in the tiles) and none of them on it
# resized to 700 px, nor at 21 px in the tiles (bench/detection.py --variants, x0.7: recall 0.860
# -> 0.965, no false face).
GRID = 4
MIN_GRID_SIDE = 576
# The tiles run in every quarter turn on a photo from SIDEWAYS_MIN_SIDE (a phone's photo sent
# without its EXIF turn is large), upright only under it: 16 runs instead of 64 on a small photo
# without a face (coffee, 600 px: 229 -> 96 ms; the eval set's median photo 86 -> 77 ms, 1.95x ->
# 1.72x the detection before issue 15; recall unchanged on every --variants row). A sideways small
# photo whose faces are all too small for the whole-image passes is not searched.
SIDEWAYS_MIN_SIDE = 768
# Under SIDEWAYS_MIN_SIDE the grid is SMALL_GRID x SMALL_GRID (the photo zoomed to 480 px, at least
# 0.63x: a 45 px face is 28 px or more in the tiles): 9 runs instead of 16 (coffee 96 -> 77 ms, the
# eval set's median 1.72x -> 1.60x the detection before issue 15), recall unchanged on every
# --variants row.
SMALL_GRID = 3
# Beside faces found (a group photo with people near and far), tiles of the short-range model look
# for faces down to HALF_THE_SMALLEST of the smallest face found: people up to twice as far away
# as the furthest one found.
HALF_THE_SMALLEST = 0.5
# Zoomed so that such a face spans TILE_FACE px of the short-range input (it found 50-61 px faces
# on tiles at zoom 0.32, 16-20 px; the eval set's recall is the same at 16, 20 and 24 px) ...
TILE_FACE = 16
# ... the zoomed photo's long side at most MAX_TILED_SIDE: 7 tiles across, 35 runs on a 4:3 photo
# (the eval set's recall is the same at 1024; its slowest photo 257 ms at 640, 350 ms at 1024).
MAX_TILED_SIDE = 640
# Those tiles are skipped where faces of that size are within the whole-image passes' reach (a
# portrait, a selfie): those find faces down to about WHOLE_IMAGE_MIN_FACE px of the full-range
# input (bench/eval_set.py: the smallest found is 12 px, a 98 px face on a 1536 px photo; its 72 px
# faces on a 1600 px photo, 8.6 px there, score under 0.01).
WHOLE_IMAGE_MIN_FACE = 12
# A tile candidate over BEYOND_REACH times that size is one the whole-image passes would have seen
# had it been a face: zoomed-in texture, dropped before the mesh (the faces the tiles found on every
# --variants row were at most 1.7x; 42 % of the junk over 1.5x; the median photo with faces 52.8
# -> 49.4 ms of model time, x0.7 56.2 -> 47.7, recall the same on every row).
BEYOND_REACH = 2


def windows(width, height, size, overlap=0.25):
    """(left, top) of size x size windows covering a width x height image, neighbours overlapping by
    at least `overlap` of a window, the last flush with the far edge."""
    def starts(length):
        if length <= size:
            return [0]
        count = math.ceil((length - size) / (size * (1 - overlap))) + 1
        return [round(i * (length - size) / (count - 1)) for i in range(count)]
    return [(left, top) for top in starts(height) for left in starts(width)]


def detect_small_candidates(image, registry, detectors, zoom, iou_threshold=0.3, turns=QUARTER_TURNS,
                            low_score=None):
    """Faces too small for a whole-image pass: the image resized once by `zoom`, then each detector
    on square windows of its input size cut from it (no letterbox border), merged; unverified."""
    width, height = max(1, round(image.width * zoom)), max(1, round(image.height * zoom))
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0))
    faces = []
    for name in detectors:
        size = registry.get(name).input_size[0]
        padded = np.zeros((max(height, size), max(width, size), 3), dtype=np.uint8)  # black, as a letterbox
        padded[:height, :width] = pixels
        for left, top in windows(width, height, size):
            faces += detect_in_input(padded[top:top + size, left:left + size], registry, name, turns, low_score,
                                     zoom, (-left, -top))
    return merge_faces(faces, iou_threshold)


def candidates_without_faces(image, registry, full_range, low_score):
    """The full-range model on GRID x GRID tiles in every quarter turn from SIDEWAYS_MIN_SIDE, on
    SMALL_GRID x SMALL_GRID tiles upright only under it."""
    if max(image.size) < MIN_GRID_SIDE:
        return []
    grid = GRID if max(image.size) >= SIDEWAYS_MIN_SIDE else SMALL_GRID
    zoom = registry.get(full_range).input_size[0] * (grid - (grid - 1) * 0.25) / max(image.size)
    turns = QUARTER_TURNS if max(image.size) >= SIDEWAYS_MIN_SIDE else (0,)
    return detect_small_candidates(image, registry, [full_range], zoom, low_score=low_score, turns=turns)


def candidates_beside(image, registry, detectors, faces, turns, low_score):
    """The short-range model on tiles in the faces' turns, looking for faces down to half the
    smallest of them; none where faces of that size are within the whole-image passes' reach.
    Every candidate is unsure: zoomed-in texture fools the short-range model more (an astronaut's
    sleeve scored 0.57 there and the mesh took it for a face; junk up to 0.78 measured), so the
    second look decides on each."""
    short_range, full_range = detectors[0], detectors[-1]
    least = HALF_THE_SMALLEST * min(face.size for face in faces)  # photo pixels
    reach = WHOLE_IMAGE_MIN_FACE * max(image.size) / registry.get(full_range).input_size[0]  # photo pixels
    if least >= reach:
        return []
    zoom = min(TILE_FACE / least, MAX_TILED_SIDE / max(image.size))
    candidates = detect_small_candidates(image, registry, [short_range], zoom, turns=turns, low_score=low_score)
    return [replace(face, sure=False) for face in candidates if face.size <= BEYOND_REACH * reach]
