"""Median validate latency through the app (Flask, upload parsing, crop store, JSON) against the
bare pipeline function on the same bytes, for a 1 MP and a 12 MP JPEG selfie.

Targets: app <= 1.3x bare pipeline; 12 MP <= 3x 1 MP.   Run: .venv/bin/python bench/validate.py
"""
import argparse
import os

from common import loaded_app, median_ms, p95_ms, print_table, timed

from ananacare.models import model_registry
from ananacare.preprocess import PipelineSettings, validate_image
from photos import encode, large_selfie


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    app = loaded_app()
    client = app.test_client()
    settings = PipelineSettings.from_config(app.config)
    photos = {f"{mp} MP": encode(large_selfie(mp), "JPEG", quality=90) for mp in (1, 12)}

    results = {}
    with app.app_context():
        registry = model_registry()
        for label, data in photos.items():
            def through_app(data=data):
                response = client.post("/api/validate/image", data=data, content_type="image/jpeg")
                assert response.status_code == 200 and response.get_json()["valid"], response.get_json()

            def bare(data=data):
                assert validate_image(data, registry, settings).valid

            app_times, bare_times = [], []
            for _ in range(args.repeats):  # interleaved so both see the same machine state
                app_times += timed(through_app, 1, warmup=0 if app_times else 2)
                bare_times += timed(bare, 1, warmup=0 if bare_times else 2)
            results[label] = (app_times, bare_times)

    rows = []
    for label, (app_times, bare_times) in results.items():
        rows.append([label, f"{len(photos[label]) / 1e6:.2f} MB", f"{median_ms(bare_times):.1f}",
                     f"{median_ms(app_times):.1f}", f"{p95_ms(app_times):.1f}",
                     f"{median_ms(app_times) / median_ms(bare_times):.2f}x"])
    print(f"validate latency, {args.repeats} runs each, {os.cpu_count()} cores")
    print_table(["photo", "size", "bare median ms", "app median ms", "app p95 ms", "app / bare"], rows)
    one, twelve = (median_ms(results[k][0]) for k in ("1 MP", "12 MP"))
    print(f"12 MP / 1 MP through the app: {twelve / one:.2f}x (target <= 3x)")
    worst = max(median_ms(a) / median_ms(b) for a, b in results.values())
    print(f"worst app / bare: {worst:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
