"""L-inf PGD in plain PyTorch, batched across rows and epsilons at once; no Django, no ART.

The same attack as ART's ProjectedGradientDescentPyTorch with num_random_init=0 (Madry et al.
2018 without the random start): `steps` signed-gradient steps of `step_factor * eps / steps` on
the cross-entropy loss, each followed by clipping to the input bounds and projection onto the
eps-ball around the clean input. ART attacks one epsilon at a time in batches of its own and
copies every step's gradient through NumPy; here every (row, epsilon) pair is one row of one
large batch that stays on the device, so a GPU runs a whole robustness curve in `steps`
forward/backward passes. `pgd_linf` gives the curve's robust accuracies; `pgd_linf_rows`, what
the robustness audit needs besides: per (epsilon, row) whether the row is still right and the
norms of its perturbation, with a per-feature `mask` (features the attacker may not change, such
as one-hot categories, keep their clean values). Optional, each a choice the caller measures
before using it:

- `amp_dtype`: autocast the forward/backward (bfloat16 on CPU, float16 or bfloat16 on CUDA).
  Only the gradient's sign is used, so low precision rarely changes a step, but it can;
  tests/benchmarks/bench_robustness.py measures the robust accuracy against float32 and the
  result is usable only where it stays within half a point.
- `channels_last`: NHWC for 4-d image input (faster convolutions on recent GPUs and oneDNN).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

BAD_STEPS = "steps must be a positive integer, not {value!r}."
BAD_EPSILONS = "epsilons must be a non-empty list of non-negative numbers, not {value!r}."


def _bounds(low, high, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    as_t = lambda v: torch.as_tensor(v, dtype=like.dtype, device=like.device)  # noqa: E731
    return as_t(low), as_t(high)


@dataclass(frozen=True)
class PGDRows:
    """What a robustness curve needs from PGD, per (epsilon, row), without the examples themselves.

    robust: bool [len(epsilons), n], the model is still right on the adversarial example (a row
    whose outputs are not finite on it counts as broken). linf, l2: float64 [len(epsilons), n],
    the norms of (adversarial example - clean input).
    """

    robust: torch.Tensor
    linf: torch.Tensor
    l2: torch.Tensor


def pgd_linf(module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epsilons, steps: int, step_factor: float,
             low, high, batch_size: int = 4096, amp_dtype: torch.dtype | None = None,
             channels_last: bool = False) -> torch.Tensor:
    """Robust accuracy at each epsilon: a tensor of len(epsilons), the share of rows still classified as y.

    x: clean inputs on the module's device, y: class indices. `low`/`high`: the input bounds
    (scalars or tensors broadcastable to one row). Rows already misclassified count as not robust.
    """
    rows = pgd_linf_rows(module, x, y, epsilons=epsilons, steps=steps, step_factor=step_factor, low=low, high=high,
                         batch_size=batch_size, amp_dtype=amp_dtype, channels_last=channels_last)
    return rows.robust.float().mean(dim=1)


def pgd_linf_rows(module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epsilons, steps: int,
                  step_factor: float, low, high, mask: torch.Tensor | None = None, batch_size: int = 4096,
                  amp_dtype: torch.dtype | None = None, channels_last: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> PGDRows:
    """PGD at every epsilon for every row, in batches of `batch_size` (row, epsilon) pairs.

    `mask` (0/1, broadcastable to one row; None: every feature) names the features the
    attacker may change: elsewhere the gradient is zeroed, as ART does, and the example keeps
    the clean value exactly. `progress(done, total)` is called after every step of every batch.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(BAD_STEPS.format(value=steps))
    if not epsilons or any(not isinstance(e, (int, float)) or isinstance(e, bool) or e < 0 for e in epsilons):
        raise ValueError(BAD_EPSILONS.format(value=epsilons))
    module.eval()
    low, high = _bounds(low, high, x)
    keep = None if mask is None else torch.as_tensor(mask, device=x.device) > 0
    eps_all = torch.as_tensor([float(e) for e in epsilons], dtype=x.dtype, device=x.device)
    # Every (epsilon, row) pair, epsilon-major: pair i is row i % n at epsilon i // n.
    n, n_eps = len(x), len(epsilons)
    pair_eps = eps_all.repeat_interleave(n)
    pair_row = torch.arange(n, device=x.device).repeat(n_eps)
    robust = torch.zeros(n_eps * n, dtype=torch.bool, device=x.device)
    linf = torch.zeros(n_eps * n, dtype=torch.float64, device=x.device)
    l2 = torch.zeros(n_eps * n, dtype=torch.float64, device=x.device)
    memory_format = torch.channels_last if channels_last and x.dim() == 4 else torch.contiguous_format
    starts = range(0, len(pair_row), batch_size)
    ticks = _Ticks(progress, total=len(starts) * steps)
    for start in starts:
        rows = pair_row[start:start + batch_size]
        eps = pair_eps[start:start + batch_size].view(-1, *([1] * (x.dim() - 1)))
        clean = x[rows].contiguous(memory_format=memory_format)
        target = y[rows]
        adv = _pgd_batch(module, clean, target, eps=eps, steps=steps, step=step_factor * eps / steps,
                         low=low, high=high, keep=keep, amp_dtype=amp_dtype, tick=ticks)
        with torch.no_grad(), _autocast(x.device, amp_dtype):
            scores = module(adv).float()
        done = slice(start, start + len(rows))
        robust[done] = (scores.argmax(dim=1) == target) & torch.isfinite(scores).all(dim=1)
        delta = (adv - clean).flatten(1).double()
        linf[done] = delta.abs().amax(dim=1) if delta.shape[1] else 0.0
        l2[done] = delta.norm(dim=1)
    return PGDRows(robust=robust.view(n_eps, n), linf=linf.view(n_eps, n), l2=l2.view(n_eps, n))


class _Ticks:
    def __init__(self, progress, *, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _autocast(device: torch.device, amp_dtype):
    return torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None)


def _pgd_batch(module, clean, target, *, eps, steps, step, low, high, keep, amp_dtype, tick) -> torch.Tensor:
    adv = clean.clone()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")  # the sign of the gradient is that of the mean's
    for _ in range(steps):
        adv.requires_grad_(True)
        with _autocast(clean.device, amp_dtype):
            loss = loss_fn(module(adv).float(), target)
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            # ART replaces a NaN gradient by 0 and zeroes it outside the mask: neither moves.
            direction = torch.nan_to_num(grad.sign(), nan=0.0)
            if keep is not None:
                direction = torch.where(keep, direction, torch.zeros_like(direction))
            adv = adv + step * direction
            adv = torch.maximum(torch.minimum(adv, high), low)  # ART: clip to the input bounds, then project
            adv = torch.maximum(torch.minimum(adv, clean + eps), clean - eps)
        tick()
    adv = adv.detach()
    # A fixed feature keeps its clean value exactly, whatever the clipping did to it.
    return adv if keep is None else torch.where(keep, adv, clean)
