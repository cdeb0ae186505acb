"""Build the tests' small models: a TFLite colour classifier (TensorFlow's converter, run in a
subprocess so TensorFlow stays out of the test process) and tiny timm models in the hub layout.

    python tests/build_models.py colour|failing OUT.tflite
"""
import sys
from pathlib import Path

COLOUR_LABELS = ("red", "green", "blue")
COLOUR_INPUT = 32
COLOUR_GAIN = 10.0
SKIN_LABELS = ("dry", "normal", "oily")


def colour_probabilities(pixels):
    """What the colour classifier computes, in numpy: softmax(gain x mean RGB in [0, 1])."""
    import numpy as np

    mean = np.asarray(pixels, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255.0
    logits = COLOUR_GAIN * mean
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def build_colour_classifier(path):
    """A TFLite model: 1x32x32x3 float in [0, 1] -> softmax(10 x mean colour) over red, green, blue."""
    import tensorflow as tf

    class MeanColour(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, COLOUR_INPUT, COLOUR_INPUT, 3], tf.float32, name="image")])
        def __call__(self, image):
            return {"probabilities": tf.nn.softmax(COLOUR_GAIN * tf.reduce_mean(image, axis=[1, 2]))}

    module = MeanColour()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.__call__.get_concrete_function()], module)
    Path(path).write_bytes(converter.convert())


def build_failing_at_invoke(path):
    """A TFLite model that loads and allocates but fails when invoked: it gathers past the end of a
    4-entry table (index = mean + 7), which LiteRT reports only at invoke time."""
    import tensorflow as tf

    class PastTheEnd(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
        def __call__(self, image):
            index = tf.cast(tf.reduce_mean(image), tf.int32) + 7
            return {"value": tf.gather(tf.constant([1.0, 2.0, 3.0, 4.0]), tf.reshape(index, [1]))}

    module = PastTheEnd()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.__call__.get_concrete_function()], module)
    Path(path).write_bytes(converter.convert())


def build_timm_folder(folder, architecture="test_resnet", labels=SKIN_LABELS, seed=0):
    """A tiny randomly initialised timm model saved as timm's save_for_hf writes it."""
    import timm
    import torch

    torch.manual_seed(seed)
    model = timm.create_model(architecture, pretrained=False, num_classes=len(labels))
    timm.models.save_for_hf(model, folder, model_config={"label_names": list(labels)}, safe_serialization=True)
    return {path.name: path.read_bytes() for path in Path(folder).iterdir()}


if __name__ == "__main__":
    kind, out = sys.argv[1:3]
    if kind == "colour":
        build_colour_classifier(out)
    elif kind == "failing":
        build_failing_at_invoke(out)
    else:
        sys.exit(f"unknown model kind {kind}")
