"""Median analyze latency by stage on a stored crop, against the bare landmark-model invoke.

Stages: mesh (region to the model's input, invoke, decode), pose and openness, geometry, pixel
measurements; then analyze/by-id through the app (which adds skin: bench/skin.py times it). Validation keeps
the crop's landmarks (its own mesh run, mapped into the crop), so by-id needs no second mesh run;
both paths are measured.
Target: landmarks plus all measures <= 2x the bare landmark-model invoke measured in this run.

Run: .venv/bin/python bench/analyze.py [--repeats 200]
"""
import argparse
import os

import numpy as np
from common import loaded_app, median_ms, print_table, timed

from ananacare.models import model_registry
from ananacare.models.tensors import normalize
from ananacare.preprocess import PipelineSettings, analyze_crop, validate_image
from ananacare.preprocess.analysis import face_box
from ananacare.preprocess.face_measures import face_geometry, pose_and_openness
from ananacare.preprocess.landmarks import run_mesh
from ananacare.preprocess.measure import crop_measurements
from photos import encode, photo


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    app = loaded_app()
    client = app.test_client()
    data = encode(photo("astronaut"), "JPEG", quality=92)
    with app.app_context():
        registry = model_registry()
        settings = PipelineSettings.from_config(app.config)
        crop = validate_image(data, registry, settings).crop
        margin = settings.crop_margin
        mesh_spec = registry.state("face_landmarks").spec
        model = registry.get("face_landmarks")
        size = model.input_size[0]
        tensor = normalize(np.asarray(crop.resize((size, size))), mesh_spec.preprocessing)
        stored_mesh = validate_image(data, registry, settings).mesh
        points = stored_mesh.points
        image_id = client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()["image_id"]

        n = args.repeats
        stages = {
            "bare landmark invoke (baseline)": timed(lambda: model.run(tensor), n),
            "mesh: input + invoke + decode": timed(lambda: run_mesh(crop, margin, registry, "face_landmarks"), n),
            "pose and openness": timed(lambda: pose_and_openness(points), n),
            "geometry": timed(lambda: face_geometry(points), n),
            "pixel measurements": timed(lambda: crop_measurements(face_box(crop, margin)), n),
            "all measures, landmarks kept from validation": timed(
                lambda: analyze_crop(crop, registry, margin, mesh=stored_mesh), n),
            "all measures + a fresh mesh run": timed(lambda: analyze_crop(crop, registry, margin), n),
            "analyze/by-id through the app": timed(lambda: client.post(
                "/api/analyze/by-id", json={"image_id": image_id}), max(20, n // 5)),
        }
    baseline = median_ms(stages["bare landmark invoke (baseline)"])
    rows = [[name, f"{median_ms(times):.3f}", f"{median_ms(times) / baseline:.2f}x"] for name, times in stages.items()]
    print(f"analyze stages on a 512 crop, {n} runs each (median), {os.cpu_count()} cores")
    print_table(["stage", "median ms", "vs bare invoke"], rows)
    kept = median_ms(stages["all measures, landmarks kept from validation"])
    fresh = median_ms(stages["all measures + a fresh mesh run"])
    print(f"landmarks + all measures (by-id path, landmarks kept): {kept:.3f} ms = {kept / baseline:.2f}x "
          f"the bare invoke (target <= 2x)")
    print(f"landmarks + all measures with a fresh mesh run: {fresh:.3f} ms = {fresh / baseline:.2f}x")


if __name__ == "__main__":
    main()
