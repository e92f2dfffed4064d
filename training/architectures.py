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


# Bounds checked from the spec alone, before torch allocates anything: a 16-layer x 100k-wide MLP
# passed the per-parameter ranges (1.6e11 weights), and a 20k x 20k one was refused only after
# its 1.5 GB of weights were allocated. 20 million float32 weights is 80 MB, above the upload
# limit (MAX_UPLOAD_BYTES, 50 MB by default), so every model that can be uploaded fits.
MAX_PARAMETERS = 20_000_000
# Activations one sample produces across the layers: a batch of 256 stays near 1 GB.
MAX_ACTIVATIONS = 1_000_000
MAX_WIDTH = 100_000
MAX_LAYERS = 16
TOO_MANY_PARAMETERS = "the spec describes {count:,} parameters; the limit is {limit:,}"
TOO_MANY_ACTIVATIONS = "the spec describes {count:,} activations per sample; the limit is {limit:,}"


class ArchitectureError(ValueError):
    """`key` is where in the spec the problem is ("architecture", "params.hidden"), for the API's field name."""

    def __init__(self, message: str, *, key: str = "params"):
        super().__init__(message)
        self.key = key


def _check_params(name: str, params, required: dict, optional: dict) -> None:
    if not isinstance(params, dict):
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem="'params' must be an object"))
    missing = sorted(set(required) - set(params))
    unknown = sorted(set(params) - set(required) - set(optional))
    if missing:
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"missing params {missing}"),
                                key=f"params.{missing[0]}")
    if unknown:
        raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"unknown params {unknown}"),
                                key=f"params.{unknown[0]}")
    for key, value in params.items():
        expected = {**required, **optional}[key]
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        where = f"params.{key}"
        if not ok or isinstance(value, bool):
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} must be {expected.__name__}"),
                                    key=where)
        if expected is int and not 0 < value <= MAX_WIDTH:
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} out of range (1 to {MAX_WIDTH:,})"),
                                    key=where)
        if expected is float and not 0 <= value < 1:  # the one float is a dropout probability
            raise ArchitectureError(BAD_PARAMS.format(name=name, problem=f"{key!r} must be in [0, 1)"), key=where)
        if expected is list and not (
            0 < len(value) <= MAX_LAYERS
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_WIDTH for v in value)
        ):
            raise ArchitectureError(
                BAD_PARAMS.format(name=name, problem=f"{key!r} must be 1-{MAX_LAYERS} ints from 1 to {MAX_WIDTH:,}"),
                key=where)


def _mlp_size(*, in_features: int, hidden: list[int], n_classes: int, dropout: float = 0.0) -> tuple[int, int]:
    widths = [in_features, *hidden, n_classes]
    parameters = sum(a * b + b for a, b in zip(widths, widths[1:]))
    return parameters, sum(widths)


def _cnn_size(*, in_channels: int, height: int, width: int, n_classes: int, channels: list[int] = (16, 32),
              hidden: int = 64) -> tuple[int, int]:
    if height >> len(channels) == 0 or width >> len(channels) == 0:
        raise ArchitectureError(BAD_PARAMS.format(
            name="cnn", problem=f"an image of {height}x{width} is too small for {len(channels)} pooling blocks "
                                f"(it needs at least {2 ** len(channels)} pixels a side)"), key="params.height")
    parameters, activations = 0, in_channels * height * width
    c_in, h, w = in_channels, height, width
    for c_out in channels:
        parameters += 9 * c_in * c_out + c_out
        activations += 2 * c_out * h * w  # the convolution's output, and its ReLU's
        c_in, h, w = c_out, h // 2, w // 2
        activations += c_out * h * w
    parameters += c_in * h * w * hidden + hidden + hidden * n_classes + n_classes
    return parameters, activations + 2 * hidden + n_classes


_SIZES = {"mlp": _mlp_size, "cnn": _cnn_size}


def model_size(spec: dict) -> tuple[int, int]:
    """(parameters, activations per sample) of the model a spec describes, computed without building it."""
    name, params = _checked_spec(spec)
    return _SIZES[name](**params)


def _checked_spec(spec) -> tuple[str, dict]:
    if not isinstance(spec, dict):
        raise ArchitectureError("the spec must be a JSON object", key="spec")
    name = spec.get("architecture")
    if not isinstance(name, str) or name not in ARCHITECTURES:
        shown = name if isinstance(name, (str, int, float, type(None))) else type(name).__name__
        raise ArchitectureError(UNKNOWN_ARCHITECTURE.format(name=shown, allowed=", ".join(sorted(ARCHITECTURES))),
                                key="architecture")
    _, required, optional = ARCHITECTURES[name]
    params = spec.get("params", {})
    _check_params(name, params, required, optional)
    return name, params


def build_model(spec: dict) -> nn.Module:
    """Instantiate the architecture a spec names, after checking its params and its size."""
    name, params = _checked_spec(spec)
    parameters, activations = _SIZES[name](**params)
    if parameters > MAX_PARAMETERS:
        raise ArchitectureError(BAD_PARAMS.format(
            name=name, problem=TOO_MANY_PARAMETERS.format(count=parameters, limit=MAX_PARAMETERS)))
    if activations > MAX_ACTIVATIONS:
        raise ArchitectureError(BAD_PARAMS.format(
            name=name, problem=TOO_MANY_ACTIVATIONS.format(count=activations, limit=MAX_ACTIVATIONS)))
    cls = ARCHITECTURES[name][0]
    return cls(**params)
