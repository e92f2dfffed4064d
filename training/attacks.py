"""L-inf PGD in plain PyTorch, batched across rows and epsilons at once; no Django, no ART.

The same attack as ART's ProjectedGradientDescentPyTorch with num_random_init=0 (Madry et al.
2018 without the random start): `steps` signed-gradient steps of `step_factor * eps / steps` on
the cross-entropy loss, each followed by clipping to the input bounds and projection onto the
eps-ball around the clean input. ART attacks one epsilon at a time in batches of its own and
copies every step's gradient through NumPy; here every (row, epsilon) pair is one row of one
large batch that stays on the device, so a GPU runs a whole robustness curve in `steps`
forward/backward passes. Optional, each a choice the caller measures before using it:

- `amp_dtype`: autocast the forward/backward (bfloat16 on CPU, float16 or bfloat16 on CUDA).
  Only the gradient's sign is used, so low precision rarely changes a step, but it can;
  tests/benchmarks/bench_robustness.py measures the robust accuracy against float32 and the
  result is usable only where it stays within half a point.
- `channels_last`: NHWC for 4-d image input (faster convolutions on recent GPUs and oneDNN).
"""

from __future__ import annotations

import torch
from torch import nn

BAD_STEPS = "steps must be a positive integer, not {value!r}."
BAD_EPSILONS = "epsilons must be a non-empty list of non-negative numbers, not {value!r}."


def _bounds(low, high, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    as_t = lambda v: torch.as_tensor(v, dtype=like.dtype, device=like.device)  # noqa: E731
    return as_t(low), as_t(high)


def pgd_linf(module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epsilons, steps: int, step_factor: float,
             low, high, batch_size: int = 4096, amp_dtype: torch.dtype | None = None,
             channels_last: bool = False) -> torch.Tensor:
    """Robust accuracy at each epsilon: a tensor of len(epsilons), the share of rows still classified as y.

    x: clean inputs on the module's device, y: class indices. `low`/`high`: the input bounds
    (scalars or tensors broadcastable to one row). Rows already misclassified count as not robust.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(BAD_STEPS.format(value=steps))
    if not epsilons or any(not isinstance(e, (int, float)) or isinstance(e, bool) or e < 0 for e in epsilons):
        raise ValueError(BAD_EPSILONS.format(value=epsilons))
    module.eval()
    low, high = _bounds(low, high, x)
    eps_all = torch.as_tensor([float(e) for e in epsilons], dtype=x.dtype, device=x.device)
    # Every (epsilon, row) pair, epsilon-major: pair i is row i % n at epsilon i // n.
    n = len(x)
    pair_eps = eps_all.repeat_interleave(n)
    pair_row = torch.arange(n, device=x.device).repeat(len(epsilons))
    robust = torch.zeros(len(epsilons), device=x.device)
    memory_format = torch.channels_last if channels_last and x.dim() == 4 else torch.contiguous_format
    for start in range(0, len(pair_row), batch_size):
        rows = pair_row[start:start + batch_size]
        eps = pair_eps[start:start + batch_size].view(-1, *([1] * (x.dim() - 1)))
        clean = x[rows].contiguous(memory_format=memory_format)
        target = y[rows]
        adv = _pgd_batch(module, clean, target, eps=eps, steps=steps, step=step_factor * eps / steps,
                         low=low, high=high, amp_dtype=amp_dtype)
        with torch.no_grad(), _autocast(x.device, amp_dtype):
            correct = (module(adv).argmax(dim=1) == target).float()
        robust.index_add_(0, (start + torch.arange(len(rows), device=x.device)) // n, correct)
    return robust / n


def _autocast(device: torch.device, amp_dtype):
    return torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None)


def _pgd_batch(module, clean, target, *, eps, steps, step, low, high, amp_dtype) -> torch.Tensor:
    adv = clean.clone()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")  # the sign of the gradient is that of the mean's
    for _ in range(steps):
        adv.requires_grad_(True)
        with _autocast(clean.device, amp_dtype):
            loss = loss_fn(module(adv).float(), target)
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = adv + step * grad.sign()
            adv = torch.maximum(torch.minimum(adv, high), low)  # ART: clip to the input bounds, then project
            adv = torch.maximum(torch.minimum(adv, clean + eps), clean - eps)
    return adv.detach()
