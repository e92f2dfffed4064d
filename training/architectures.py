"""The allowlist of model architectures an uploaded artifact may name.

An uploaded torch model is two things: safetensors weights (tensors only, no code) and a
JSON spec naming one of the architectures below with its constructor parameters. Code
never comes from the upload, so loading a model cannot execute anything the user sent.
"""

from __future__ import annotations

import torch
from torch import nn

UNKNOWN_ARCHITECTURE = "Unknown architecture {name!r}. Allowed architectures: {allowed}."
BAD_PARAMS = "Architecture {name!r}: {problem}."


class MLP(nn.Module):
    """A multilayer perceptron for encoded tabular data."""

    def __init__(self, *, in_features: int, hidden: list[int], n_classes: int, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations (used by the poisoning detector)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """Two conv blocks and a dense layer: enough for 8x8 digits or 32x32 images.

    No batch norm on purpose: Opacus cannot compute per-sample gradients through it.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        height: int,
        width: int,
        n_classes: int,
        channels: list[int] = (16, 32),
        hidden: int = 64,
    ):
        super().__init__()
        blocks: list[nn.Module] = []
        c_in, h, w = in_channels, height, width
        for c_out in channels:
            blocks += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in, h, w = c_out, h // 2, w // 2
        self.conv = nn.Sequential(*blocks)
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(c_in * h * w, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# name -> (class, required params with their types, optional params with their types)
ARCHITECTURES: dict[str, tuple[type[nn.Module], dict[str, type], dict[str, type]]] = {
    "mlp": (MLP, {"in_features": int, "hidden": list, "n_classes": int}, {"dropout": float}),
    "cnn": (
        SmallCNN,
        {"in_channels": int, "height": int, "width": int, "n_classes": int},
        {"channels": list, "hidden": int},
    ),
}


class ArchitectureError(ValueError):
    pass


def _check_params(name: str, params: dict, required: dict, optional: dict) -> None:
    if not isinstance(params, dict):
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem="'params' must be an object"))
    missing = sorted(set(required) - set(params))
    unknown = sorted(set(params) - set(required) - set(optional))
    if missing:
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"missing params {missing}"))
    if unknown:
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"unknown params {unknown}"))
    for key, value in params.items():
        expected = {**required, **optional}[key]
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        if not ok or isinstance(value, bool):
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} must be {expected.__name__}"))
        if expected is int and not 0 < value <= 100_000:
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} out of range"))
        if expected is list and not (
            0 < len(value) <= 16 and all(isinstance(v, int) and 0 < v <= 100_000 for v in value)
        ):
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} must be 1-16 positive ints"))


def build_model(spec: dict) -> nn.Module:
    """Instantiate the architecture a spec names, after checking its params."""
    name = spec.get("architecture") if isinstance(spec, dict) else None
    if name not in ARCHITECTURES:
        raise ArchitectureError(UNKNOWN_ARCHITECTURE.format(name=name, allowed=", ".join(sorted(ARCHITECTURES))))
    cls, required, optional = ARCHITECTURES[name]
    params = spec.get("params", {})
    _check_params(name, params, required, optional)
    return cls(**params)
