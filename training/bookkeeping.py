"""DP-SGD for the allowlisted architectures without Opacus's per-sample-gradient machinery; no Django.

DP-SGD's step needs two things per example i: the norm of its gradient (to clip it) and the sum
of the clipped gradients. For a layer z = W a (+ bias), example i's weight gradient is
b_i a_i^T with b_i = dloss_i/dz_i, so both follow from the layer's input a and its output
gradient b, without ever holding a gradient per example and parameter:

- norms ("ghost norm", Goodfellow 2015; Li et al. 2022): for a Linear layer on one vector per
  example, ||b_i a_i^T||^2 = ||a_i||^2 ||b_i||^2. For a Conv2d, with A_i the unfolded input
  (k x L, k = c_in * kernel area, L output positions) and B_i the output gradient (c_out x L),
  ||B_i A_i^T||^2 = <A_i^T A_i, B_i^T B_i>, an L x L product; where L is large against
  c_out * k (the first convolution of the digits CNN: L = 64, c_out * k = 144) the c_out x k
  gradient itself is cheaper, and is formed instead (mixed ghost norm, Bu et al. 2022).
- the clipped sum ("book-keeping", Bu et al. 2023, "Differentially private optimization on
  large model at small cost"): sum_i c_i b_i a_i^T is one weighted weight-gradient per layer,
  computed from the a and b already kept, so no second backward pass is needed.

The backward pass runs once, to the layer outputs only (torch.autograd.grad), so no weight
gradient is computed before clipping. Noise is drawn per parameter, in the optimizer's order,
from the same generator and with the same standard deviation as Opacus's DPOptimizer, and the
sum is divided by the expected batch size as there: given the same batch and the same
generator state, this takes Opacus's step (tests/training/test_bookkeeping.py checks it against
expanded weights to float rounding) and books the same (sigma, q) to the accountant each step.

Only layers whose per-example gradient has that form are accepted: Linear on (batch,
features), Conv2d with groups 1, and parameter-free ReLU, MaxPool2d, Flatten and Dropout in
between. Anything else is refused at construction, so the mode measurement leaves it out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

UNSUPPORTED_LAYER = ("Book-keeping DP-SGD supports Linear, Conv2d (groups 1), ReLU, MaxPool2d, Flatten and Dropout, "
                     "not {name}.")
LINEAR_INPUT = "Book-keeping DP-SGD needs a Linear layer's input as (batch, features), not {shape}."
UNSUPPORTED_MODEL = "Book-keeping DP-SGD needs a model whose forward is its layers in sequence, not {name}."
PARAMETER_FREE = (nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Dropout)


def sequential_layers(model: nn.Module) -> list[nn.Module]:
    """The allowlisted architectures' forward as a list of layers (MLP: body, head; SmallCNN: conv, dense, head)."""
    if hasattr(model, "conv") and hasattr(model, "dense") and hasattr(model, "head"):
        layers = [*model.conv, *model.dense, model.head]
    elif hasattr(model, "body") and hasattr(model, "head"):
        layers = [*model.body, model.head]
    else:
        raise ValueError(UNSUPPORTED_MODEL.format(name=type(model).__name__))
    for layer in layers:
        ok = isinstance(layer, (nn.Linear, *PARAMETER_FREE)) or (isinstance(layer, nn.Conv2d) and layer.groups == 1)
        if not ok:
            raise ValueError(UNSUPPORTED_LAYER.format(name=type(layer).__name__))
    return layers


def _patch_columns(layer: nn.Conv2d, a: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """((n, k, L): the input patch under each of the L output positions, whether k is in the weight's order).

    k = c_in * kernel area. In NCHW memory (a one-channel input is in both layouts) im2col gives
    the patches in the weight's (c_in, kernel row, kernel column) order. In channels_last memory
    one strided copy of the padded input's NHWC view is 5x faster than im2col (which converts the
    layout first) and gives the order (kernel row, kernel column, c_in): norms and Gram matrices
    do not depend on the order, and _as_weight puts a gradient back in the weight's.
    """
    if a.is_contiguous():
        return F.unfold(a, layer.kernel_size, dilation=layer.dilation, padding=layer.padding,
                        stride=layer.stride), True
    (ph, pw), (sh, sw), (dh, dw), (kh, kw) = layer.padding, layer.stride, layer.dilation, layer.kernel_size
    padded = F.pad(a, (pw, pw, ph, ph)).permute(0, 2, 3, 1).contiguous()  # a view: a is channels_last
    n, hp, wp, c = padded.shape
    h_out, w_out = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    s_n, s_h, s_w, _ = padded.stride()
    windows = padded.as_strided((n, h_out, w_out, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, 1))
    return windows.reshape(n, h_out * w_out, kh * kw * c).transpose(1, 2), False


def _as_weight(layer: nn.Conv2d, gradient: torch.Tensor, weight_order: bool) -> torch.Tensor:
    """A (k, c_out) gradient in the weight's (c_out, c_in, kh, kw) shape, from either patch order."""
    if weight_order:
        return gradient.t().reshape(layer.weight.shape)
    kh, kw = layer.kernel_size
    return gradient.t().reshape(layer.out_channels, kh, kw, layer.in_channels).permute(0, 3, 1, 2)


def _output_rows(b: torch.Tensor) -> torch.Tensor:
    """(n, L, c_out): the output gradient per position; a view when b is channels_last."""
    return b.permute(0, 2, 3, 1).reshape(len(b), -1, b.shape[1])


def _conv_per_example(layer: nn.Conv2d, a: torch.Tensor, b: torch.Tensor):
    """(squared norms of the per-example weight gradients, (those gradients, whether in the weight's order) or
    None where only norms were formed).

    Mixed ghost norm (Bu et al. 2022): the L x L Gram matrices cost about 2 L^2 per example, the
    per-example gradient c_out * k; the cheaper is computed.
    """
    (A, weight_order), B = _patch_columns(layer, a), _output_rows(b)
    k, positions, c_out = A.shape[1], A.shape[2], B.shape[2]
    if 2 * positions * positions < c_out * k:
        return (torch.bmm(A.transpose(1, 2), A) * torch.bmm(B, B.transpose(1, 2))).sum((1, 2)), None
    per_example = torch.bmm(A, B)  # (n, k, c_out)
    return per_example.square().sum((1, 2)), (per_example, weight_order)


def _layer_norms(layer: nn.Module, a: torch.Tensor, b: torch.Tensor):
    """(||gradient of example i||^2 over the layer's weight and bias, for every i; what _clipped_sums can reuse)."""
    if isinstance(layer, nn.Linear):
        if a.dim() != 2:  # with a sequence dimension the gradient is a sum of rank-one terms: not this norm
            raise ValueError(LINEAR_INPUT.format(shape=tuple(a.shape)))
        b_sq = b.square().sum(1)
        return b_sq * (a.square().sum(1) + (1.0 if layer.bias is not None else 0.0)), None
    sq, per_example = _conv_per_example(layer, a, b)
    if layer.bias is not None:
        sq = sq + b.sum((2, 3)).square().sum(1)
    return sq, per_example


def _clipped_sums(layer: nn.Module, a: torch.Tensor, b: torch.Tensor, factor: torch.Tensor,
                  per_example: torch.Tensor | None) -> list[torch.Tensor]:
    """[weight, bias] of sum_i factor_i * (gradient of example i): one weighted weight-gradient."""
    if isinstance(layer, nn.Linear):
        bc = b * factor[:, None]
        sums = [bc.t().mm(a)]
        dims = (0,)
    else:
        bc = b * factor.view(-1, 1, 1, 1)
        if per_example is not None:  # already formed for the norm: weigh and add
            gradients, weight_order = per_example
            weight = _as_weight(layer, torch.einsum("i,ijk->jk", factor, gradients), weight_order)
        else:
            weight = torch.nn.grad.conv2d_weight(a, layer.weight.shape, bc, stride=layer.stride,
                                                 padding=layer.padding, dilation=layer.dilation, groups=1)
        sums = [weight]
        dims = (0, 2, 3)
    if layer.bias is not None:
        sums.append(bc.sum(dims))
    return sums


class BookkeepingDPSGD:
    """One DP-SGD step at a time for `model` (an allowlisted architecture), then `optimizer`'s update.

    The interface the training loop needs: `train_step(xb, yb)` returns the batch's summed loss
    (detached) after the step; `noise_multiplier` and `params` as on Opacus's DPOptimizer. Every
    step, empty batches included, books (noise_multiplier, sample_rate) to `accountant`.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, *, noise_multiplier: float,
                 max_grad_norm: float, expected_batch_size: float, sample_rate: float, accountant=None,
                 generator: torch.Generator | None = None):
        self.layers = sequential_layers(model)
        self.model, self.optimizer, self.accountant, self.generator = model, optimizer, accountant, generator
        self.noise_multiplier, self.max_grad_norm = float(noise_multiplier), float(max_grad_norm)
        self.expected_batch_size, self.sample_rate = float(expected_batch_size), float(sample_rate)
        # Opacus's DPOptimizer.params order: the order its noise is drawn in.
        self.params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        trainable = [p for layer in self.layers for p in layer.parameters() if p.requires_grad]
        if {id(p) for p in trainable} != {id(p) for p in self.params}:
            raise ValueError(UNSUPPORTED_MODEL.format(name=type(model).__name__))

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def clipped_sum(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
        """({id(parameter): sum of clipped per-example gradients}, summed loss); zeros for an empty batch."""
        if len(yb) == 0:
            zero = torch.zeros((), device=self.params[0].device)
            return {id(p): torch.zeros_like(p) for p in self.params}, zero
        kept, h = [], xb
        for layer in self.layers:
            out = layer(h)
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                kept.append((layer, h.detach(), out))
            h = out
        loss = F.cross_entropy(h, yb, reduction="sum")  # summed: b_i is example i's own gradient
        outputs = torch.autograd.grad(loss, [out for _, _, out in kept])
        norms = [_layer_norms(layer, a, b) for (layer, a, _), b in zip(kept, outputs)]
        sq = sum(layer_sq for layer_sq, _ in norms)
        factor = (self.max_grad_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)  # Opacus's clip factor
        sums = {}
        for ((layer, a, _), b), (_, per_example) in zip(zip(kept, outputs), norms):
            for p, total in zip(layer.parameters(), _clipped_sums(layer, a, b, factor, per_example)):
                sums[id(p)] = total
        return sums, loss.detach()

    def train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        sums, loss = self.clipped_sum(xb, yb)
        std = self.noise_multiplier * self.max_grad_norm
        for p in self.params:
            total = sums[id(p)]
            if std > 0:  # as Opacus: no noise means no draw, so the generator's stream is the same
                total = total + torch.normal(mean=0, std=std, size=p.shape, device=p.device,
                                             generator=self.generator, dtype=p.dtype)
            p.grad = total.view_as(p) / self.expected_batch_size
        self.optimizer.step()
        if self.accountant is not None:
            self.accountant.step(noise_multiplier=self.noise_multiplier, sample_rate=self.sample_rate)
        return loss
