"""Build and train a model from its JSON spec: the "recipe" a version carries.

Retraining (poisoning probes, DP retraining) calls the same function with the version's
own spec, so a retrained model differs from the registered one only in its data or its
optimiser, never in a hidden setting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from torch import nn

from training.architectures import build_model
from training.encoding import encode, encoded_width, fit_tabular_input
from training.train import resolve_device, set_seed, train_classifier

DEFAULT_TRAINING = {"epochs": 30, "batch_size": 64, "lr": 1e-3, "seed": 0}


def training_settings(spec: dict) -> dict:
    return {**DEFAULT_TRAINING, **spec.get("training", {})}


def labels_to_index(y: pd.Series | np.ndarray, classes: list) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup[v] for v in np.asarray(y).tolist()], dtype=np.int64)


def train_from_spec(
    spec: dict,
    frame: pd.DataFrame,
    *,
    label_column: str,
    device=None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> nn.Module:
    settings = training_settings(spec)
    set_seed(settings["seed"])  # the initial weights come from the seed too
    model = build_model(spec)
    X = encode(frame, spec["input"])
    y = labels_to_index(frame[label_column], spec["classes"])
    train_classifier(
        model,
        X,
        y,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        lr=settings["lr"],
        seed=settings["seed"],
        device=device or resolve_device(),
        on_epoch=on_epoch,
    )
    return model.cpu()


def tabular_mlp_spec(
    frame: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    classes: list,
    hidden: list[int] = (32, 16),
    training: dict | None = None,
) -> dict:
    input_spec = fit_tabular_input(frame, numeric=numeric, categorical=categorical)
    return {
        "format_version": 1,
        "architecture": "mlp",
        "params": {"in_features": encoded_width(input_spec), "hidden": list(hidden), "n_classes": len(classes)},
        "input": input_spec,
        "classes": list(classes),
        "training": {**DEFAULT_TRAINING, **(training or {})},
    }


def digits_frame() -> pd.DataFrame:
    """scikit-learn's bundled 8x8 digits (no download) as one row per image."""
    digits = load_digits()
    frame = pd.DataFrame(digits.data.astype(np.int64), columns=[f"pixel_{i}" for i in range(64)])
    frame["label"] = digits.target.astype(np.int64)
    return frame


def digits_cnn_spec(*, training: dict | None = None) -> dict:
    return {
        "format_version": 1,
        "architecture": "cnn",
        "params": {"in_channels": 1, "height": 8, "width": 8, "n_classes": 10, "channels": [16, 32], "hidden": 64},
        "input": {"kind": "image", "columns": [f"pixel_{i}" for i in range(64)], "shape": [1, 8, 8], "scale": 16.0},
        "classes": list(range(10)),
        "training": {**DEFAULT_TRAINING, "epochs": 15, **(training or {})},
    }
