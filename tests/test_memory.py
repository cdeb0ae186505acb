"""No accepted upload takes a worker above 400 MB peak RSS: every input kind at the largest size the
limits admit, each in a fresh process that reports VmHWM (tests/memory_probe.py)."""
import json
import subprocess
import sys
from math import isqrt

import pytest

from ananacare.config import DEFAULTS
from memory_probe import KINDS, big_upload
from photos import photo
from server import ROOT, call, gunicorn, memory_mb

PEAK_LIMIT_MB = 400
LARGEST_SIDE = isqrt(DEFAULTS["MAX_IMAGE_PIXELS"])
LARGEST_WEBP_SIDE = isqrt(DEFAULTS["MAX_DECODE_BYTES"] // 16)  # WebP's own limit (decode.py)


def _probe(tmp_path, data, content_type):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "memory_probe.py"), str(path), content_type],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_largest_admitted_upload_stays_under_the_memory_bound(tmp_path, kind):
    side = LARGEST_WEBP_SIDE if kind.startswith("webp") else LARGEST_SIDE
    answer = _probe(tmp_path, big_upload(kind, side, side, photo("astronaut")), KINDS[kind][2])
    assert answer["status"] == 200, answer
    assert answer["hwm_after_mb"] <= PEAK_LIMIT_MB, answer


@pytest.mark.slow
def test_webp_beyond_its_own_limit_is_413_naming_the_limit(tmp_path):
    side = LARGEST_WEBP_SIDE + 200
    answer = _probe(tmp_path, big_upload("webp-rgba", side, side, photo("astronaut")), "image/webp")
    assert answer["status"] == 413 and answer["code"] == "image_too_large", answer
    assert str(DEFAULTS["MAX_DECODE_BYTES"] // 16) in answer["message"]
    assert answer["hwm_after_mb"] < 150  # refused before decoding


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["png-rgba", "png-grey-alpha", "png-palette-alpha", "png-16bit"])
def test_a_panorama_of_the_largest_admitted_size_stays_under_the_bound(tmp_path, kind):
    width = DEFAULTS["MAX_IMAGE_PIXELS"] // 1000  # 50000 x 1000: one band of rows would be the whole photo
    answer = _probe(tmp_path, big_upload(kind, width, 1000, photo("astronaut")), KINDS[kind][2])
    assert answer["status"] == 200, answer
    assert answer["hwm_after_mb"] <= PEAK_LIMIT_MB, answer


HEAVIEST = ("png-rgba", "png-grey-alpha", "png-palette-alpha", "png-16bit", "png-rgb", "jpeg-cmyk", "webp-rgba")


@pytest.mark.slow
def test_gunicorn_workers_stay_under_the_bound(tmp_path):
    """The bound where it matters: real workers (gevent, every default model loaded, after serving),
    each heavy kind at its largest admitted size, sent three times so both workers take some."""
    face = photo("astronaut")
    peaks = {}
    with gunicorn(tmp_path, workers=2) as base:
        for kind in HEAVIEST:
            side = LARGEST_WEBP_SIDE if kind.startswith("webp") else LARGEST_SIDE
            data = big_upload(kind, side, side, face)
            for _ in range(3):
                status, body, _ = call(base, "/api/validate/image", data, KINDS[kind][2], timeout=120)
                assert status == 200, (kind, body)
            peaks[kind] = max(memory_mb(pid, "VmHWM") for pid in base.worker_pids())
    print("gunicorn worker VmHWM after each kind (MB):", {k: round(v) for k, v in peaks.items()})
    assert max(peaks.values()) <= PEAK_LIMIT_MB, peaks
