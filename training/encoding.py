"""Turn a data frame into the float tensor a torch model takes, from a JSON input spec.

The input spec travels inside the model's architecture spec, so a registered model carries
its own preprocessing and nothing about it has to be pickled.

Tabular: {"kind": "tabular", "numeric": [{"name", "mean", "std", "min", "max"}],
          "categorical": [{"name", "categories": [...]}]}
Image:   {"kind": "image", "columns": ["pixel_0", ...], "shape": [C, H, W], "scale": 16.0}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING_COLUMNS = "Columns missing from the data: {columns}."
UNKNOWN_INPUT_KIND = "Unknown input kind {kind!r}; expected 'tabular' or 'image'."


class EncodingError(ValueError):
    pass


def fit_tabular_input(frame: pd.DataFrame, *, numeric: list[str], categorical: list[str]) -> dict:
    """Learn the encoding (standardisation and one-hot categories) from training data."""
    spec: dict = {"kind": "tabular", "numeric": [], "categorical": []}
    for name in numeric:
        col = frame[name].astype(float)
        std = float(col.std(ddof=0)) or 1.0
        spec["numeric"].append(
            {"name": name, "mean": float(col.mean()), "std": std, "min": float(col.min()), "max": float(col.max())}
        )
    for name in categorical:
        cats = sorted(str(v) for v in frame[name].fillna("NA").unique())
        spec["categorical"].append({"name": name, "categories": cats})
    return spec


def input_columns(spec: dict) -> list[str]:
    if spec["kind"] == "image":
        return list(spec["columns"])
    return [f["name"] for f in spec["numeric"]] + [f["name"] for f in spec["categorical"]]


def encoded_width(spec: dict) -> int:
    if spec["kind"] == "image":
        return int(np.prod(spec["shape"]))
    return len(spec["numeric"]) + sum(len(f["categories"]) for f in spec["categorical"])


def feature_layout(spec: dict) -> list[dict]:
    """Which encoded columns belong to which source feature.

    The robustness probe uses this to perturb numeric columns only and keep one-hot
    groups valid; numeric entries carry their encoded min/max (the training range).
    """
    if spec["kind"] == "image":
        return [{"name": "pixels", "kind": "image", "start": 0, "stop": encoded_width(spec), "min": 0.0, "max": 1.0}]
    layout, pos = [], 0
    for f in spec["numeric"]:
        lo, hi = (f["min"] - f["mean"]) / f["std"], (f["max"] - f["mean"]) / f["std"]
        layout.append({"name": f["name"], "kind": "numeric", "start": pos, "stop": pos + 1, "min": lo, "max": hi})
        pos += 1
    for f in spec["categorical"]:
        n = len(f["categories"])
        layout.append({"name": f["name"], "kind": "categorical", "start": pos, "stop": pos + n, "min": 0.0, "max": 1.0})
        pos += n
    return layout


def encode(frame: pd.DataFrame, spec: dict) -> np.ndarray:
    """Encode rows as float32; unseen categories encode as all-zero one-hot groups."""
    missing = [c for c in input_columns(spec) if c not in frame.columns]
    if missing:
        raise EncodingError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    if spec["kind"] == "image":
        values = frame[spec["columns"]].to_numpy(dtype=np.float32) / float(spec.get("scale", 1.0))
        return values.reshape((len(frame), *spec["shape"]))
    if spec["kind"] != "tabular":
        raise EncodingError(UNKNOWN_INPUT_KIND.format(kind=spec["kind"]))
    parts = []
    for f in spec["numeric"]:
        col = frame[f["name"]].astype(float).fillna(f["mean"]).to_numpy()
        parts.append(((col - f["mean"]) / f["std"])[:, None])
    for f in spec["categorical"]:
        col = frame[f["name"]].fillna("NA").astype(str)
        parts.append(pd.get_dummies(pd.Categorical(col, categories=f["categories"])).to_numpy(dtype=np.float32))
    return np.hstack(parts).astype(np.float32) if parts else np.zeros((len(frame), 0), np.float32)
