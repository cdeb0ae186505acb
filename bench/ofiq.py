"""What OFIQ's measures (ananacare/quality/: native values, quality components, background
uniformity with the selfie segmentation model) add to validate, at 1 MP, in one run.

`validate_image` as a function, one thread, with the measures and without them (the pipeline's
`ofiq_measures` swapped for one that measures nothing, so the older checks run as before),
interleaved so both see the same machine state; then each measure family alone on the same face.
Target: the measures add <= 5 ms.   Run: .venv/bin/python bench/ofiq.py [--repeats 40]
"""
import argparse
import os

import numpy as np
from common import median_ms, print_table, timed, worker_registry

import ananacare.preprocess.pipeline as pipeline
from ananacare.models.tensors import normalize
from ananacare.preprocess import PipelineSettings, validate_image
from ananacare.preprocess.decode import decode_image
from ananacare.preprocess.faces import face_measures, find_face_evidence, refine
from ananacare.quality.background import background_uniformity, segmentation_model
from ananacare.quality.geometry import geometric_measures
from ananacare.quality.lighting import lighting_measures
from ananacare.quality.measures import ofiq_measures
from photos import encode, large_selfie


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    registry = worker_registry()
    settings = PipelineSettings()
    data = encode(large_selfie(1), "JPEG", quality=90)

    def measure_nothing(*_args, **_kwargs):
        return {}, {}

    def with_measures():
        pipeline.ofiq_measures = ofiq_measures
        assert validate_image(data, registry, settings).valid

    def without_measures():
        pipeline.ofiq_measures = measure_nothing
        assert validate_image(data, registry, settings).valid

    on, off = [], []
    for _ in range(args.repeats):
        on += timed(with_measures, 1, warmup=0 if on else 2)
        off += timed(without_measures, 1, warmup=0 if off else 2)
    pipeline.ofiq_measures = ofiq_measures

    decoded = decode_image(data, settings.max_pixels, settings.decode_max_side, settings.max_decode_bytes)
    primary = refine(find_face_evidence(decoded.image, registry)[0], registry)
    faces = [primary.face.scaled(1 / decoded.scale)]
    values = face_measures(primary, decoded.scale)
    pose = values["yaw"], values["pitch"], values["roll"]
    points = primary.source_points(decoded.scale)
    seg = segmentation_model(registry)
    blank = np.zeros((*registry.get(seg).input_size, 3), np.uint8)
    seg_input = normalize(blank, registry.state(seg).spec.preprocessing)
    parts = {
        "geometry (eyes, mouth, head size, crop, margins)":
            lambda: geometric_measures(points, decoded.source_size, pose[0]),
        "lighting (luminance, exposure, entropy, uniformity, colour)":
            lambda: lighting_measures(primary.region, primary.mesh.points),
        "background uniformity (cut, segmentation, gradients)":
            lambda: background_uniformity(primary.image, primary.crop_geometry(0.0, 1), registry),
        "  of which the segmentation model's invoke": lambda: registry.run(seg, seg_input),
        "all OFIQ measures (ofiq_measures)":
            lambda: ofiq_measures(primary, faces, decoded.scale, decoded.source_size, pose, registry),
    }
    rows = [[name, f"{median_ms(timed(part, args.repeats)):.2f}"] for name, part in parts.items()]
    print(f"validate_image at 1 MP ({decoded.source_size[0]} x {decoded.source_size[1]} JPEG), "
          f"{args.repeats} interleaved runs each, 1 thread per model, {os.cpu_count()} cores")
    print_table(["validate", "median ms"], [
        ["with OFIQ's measures", f"{median_ms(on):.2f}"], ["without", f"{median_ms(off):.2f}"],
        ["added", f"{median_ms(on) - median_ms(off):.2f}"], ["ratio", f"{median_ms(on) / median_ms(off):.3f}x"]])
    print()
    print_table(["measure family, alone on the same face", "median ms"], rows)


if __name__ == "__main__":
    main()
