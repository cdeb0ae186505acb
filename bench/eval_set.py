"""The face-detection evaluation set: real photos from packages and the hard cases derived from them.

Nothing large is committed: the photos come from scikit-image's bundled data and from the
`insightface` 2.1 wheel's sample images (downloaded once with `pip download --no-deps`, checked by
sha256), and the scenes are rebuilt here. The face boxes of the real photos were drawn and checked
by eye (`eval_labels.json`); every derived scene's boxes follow from how it was made (scaled,
pasted, turned). LFW faces (scikit-image's `lfw_subset`, 25 x 25 grey) are the small blurred
grey faces; its non-face patches are hard negatives.

    python bench/eval_set.py --out /tmp/eval     # writes the scenes as PNG + labels.json to look at
"""
import argparse
import hashlib
import json
import math
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

LABELS = json.loads((Path(__file__).with_name("eval_labels.json")).read_text())["sources"]
WHEEL = "insightface==2.1"
WHEEL_CACHE = Path.home() / ".cache" / "ananacare-eval"
KINDS = ("group", "small", "profile", "grey", "single", "no_face")


@dataclass
class Scene:
    """One photo of the set: its faces and the regions where a detection counts neither way."""

    name: str
    kind: str
    image: Image.Image
    faces: list  # [x1, y1, x2, y2]
    ignore: list = field(default_factory=list)


def _insightface_image(name, cache=WHEEL_CACHE):
    """A sample image from the insightface wheel (downloaded into `cache` once), sha256-checked."""
    wheels = sorted(cache.glob("insightface-2.1-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", str(cache)],
                       check=True)
        wheels = sorted(cache.glob("insightface-2.1-*.whl"))
    label = LABELS[f"insightface_{name}"]
    member = label["package"].split(", ")[1]
    data = zipfile.ZipFile(wheels[0]).read(member)
    if hashlib.sha256(data).hexdigest() != label["sha256"]:
        raise RuntimeError(f"{member}: unexpected sha256")
    from io import BytesIO
    return Image.open(BytesIO(data)).convert("RGB")


def _skimage(name):
    from skimage import data
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _lfw(faces=True):
    """scikit-image's LFW subset as 8-bit grey images: 100 faces, then 100 non-faces."""
    from skimage import data
    patches = (data.lfw_subset() * 255).astype(np.uint8)
    return [Image.fromarray(p).convert("RGB") for p in (patches[:100] if faces else patches[100:])]


def _boxes(label):
    return [list(map(float, box)) for box in LABELS[label]["faces"]]


def _scale(boxes, factor, dx=0.0, dy=0.0):
    return [[b[0] * factor + dx, b[1] * factor + dy, b[2] * factor + dx, b[3] * factor + dy] for b in boxes]


def _crop(boxes, left, top, right, bottom):
    """The boxes wholly inside the crop, in its coordinates."""
    return [[b[0] - left, b[1] - top, b[2] - left, b[3] - top] for b in boxes
            if b[0] >= left and b[1] >= top and b[2] <= right and b[3] <= bottom]


def _turn(image, boxes, degrees):
    """The image turned counterclockwise (canvas grown); each box's turned corners' bounding box,
    shrunk back to the box's own area about its centre (the face does not grow when turned)."""
    turned = image.rotate(degrees, Image.Resampling.BICUBIC, expand=True)
    angle = math.radians(degrees)
    out = []
    for x1, y1, x2, y2 in boxes:
        cx, cy = (x1 + x2) / 2 - image.width / 2, (y1 + y2) / 2 - image.height / 2
        nx = cx * math.cos(angle) + cy * math.sin(angle) + turned.width / 2
        ny = -cx * math.sin(angle) + cy * math.cos(angle) + turned.height / 2
        w, h = x2 - x1, y2 - y1
        out.append([nx - w / 2, ny - h / 2, nx + w / 2, ny + h / 2])
    return turned, out


def _background(name, size):
    return _skimage(name).resize(size, Image.Resampling.BICUBIC)


def _paste(canvas, image, position, side=None):
    """Paste `image` (resized to `side` on its long side) at position; its box on the canvas."""
    if side is not None:
        factor = side / max(image.size)
        image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BICUBIC)
    canvas.paste(image, position)
    return image, [position[0], position[1], position[0] + image.width, position[1] + image.height]


def _lfw_scene(background, size, positions, side, faces, blur=0.0):
    canvas = _background(background, size)
    boxes = []
    for index, position in zip(faces, positions):
        patch = _lfw()[index]
        if blur:
            patch = patch.resize((side, side), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(blur))
        _, box = _paste(canvas, patch, position, side)
        boxes.append(box)
    return canvas, boxes


def build():
    """Every scene of the set, in a fixed order."""
    t1, t1_faces, t1_ignore = _insightface_image("t1"), _boxes("insightface_t1"), LABELS["insightface_t1"]["ignore"]
    astronaut, astro_faces = _skimage("astronaut"), _boxes("skimage_astronaut")
    camera, camera_faces = _skimage("camera"), _boxes("skimage_camera")
    tom, tom_faces = _insightface_image("tom_hanks"), _boxes("insightface_tom_hanks")
    grey = ImageOps.grayscale(t1).convert("RGB")
    scenes = [
        Scene("t1", "group", t1, t1_faces, t1_ignore),
        Scene("t1_right_half", "group", t1.crop((700, 0, 1280, 886)), _crop(t1_faces, 700, 0, 1280, 886),
              _crop(t1_ignore, 700, 0, 1280, 886)),
        Scene("t1_grey", "grey", grey, t1_faces, t1_ignore),
        Scene("t1_small", "small", t1.resize((576, 399), Image.Resampling.LANCZOS), _scale(t1_faces, 0.45),
              _scale(t1_ignore, 0.45)),
        Scene("t1_grey_small_blurred", "grey",
              grey.resize((640, 443), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(1.2)),
              _scale(t1_faces, 0.5), _scale(t1_ignore, 0.5)),
    ]
    turned, boxes = _turn(t1, t1_faces, 25)
    scenes.append(Scene("t1_turned_25", "profile", turned, boxes, _turn(t1, t1_ignore, 25)[1]))

    # one large face and several small ones (a group photo with one person close to the camera)
    canvas = _background("grass", (1600, 1000))
    _, box = _paste(canvas, astronaut, (80, 300))
    faces = [[box[0] + b[0], box[1] + b[1], box[0] + b[2], box[1] + b[3]] for b in astro_faces]
    for index, position in zip((0, 2, 5, 9), ((750, 150), (980, 420), (1250, 200), (1380, 640))):
        faces.append(_paste(canvas, _lfw()[index], position, 72)[1])
    scenes.append(Scene("astronaut_and_four_small", "group", canvas, faces))

    canvas, faces = _lfw_scene("gravel", (1000, 420), [(40 + 160 * i, 120 + 60 * (i % 2)) for i in range(6)], 64,
                               (1, 3, 6, 7, 10, 13), blur=1.0)
    scenes.append(Scene("lfw_six_small_blurred", "small", canvas, faces))
    canvas, faces = _lfw_scene("brick", (700, 320), [(60, 90), (290, 90), (520, 90)], 120, (15, 21, 30))
    scenes.append(Scene("lfw_three", "grey", canvas, faces))

    scenes.append(Scene("camera", "profile", camera, camera_faces))
    pair = Image.new("RGB", (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(camera, (512, 0))
    scenes.append(Scene("astronaut_and_cameraman", "profile", pair, astro_faces + _scale(camera_faces, 1, 512)))
    # the three-quarter-profile man from t1 beside a frontal face
    pair = Image.new("RGB", (560, 300), (200, 200, 200))
    man = t1.crop((850, 20, 1060, 260))
    pair.paste(man, (20, 30))
    _, box = _paste(pair, astronaut.crop((140, 20, 320, 220)), (300, 40), 220)
    factor = 220 / 200
    faces = _scale(_crop(t1_faces, 850, 20, 1060, 260), 1, 20, 30)
    faces += _scale(_crop(astro_faces, 140, 20, 320, 220), factor, box[0], box[1])
    scenes.append(Scene("profile_man_and_astronaut", "profile", pair, faces))
    for degrees in (30, -30):
        turned, boxes = _turn(astronaut, astro_faces, degrees)
        scenes.append(Scene(f"astronaut_turned_{degrees}", "profile", turned, boxes))

    scenes.append(Scene("astronaut", "single", astronaut, astro_faces))
    canvas = Image.new("RGB", (480, 360), (90, 90, 100))
    _, box = _paste(canvas, tom, (250, 140))
    scenes.append(Scene("tom_hanks_on_canvas", "single", canvas, _scale(tom_faces, 1, box[0], box[1])))
    canvas = _background("grass", (1600, 1200))
    _, box = _paste(canvas, astronaut, (1000, 300), 205)
    scenes.append(Scene("astronaut_small_in_large", "small", canvas, _scale(astro_faces, 0.4, box[0], box[1])))

    for name in ("coffee", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry", "coins",
                 "retina", "horse"):
        scenes.append(Scene(name, "no_face", _skimage(name), []))
    scenes.append(Scene("camera_background", "no_face", camera.crop((300, 0, 512, 512)), []))
    scenes.append(Scene("astronaut_suit", "no_face", astronaut.crop((0, 200, 512, 512)), []))
    for name in ("mask_white", "mask_blue"):
        scenes.append(Scene(name, "no_face", _insightface_image_plain(name), []))
    canvas = _background("grass", (900, 300))
    for i, patch in enumerate(_lfw(faces=False)[:8]):
        _paste(canvas, patch, (30 + 110 * i, 110), 80)
    scenes.append(Scene("lfw_non_faces", "no_face", canvas, []))
    return scenes


def _insightface_image_plain(name):
    """A wheel image without a label entry (the mask photos, no face)."""
    wheels = sorted(WHEEL_CACHE.glob("insightface-2.1-*.whl"))
    from io import BytesIO
    return Image.open(BytesIO(zipfile.ZipFile(wheels[0]).read(f"insightface/data/images/{name}.jpg"))).convert("RGB")


def draw(scene):
    """The scene with its face boxes (green) and ignored regions (grey), to check labels by eye."""
    image = scene.image.copy()
    pen = ImageDraw.Draw(image)
    for box in scene.faces:
        pen.rectangle(box, outline=(0, 255, 0), width=2)
    for box in scene.ignore:
        pen.rectangle(box, outline=(128, 128, 128), width=1)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    scenes = build()
    labels = {}
    for scene in scenes:
        scene.image.save(args.out / f"{scene.name}.png")
        draw(scene).save(args.out / f"{scene.name}_labelled.png")
        labels[scene.name] = {"kind": scene.kind, "size": scene.image.size,
                              "faces": [[round(v, 1) for v in b] for b in scene.faces], "ignore": scene.ignore}
    (args.out / "labels.json").write_text(json.dumps(labels, indent=1))
    faces = sum(len(s.faces) for s in scenes)
    print(f"{len(scenes)} photos, {faces} faces, {sum(not s.faces for s in scenes)} without a face -> {args.out}")


if __name__ == "__main__":
    main()
