"""Dynamic int8 quantization: the one way the platform makes an int8 copy of a torch model.

A version registered as an int8 variant keeps its parent's float weights as its artifact and says
``"quantization": "dynamic-int8"`` in its spec; the loader quantizes after loading. Dynamic
quantization is a pure function of the float weights (each Linear layer's weights rounded to int8
with a per-tensor scale), so the artifact's sha256 pins the int8 model as exactly as it pins the
float one, and the safe loader never reads a packed, non-state-dict file.

Its kernels run on the CPU only, and the quantized layers have no gradients: audits that attack
or attribute through gradients refuse such a version (audits/runs/registry.py, `refusal`).
"""

from __future__ import annotations

import copy
import warnings

DYNAMIC_INT8 = "dynamic-int8"
QUANTIZATIONS = (DYNAMIC_INT8,)
UNKNOWN = "'quantization' must be one of: {allowed} (got {value!r})"
NO_LINEAR = "'quantization': the architecture has no Linear layer to quantize"


def check_quantization(spec: dict) -> str | None:
    """The spec's quantization, or None; a ValueError with the reason for an unknown one."""
    value = spec.get("quantization")
    if value is None:
        return None
    if value not in QUANTIZATIONS:
        raise ValueError(UNKNOWN.format(allowed=", ".join(QUANTIZATIONS), value=value))
    return value


def quantize_dynamic_int8(module):
    """A copy of `module` (on the CPU, in eval mode) with its Linear layers quantized to int8."""
    import torch  # here, so that pages can ask is_quantized without loading torch

    base = copy.deepcopy(module).to("cpu").eval()
    if not any(isinstance(m, torch.nn.Linear) for m in base.modules()):
        raise ValueError(NO_LINEAR)
    with warnings.catch_warnings():
        # torch 2.13 announces that torch.ao.quantization moves to torchao; quantize_dynamic is
        # still the documented call, and what it does to accuracy and speed is measured.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(base, {torch.nn.Linear}, dtype=torch.qint8).eval()


def is_quantized(spec: dict | None) -> bool:
    return bool((spec or {}).get("quantization"))
