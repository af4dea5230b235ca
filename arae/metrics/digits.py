"""Metrics of generated and reconstructed binarized digits (the `bmnist` benchmark). The paper shows its MNIST
results as pictures only (docs/paper.md); these numbers are ours.

Generated images are judged by a digit classifier trained on the real binarized training images (a
scikit-learn MLP, flavour `mlp`), built once per training data and shared by every row and seed; it is stored as
arrays (arae.array_store, no pickle) and applied by the numpy forward pass here. Its accuracy on the real test
images is recorded beside every value, as is the level real test images reach.
- digit_coverage.mlp: the effective number of digit classes among the samples, exp(entropy of the classifier's
  predicted-class frequencies): 10 when every digit is drawn equally often, 1 when all samples are one digit.
- digit_confidence.mlp: the classifier's mean top-class probability on the samples: are they legible digits?
- recon_nll: NLL of a test image's pixels from its noise-free code, nats per image (summed over the 784 pixels).
- pixel_error: the share of test pixels whose most likely reconstruction is wrong.
"""
from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.neural_network import MLPClassifier

from arae.array_store import load_arrays, save_arrays
from arae.artefacts import build_once
from arae.data.images import PIXELS
from arae.errors import MetricNotComputable
from arae.metrics.base import EvalContext, MetricValue

CLASSIFIER = "mlp"
SETTINGS = {"hidden_layer_sizes": [256], "max_iter": 20, "batch_size": 128, "random_state": 0}


@dataclass
class DigitMLP:
    """A fitted MLPClassifier rebuilt from its exported weights: ReLU hidden layers, softmax output."""
    coefs: list[np.ndarray]
    intercepts: list[np.ndarray]
    classes: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "DigitMLP":
        layers = range(sum(k.startswith("coef_") for k in arrays))
        return cls([arrays[f"coef_{i}"] for i in layers], [arrays[f"intercept_{i}"] for i in layers],
                   arrays["classes"])

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(images, classes) probabilities, as MLPClassifier.predict_proba computes them."""
        x = np.asarray(images, dtype=np.float64)
        for coef, intercept in zip(self.coefs[:-1], self.intercepts[:-1]):
            x = np.maximum(x @ coef + intercept, 0)
        logits = x @ self.coefs[-1] + self.intercepts[-1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def export(model: MLPClassifier) -> dict[str, np.ndarray]:
    """The weights of a fitted classifier, one array per layer; its output must be the softmax of 3+ classes."""
    if model.out_activation_ != "softmax":
        raise MetricNotComputable("the digit classifier needs training images of at least 3 classes")
    return {**{f"coef_{i}": c for i, c in enumerate(model.coefs_)},
            **{f"intercept_{i}": b for i, b in enumerate(model.intercepts_)}, "classes": model.classes_}


def digit_classifier(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                     artefacts: Path) -> tuple[DigitMLP, dict]:
    """The classifier of real binarized digits, built once per training images and settings; its test accuracy
    and its mean confidence on the real test images are measured when it is built."""
    def build(folder: Path) -> dict:
        model = MLPClassifier(hidden_layer_sizes=tuple(SETTINGS["hidden_layer_sizes"]), max_iter=SETTINGS["max_iter"],
                              batch_size=SETTINGS["batch_size"], random_state=SETTINGS["random_state"])
        with warnings.catch_warnings():  # a fixed epoch budget, not convergence, ends its training
            warnings.simplefilter("ignore")
            model.fit(train[0], train[1])
        arrays = export(model)
        classifier = DigitMLP.from_arrays(arrays)
        probs = classifier.predict_proba(test[0])
        return {"test_accuracy": float(np.mean(classifier.classes[probs.argmax(1)] == test[1])),
                "real_test_confidence": float(probs.max(1).mean()),
                "n_train_images": len(train[0]), "sklearn": sklearn.__version__,
                "arrays": save_arrays(folder, "classifier", arrays, {})}

    key = {"classifier": CLASSIFIER, "settings": SETTINGS,
           "train_sha256": hashlib.sha256(train[0].tobytes() + train[1].tobytes()).hexdigest(),
           "test_sha256": hashlib.sha256(test[0].tobytes() + test[1].tobytes()).hexdigest()}
    folder, info = build_once(artefacts, f"digits-{CLASSIFIER}", key, build)
    arrays, _ = load_arrays(folder, "classifier", info["built"]["arrays"])
    return DigitMLP.from_arrays(arrays), {**info["built"], "artefact": info["artefact"]}


def _judged(ctx: EvalContext) -> tuple[np.ndarray, dict]:
    """(class probabilities of the samples, the classifier's record)."""
    images = np.asarray(ctx.output("images"))
    if not len(images):
        raise MetricNotComputable("no generated images to judge")
    classifier, info = digit_classifier(ctx.corpus.images["train"], ctx.corpus.images["test"], ctx.artefact_root)
    return classifier.predict_proba(images), {
        "classifier": CLASSIFIER, "classifier_test_accuracy": info["test_accuracy"],
        "real_test_confidence": info["real_test_confidence"], "classifier_artefact": info["artefact"],
        "n_samples": len(images)}


def digit_coverage(ctx: EvalContext) -> MetricValue:
    probs, details = _judged(ctx)
    counts = np.bincount(probs.argmax(1), minlength=10)
    share = counts / counts.sum()
    entropy = -sum(p * math.log(p) for p in share if p > 0)
    return MetricValue(math.exp(entropy), None, {**details, "predicted_counts": counts.tolist(),
                                                  "classes_with_1pct": int((share >= 0.01).sum())})


def digit_confidence(ctx: EvalContext) -> MetricValue:
    probs, details = _judged(ctx)
    return MetricValue(float(probs.max(1).mean()), None, details)


def _reconstruction(ctx: EvalContext) -> dict[str, list[float]]:
    errors = ctx.output("reconstruction")
    if not errors["nll"]:
        raise MetricNotComputable("no test images were reconstructed")
    return errors


def recon_nll(ctx: EvalContext) -> MetricValue:
    errors = _reconstruction(ctx)
    return MetricValue(float(np.mean(errors["nll"])), None, {"n_images": len(errors["nll"]), "unit": "nats per image"})


def pixel_error(ctx: EvalContext) -> MetricValue:
    errors = _reconstruction(ctx)
    wrong = float(np.sum(errors["wrong_pixels"]))
    return MetricValue(wrong / (PIXELS * len(errors["wrong_pixels"])), None,
                       {"n_images": len(errors["wrong_pixels"]), "wrong_pixels": int(wrong)})
