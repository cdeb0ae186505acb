"""timm image models from a folder in the Hugging Face layout (config.json + weights).

Imported only when a timm model is configured: `import timm` costs about 5-7 s and torch's
memory. Preprocessing comes from the model's pretrained config (resolve_model_data_config +
create_transform), overridable per spec; label names from the config unless the spec has them.
"""
import os

import numpy as np
import torch
import timm
from timm.data import create_transform, resolve_model_data_config


class TimmModel:
    """One timm model in eval mode; inference under torch.inference_mode()."""

    runtime = "timm"

    def __init__(self, spec, weights_path, threads=None):
        if threads:
            torch.set_num_threads(threads)
        model_dir = os.path.dirname(os.path.abspath(weights_path))
        self.model = timm.create_model(f"local-dir:{model_dir}", pretrained=True).eval()
        data_config = resolve_model_data_config(self.model)
        overrides = spec.preprocessing
        if "input_size" in overrides:
            data_config["input_size"] = (3, *overrides["input_size"])
        for key in ("mean", "std"):  # specs give mean/std on 0-255 pixels, as for TFLite; timm wants 0-1
            if key in overrides:
                data_config[key] = tuple(v / 255.0 for v in overrides[key])
        self.data_config = data_config
        self.transform = create_transform(**data_config, is_training=False)
        self.labels = tuple(spec.labels) or tuple(self.model.pretrained_cfg.get("label_names") or ())

    def allocate(self):
        """Nothing to allocate: weights are in memory after load."""

    @property
    def input_shape(self):
        """(1, channels, height, width)."""
        return (1, *self.data_config["input_size"])

    @property
    def inputs(self):
        """Input tensor facts (KServe-style metadata)."""
        return [{"name": "input", "shape": list(self.input_shape), "dtype": "float32"}]

    @property
    def outputs(self):
        """Output tensor facts."""
        return [{"name": "logits", "shape": [1, int(self.model.num_classes)], "dtype": "float32"}]

    def neutral_input(self):
        """A zero batch: the warm-up input."""
        return [np.zeros(self.input_shape, dtype=np.float32)]

    def image_input(self, image):
        """An RGB PIL image -> the model's input batch, through timm's own eval transform."""
        return [self.transform(image).unsqueeze(0).numpy()]

    def run(self, batch):
        """Logits for one input batch."""
        with torch.inference_mode():
            logits = self.model(torch.as_tensor(batch))
        return {"logits": logits.float().numpy()}
