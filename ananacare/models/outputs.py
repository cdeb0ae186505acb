"""Model outputs as the API reports them: top-k labels for classifiers, named values otherwise."""
import numpy as np

from .tensors import sigmoid

ACTIVATIONS = ("softmax", "sigmoid", "none")


def activate(values, activation):
    """Scores from raw outputs: softmax, sigmoid, or as they are."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if activation == "softmax":
        shifted = np.exp(values - values.max())
        return shifted / shifted.sum()
    if activation == "sigmoid":
        return sigmoid(values)
    return values


def top_k(scores, labels, k):
    """The k best {label, score}, best first."""
    order = np.argsort(-scores)[:k]
    return [{"label": labels[i], "score": round(float(scores[i]), 6)} for i in order]


def describe_outputs(outputs, labels, activation="softmax", k=5):
    """A classifier (labels matching one output's size) gives predictions; anything else gives outputs."""
    if labels:
        for name, values in outputs.items():
            if np.asarray(values).size == len(labels):
                scores = activate(values, activation)
                return {"predictions": top_k(scores, labels, min(k, len(labels))), "output": name}
    return {"outputs": {name: np.round(np.asarray(values, dtype=np.float64).reshape(-1), 6).tolist()
                        for name, values in outputs.items()}}
