"""Skin analysis cost: median time per step and concern on the skin crop of a 12 MP selfie (about
1080 px at 5 px/mm; the face measured at 3 px/mm, pores at the crop's own), the whole by-id
analysis, analyze/image on a 12 MP selfie end to end, and what the skin crop costs the store.

Two 12 MP selfies, JPEG q92: the astronaut's face enlarged to fill a 4000x3000 frame, and the whole astronaut photo
enlarged to the frame's height (`large_selfie`: the face a third of the frame, so its skin crop is
cut again from a full-scale decode). Goals: by-id <= 150 ms, analyze/image on a 12 MP selfie <= 250 ms.

Run: .venv/bin/python bench/skin.py [--repeats 15]
"""
import argparse
import io
import os
import tempfile

from common import loaded_app, median_ms, print_table, timed
from PIL import Image

from ananacare.image_cache import FileCropStore
from ananacare.image_cache.base import encode_crop, encode_skin
from ananacare.models import model_registry
from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.preprocess.decode import decode_image
from ananacare.preprocess.pipeline import cut_skin_crop
from ananacare.skin import CONCERNS, pixels_per_mm
from ananacare.skin.analysis import build_analysed_face, measure_concern
from photos import encode, large_selfie, photo


def selfie_12mp():
    """The astronaut's head filling a 4000x3000 frame, JPEG q92 bytes."""
    head = photo("astronaut").crop((75, 0, 375, 225))
    return encode(head.resize((4000, 3000), Image.Resampling.BICUBIC), "JPEG", quality=92)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    n = args.repeats
    app = loaded_app()
    client = app.test_client()
    data = selfie_12mp()
    third = encode(large_selfie(12), "JPEG", quality=92)
    with app.app_context():
        registry = model_registry()
        validation = validate_image(data, registry, PipelineSettings.from_config(app.config))
        skin = validation.skin_crop
        points = validation.mesh.points * skin.width / validation.crop.width
        scale = pixels_per_mm(skin, points, registry, "iris")
        face = build_analysed_face(skin, points, scale["px_per_mm"])[0]
        steps = {"scale (iris model, both eyes)": timed(lambda: pixels_per_mm(skin, points, registry, "iris"), n),
                 "regions + skin mask + L*a*b* (at 3 px/mm)":
                     timed(lambda: build_analysed_face(skin, points, scale["px_per_mm"]), n)}
        for name in CONCERNS:
            steps[f"concern: {name}"] = timed(lambda name=name: measure_concern(name, face), n)
        image_id = client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()["image_id"]
        steps["analyze/by-id through the app"] = timed(
            lambda: client.post("/api/analyze/by-id", json={"image_id": image_id}), n)
        steps["analyze/image, 12 MP selfie, end to end"] = timed(
            lambda: client.post("/api/analyze/image", data=data, content_type="image/jpeg"), n)
        steps["analyze/image, 12 MP selfie, face a third of the frame (second decode)"] = timed(
            lambda: client.post("/api/analyze/image", data=third, content_type="image/jpeg"), n)
        settings = PipelineSettings.from_config(app.config)
        decoded = decode_image(third, settings.max_pixels, settings.decode_max_side)
        working = validate_image(third, registry, settings).geometry.scaled(decoded.scale)
        steps["skin crop from the working image (face a third of the frame)"] = timed(
            lambda: cut_skin_crop(third, decoded, working, settings.skin_max_side, 0), n)
        steps["skin crop from a second decode (face a third of the frame)"] = timed(
            lambda: cut_skin_crop(third, decoded, working, settings.skin_max_side, settings.max_decode_bytes), n)
        steps["heatmap PNG (wrinkles)"] = timed(lambda: client.get(f"/api/images/{image_id}/skin/wrinkles.png"), n)
        store = FileCropStore(tempfile.mkdtemp(prefix="bench-skin-"), 3600)
        crop, settings = validation.crop, {"settings": {"size": 512, "margin": 0.25}}
        steps["store put: crop only"] = timed(lambda: store.put("a" * 32, crop, settings), n)
        steps["store put: crop + skin crop"] = timed(lambda: store.put("b" * 32, crop, settings, skin=skin), n)
        steps["store get: crop only"] = timed(lambda: store.get("a" * 32), n)
        steps["store get: crop + skin crop"] = timed(lambda: store.get("b" * 32), n)
    print(f"skin on a {skin.width} px skin crop, {scale['px_per_mm']} px/mm ({scale['method']}), "
          f"{n} runs each (median), {os.cpu_count()} cores")
    print_table(["step", "median ms"], [[name, f"{median_ms(times):.1f}"] for name, times in steps.items()])
    concerns = sum(median_ms(t) for name, t in steps.items() if name.startswith("concern:"))
    total = (concerns + median_ms(steps["scale (iris model, both eyes)"])
             + median_ms(steps["regions + skin mask + L*a*b* (at 3 px/mm)"]))
    print(f"all concerns: {concerns:.1f} ms; skin total (scale + mask + concerns): {total:.1f} ms")
    tiff, webp = encode_crop(crop), encode_skin(skin)
    print(f"bytes per entry: crop TIFF {len(tiff)}, skin crop lossless WebP {len(webp)} "
          f"(uncompressed would be {len(encode_crop(skin))})")
    buffer = io.BytesIO()
    skin.save(buffer, format="PNG", compress_level=1)
    print(f"(PNG level 1 would be {buffer.tell()})")


if __name__ == "__main__":
    main()
