"""Bytes and encode/decode time of a 1024 px face crop in each lossless format Pillow writes.

Two versions of the same face: the astronaut enlarged (smooth, as upscaled pixels are) and the
same with camera-like noise (sigma 3 levels), which is what compresses worst. Chose the skin
crop's store format (ananacare/image_cache/base.py SKIN_FORMAT).

Run: .venv/bin/python bench/store_formats.py [--repeats 7]
"""
import argparse
import io

import numpy as np
from common import median_ms, print_table, timed
from PIL import Image

from photos import photo

FORMATS = {
    "TIFF uncompressed": {"format": "TIFF", "compression": None},
    "TIFF LZW": {"format": "TIFF", "compression": "tiff_lzw"},
    "TIFF deflate": {"format": "TIFF", "compression": "tiff_adobe_deflate"},
    "PNG level 1": {"format": "PNG", "compress_level": 1},
    "WebP lossless, method 0": {"format": "WEBP", "lossless": True, "method": 0, "quality": 0},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    smooth = photo("astronaut").crop((140, 20, 320, 200)).resize((1024, 1024), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 3, (1024, 1024, 3))
    noisy = Image.fromarray(np.clip(np.asarray(smooth, np.int16) + noise, 0, 255).astype(np.uint8))
    rows = []
    for label, image in (("smooth", smooth), ("noisy", noisy)):
        for name, options in FORMATS.items():
            def encode(options=options, image=image):
                buffer = io.BytesIO()
                image.save(buffer, **options)
                return buffer.getvalue()
            data = encode()
            encoding = timed(encode, args.repeats, warmup=1)
            decoding = timed(lambda data=data: Image.open(io.BytesIO(data)).load(), args.repeats, warmup=1)
            rows.append([label, name, f"{len(data) / 1e6:.2f}", f"{median_ms(encoding):.1f}",
                         f"{median_ms(decoding):.1f}"])
    print_table(["face", "format", "MB", "encode ms", "decode ms"], rows)


if __name__ == "__main__":
    main()
