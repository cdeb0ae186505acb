"""Peak memory of one upload: big photos of every kind, and a child process that reports VmHWM.

`python tests/memory_probe.py FILE CONTENT_TYPE` creates the app on its default models (as a
gunicorn worker), posts the file to validate once, and prints JSON: status, error code, and the
process's peak RSS (VmHWM, MB) before and after the request.
"""
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from server import memory_mb

# kind -> (format, Pillow mode written, Content-Type)
KINDS = {
    "jpeg-rgb": ("JPEG", "RGB", "image/jpeg"),
    "jpeg-grey": ("JPEG", "L", "image/jpeg"),
    "jpeg-cmyk": ("JPEG", "CMYK", "image/jpeg"),
    "png-rgb": ("PNG", "RGB", "image/png"),
    "png-rgba": ("PNG", "RGBA", "image/png"),
    "png-grey": ("PNG", "L", "image/png"),
    "png-16bit": ("PNG", "I;16", "image/png"),
    "png-palette": ("PNG", "P", "image/png"),
    "png-palette-alpha": ("PNG", "PA", "image/png"),
    "png-grey-alpha": ("PNG", "LA", "image/png"),
    "webp-rgb": ("WEBP", "RGB", "image/webp"),
    "webp-rgba": ("WEBP", "RGBA", "image/webp"),
}


def big_upload(kind, width, height, face):
    """Bytes of a `kind` photo of width x height: a flat background with `face` (an RGB photo) pasted
    in the middle at a third of the short side, so the whole pipeline runs on it."""
    fmt, mode, _ = KINDS[kind]
    canvas = Image.new("RGB", (width, height), (150, 160, 170))
    side = min(width, height) // 3
    canvas.paste(face.resize((side, side), Image.Resampling.BILINEAR), ((width - side) // 2, (height - side) // 2))
    if mode == "RGBA":
        image = canvas.convert("RGBA")
    elif mode == "I;16":
        grey = np.asarray(canvas.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(grey)
    elif mode in ("P", "PA"):
        image = canvas.quantize(64, method=Image.Quantize.FASTOCTREE)
        if mode == "PA":
            image.info["transparency"] = 0  # one palette entry transparent
    else:
        image = canvas.convert(mode)
    buffer = io.BytesIO()
    options = {"PNG": {"compress_level": 1}, "WEBP": {"quality": 80, "method": 0}, "JPEG": {"quality": 85}}[fmt]
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _child(path, content_type):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ananacare import create_app, load_models

    app = create_app({"CACHE_DIR": tempfile.mkdtemp(prefix="memory-probe-")})
    load_models(app)
    data = Path(path).read_bytes()
    before = memory_mb("self", "VmHWM")
    response = app.test_client().post("/api/validate/image", data=data, content_type=content_type)
    body = response.get_json()
    del data
    print(json.dumps({"status": response.status_code, "code": (body.get("error") or {}).get("code"),
                      "message": (body.get("error") or {}).get("message"),
                      "hwm_before_mb": round(before, 1), "hwm_after_mb": round(memory_mb("self", "VmHWM"), 1)}))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
