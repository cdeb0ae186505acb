"""TFLite models through ai-edge-litert; TensorFlow's interpreter only where LiteRT is missing."""
import hashlib
import threading
from importlib import metadata

import numpy as np
from PIL import Image

from .tensors import normalize


def interpreter_class():
    """(Interpreter class, 'package version') of the TFLite runtime this process uses."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        return Interpreter, f"ai-edge-litert {metadata.version('ai-edge-litert')}"
    except ImportError:  # no LiteRT wheel for this platform: TensorFlow's (slow, 600 MB) one
        import tensorflow as tf
        return tf.lite.Interpreter, f"tensorflow {tf.__version__}"


def runtime_name():
    """The TFLite runtime's name and version, without loading any model."""
    return interpreter_class()[1]


def _tensor_facts(detail):
    return {"name": detail["name"], "shape": [int(n) for n in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name}


class TFLiteModel:
    """One interpreter; invoke is serialised by a lock because interpreters are not thread-safe.

    The model is read into memory (model_content), not memory-mapped (model_path): a file
    overwritten in place under a running worker would otherwise kill it with SIGBUS on its next
    invoke (a test reproduces that). It also pins the bytes that were checked: `sha256` is the
    digest of exactly what the interpreter runs.
    """

    runtime = "tflite"

    def __init__(self, path, threads=None, preprocessing=None, labels=()):
        interpreter, _ = interpreter_class()
        with open(path, "rb") as handle:
            self._content = handle.read()  # the interpreter reads from this buffer: keep it alive
        self.sha256 = hashlib.sha256(self._content).hexdigest()
        self._interpreter = interpreter(model_content=self._content, num_threads=threads)
        self._lock = threading.Lock()
        self.preprocessing = preprocessing or {}
        self.labels = tuple(labels)

    def allocate(self):
        """Allocate tensors; a model whose ops the runtime lacks fails here."""
        self._interpreter.allocate_tensors()
        self._inputs = self._interpreter.get_input_details()
        self._outputs = self._interpreter.get_output_details()

    @property
    def inputs(self):
        """Input tensors: name, shape, dtype."""
        return [_tensor_facts(d) for d in self._inputs]

    @property
    def outputs(self):
        """Output tensors: name, shape, dtype."""
        return [_tensor_facts(d) for d in self._outputs]

    @property
    def input_size(self):
        """(height, width) of the first NHWC input."""
        _, height, width, _ = self._inputs[0]["shape"]
        return int(height), int(width)

    def neutral_input(self):
        """Zeros shaped like every input: the warm-up batch."""
        return [np.zeros(d["shape"], dtype=d["dtype"]) for d in self._inputs]

    def image_input(self, image):
        """An RGB PIL image -> the input batch: resized to the input, normalised by the spec."""
        height, width = self.input_size
        pixels = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
        dtype = self._inputs[0]["dtype"]
        if np.issubdtype(dtype, np.integer):  # quantised input: raw pixels
            return [pixels[np.newaxis].astype(dtype)]
        return [normalize(pixels, self.preprocessing).astype(dtype)]

    def run(self, *arrays):
        """Invoke on the given input arrays; {output name: array}."""
        with self._lock:
            for detail, array in zip(self._inputs, arrays):
                self._interpreter.set_tensor(detail["index"], np.asarray(array, dtype=detail["dtype"]))
            self._interpreter.invoke()
            return {d["name"]: self._interpreter.get_tensor(d["index"]) for d in self._outputs}
