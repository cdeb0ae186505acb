"""Pixels to input tensors, driven by a spec's preprocessing (mean, std, layout)."""
import numpy as np


def normalize(pixels, preprocessing):
    """uint8 HxWx3 pixels -> float32 1xHxWx3 (or 1x3xHxW) as (pixels - mean) / std."""
    mean = np.asarray(preprocessing.get("mean", (0.0, 0.0, 0.0)), dtype=np.float32)
    std = np.asarray(preprocessing.get("std", (255.0, 255.0, 255.0)), dtype=np.float32)
    if (mean == mean[0]).all() and (std == std[0]).all():
        # the same value for every channel: scalars, the same float32 result about 10x faster than
        # broadcasting over a last axis of 3 (192 x 192: 0.44 -> 0.04 ms, measured; every
        # detector and mesh run pays it)
        mean, std = mean[0], std[0]
    tensor = (np.asarray(pixels, dtype=np.float32) - mean) / std
    if preprocessing.get("layout", "NHWC") == "NCHW":
        tensor = tensor.transpose(2, 0, 1)
    return tensor[np.newaxis]


def sigmoid(values):
    """Logistic function, clipped like MediaPipe's score calculators."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(values, dtype=np.float64), -100.0, 100.0)))
