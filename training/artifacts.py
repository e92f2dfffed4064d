"""Load uploaded model artifacts without ever unpickling them.

Two formats are accepted:
- torch: safetensors weights (a JSON header and raw tensors, no code) plus a JSON spec that
  names an allowlisted architecture (training/architectures.py) and the input encoding;
- scikit-learn: a skops file, loaded with an explicit list of trusted types.

Formats are recognised by content, not by file name, so a pickle renamed to `.skops` or
`.safetensors` is still refused before any byte of it is interpreted.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from training.architectures import ArchitectureError, build_model
from training.encoding import EncodingError, encode
from training.quantization import check_quantization, is_quantized, quantize_dynamic_int8
from training.train import predict_proba as torch_predict_proba

ACCEPTED_FORMATS = (
    "Accepted model formats: PyTorch weights as .safetensors together with a JSON architecture spec, "
    "or a scikit-learn model saved with skops (.skops). Pickle, joblib, .pt and .pth files are refused "
    "because loading them can run arbitrary code."
)
SPEC_REQUIRED = "A .safetensors artifact needs a JSON architecture spec ('spec')."
SPEC_INVALID = "The architecture spec is invalid: {problem}"
WEIGHTS_MISMATCH = "The weights do not fit the architecture spec: {problem}"
UNTRUSTED_TYPES = "The skops file contains types that are not on the trusted list: {types}."
CORRUPT_ARTIFACT = "The artifact could not be read as {fmt}: {problem}"
NOT_AN_ESTIMATOR = ("The skops file holds a {found}, not a scikit-learn estimator. Save a fitted classifier "
                    "(or a Pipeline ending in one) with skops.io.dump.")
NOT_A_CLASSIFIER = ("The skops file holds a {found}, which has no callable {missing}: the audits need a classifier "
                    "with predict and predict_proba.")
NOT_FITTED = "The skops file holds a {found} that is not fitted (it has no classes_): fit it before saving it."

# Types a skops upload may contain. skops already trusts plain numpy/builtin containers;
# everything else must be named here, so a new estimator type is a deliberate decision.
TRUSTED_SKOPS_TYPES = [
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.compose._column_transformer._RemainderColsList",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "builtins.slice",
]

TORCH_FORMAT = "safetensors"
SKLEARN_FORMAT = "skops"


class ArtifactError(ValueError):
    """A user-input problem with an artifact: permanent, never retried.

    `field` says which input was wrong ("artifact" or "spec"), for the API's error message.
    """

    def __init__(self, message: str, *, field: str = "artifact"):
        super().__init__(message)
        self.field = field


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_format(data: bytes) -> str:
    """Recognise safetensors or skops by their bytes; anything else is refused."""
    if len(data) >= 10:
        (header_len,) = struct.unpack("<Q", data[:8])
        if 2 <= header_len <= len(data) - 8 and data[8:9] == b"{":
            try:
                json.loads(data[8 : 8 + header_len])
                return TORCH_FORMAT
            except ValueError:
                pass
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "schema.json" in zf.namelist():
                    return SKLEARN_FORMAT
        except zipfile.BadZipFile:
            pass
    raise ArtifactError(ACCEPTED_FORMATS)


def parse_spec(raw: str | bytes | dict | None) -> dict:
    if raw is None or raw == "" or raw == b"":
        raise ArtifactError(SPEC_REQUIRED, field="spec")
    if isinstance(raw, (str, bytes, bytearray)):
        try:
            spec = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # callers bound the depth first; this is the backstop
            raise ArtifactError(SPEC_INVALID.format(problem=f"not JSON ({str(exc)[:200]})"), field="spec") from None
    else:
        spec = raw  # already parsed (a JSON body, `spec=[1,2]` as a form value): its type is checked below
    if not isinstance(spec, dict):
        raise ArtifactError(SPEC_INVALID.format(problem=f"it must be a JSON object, not {_json_type(spec)}"),
                            field="spec")
    if not isinstance(spec.get("input"), dict) or spec["input"].get("kind") not in {"tabular", "image"}:
        raise ArtifactError(
            SPEC_INVALID.format(problem="'input' must be an object with kind 'tabular' or 'image'"), field="spec.input"
        )
    return spec


def _json_type(value) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


@dataclass
class ModelHandle:
    """One loaded model behind a uniform predict_proba(frame) interface."""

    format: str
    spec: dict = field(default_factory=dict)
    module: torch.nn.Module | None = None
    estimator: object | None = None

    @property
    def quantized(self) -> bool:
        """An int8 copy (training/quantization.py): CPU kernels only, no gradients."""
        return is_quantized(self.spec)

    @property
    def classes(self) -> list:
        if self.estimator is not None:
            return list(self.estimator.classes_)
        return list(self.spec.get("classes", range(self.spec["params"]["n_classes"])))

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        return encode(frame, self.spec["input"])

    def predict_proba(self, frame: pd.DataFrame, *, device: torch.device | None = None) -> np.ndarray:
        if self.estimator is not None:
            return np.asarray(self.estimator.predict_proba(frame))
        try:
            return torch_predict_proba(self.module, self.encode(frame), device=device)
        except EncodingError as exc:
            raise ArtifactError(str(exc)) from None

    def predict(self, frame: pd.DataFrame, *, device: torch.device | None = None) -> np.ndarray:
        return np.asarray(self.classes)[self.predict_proba(frame, device=device).argmax(axis=1)]


def load_model(data: bytes, *, spec: str | bytes | dict | None = None) -> ModelHandle:
    fmt = detect_format(data)
    if fmt == TORCH_FORMAT:
        spec = parse_spec(spec)
        try:
            module = build_model(spec)
        except ArchitectureError as exc:
            field = "spec" if exc.key == "spec" else f"spec.{exc.key}"
            raise ArtifactError(SPEC_INVALID.format(problem=exc), field=field) from None
        try:
            state = load_safetensors(data)
            module.load_state_dict(state, strict=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ArtifactError(WEIGHTS_MISMATCH.format(problem=str(exc).splitlines()[0])) from None
        module.eval()
        try:
            if check_quantization(spec):
                module = quantize_dynamic_int8(module)
        except ValueError as exc:
            raise ArtifactError(SPEC_INVALID.format(problem=exc), field="spec") from None
        return ModelHandle(format=fmt, spec=spec, module=module)
    return ModelHandle(format=fmt, estimator=load_skops(data))


def load_skops(data: bytes):
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a malformed archive can raise anything from zipfile/json
        raise ArtifactError(CORRUPT_ARTIFACT.format(fmt="skops", problem=exc)) from None
    refused = sorted(set(untrusted) - set(TRUSTED_SKOPS_TYPES))
    if refused:
        raise ArtifactError(UNTRUSTED_TYPES.format(types=", ".join(refused)))
    try:
        estimator = sio.loads(data, trusted=[t for t in untrusted])
    except Exception as exc:
        raise ArtifactError(CORRUPT_ARTIFACT.format(fmt="skops", problem=exc)) from None
    check_estimator(estimator)
    return estimator


def check_estimator(estimator) -> None:
    """A skops file may hold any trusted value (a dict, a bare StandardScaler); only a fitted
    scikit-learn classifier is a model every audit can call: predict, predict_proba and classes_."""
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator):
        raise ArtifactError(NOT_AN_ESTIMATOR.format(found=type(estimator).__name__))
    missing = [m for m in ("predict", "predict_proba") if not callable(getattr(estimator, m, None))]
    if missing:
        raise ArtifactError(NOT_A_CLASSIFIER.format(found=type(estimator).__name__, missing=", ".join(missing)))
    try:
        classes = getattr(estimator, "classes_", None)
    except Exception:  # noqa: BLE001 - a Pipeline raises from its last step when that step is not fitted
        classes = None
    if classes is None:
        raise ArtifactError(NOT_FITTED.format(found=type(estimator).__name__))


def torch_artifact(module: torch.nn.Module) -> bytes:
    """Serialise weights as safetensors (contiguous CPU tensors)."""
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    return save_safetensors(state)


def skops_artifact(estimator) -> bytes:
    import skops.io as sio

    return sio.dumps(estimator)
