"""Differentially private retraining of a registered model's own recipe with Opacus (DP-SGD).

DP-SGD (Abadi et al., CCS 2016, "Deep Learning with Differential Privacy") clips each
example's gradient to `max_grad_norm`, adds Gaussian noise of standard deviation
`noise_multiplier * max_grad_norm` to the sum, and samples every batch with Poisson
sampling (each row joins a step independently with probability `sample_rate`). The
accountant turns (noise_multiplier, sample_rate, steps) into the (epsilon, delta) that is
reported; the noise is the smallest that keeps epsilon <= the target after `epochs`.

What is booked is what ran. Opacus's Poisson loader samples at q = 1/k (k = the plain
loader's length) but its sampler runs int(1/q) steps per epoch, which floating-point
rounding makes k - 1 for k = 93, 99, 105, 117, ... (1/(1/93) = 92.99999999999999), and its
accountant then books q = 1/(k - 1). We build the Poisson loader ourselves with the sampler's
`steps` given explicitly (`poisson_schedule`), so the noise search, the sampler, Opacus's
accountant and the record all use the same q and the same number of steps; `dp_retrain`
counts the steps it takes and refuses a record that does not add up.

Everything but the optimiser's privacy wrapper is the version's own recipe (architecture,
encoding, Adam, learning rate, seed), so the retrained model differs from the registered
one only by DP-SGD.

What is pure is remembered: with a `cache_dir`, the noise multiplier (calibrate_noise; checked
again by one accountant call before use, so the booked epsilon is always the accountant's) and
the fastest per-sample-gradient mode and memory layout for the model's shape
(choose_grad_sample_mode, training/grad_modes.py) are kept for the next run (training/cache.py).

The noise and the Poisson batches come from torch's seeded generator (Opacus's secure_mode
off), so an audit re-runs bit for bit; Opacus advises secure_mode (an unseeded
cryptographic generator) for a final model that will be released, and the record says
which was used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import opacus
import pandas as pd
import torch
from opacus import PrivacyEngine
from opacus.accountants import create_accountant
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn
from torch.utils.data import DataLoader, Dataset

from training import grad_modes
from training.architectures import build_model
from training.bookkeeping import BookkeepingDPSGD
from training.cache import cache_get, cache_put
from training.encoding import encode
from training.recipes import labels_to_index, training_settings
from training.train import resolve_device, set_seed

ACCOUNTANTS = ("prv", "rdp")
# "bk": training/bookkeeping.py, DP-SGD without Opacus's per-sample-gradient machinery (ghost norms,
# one weighted weight-gradient per layer); Opacus's step to float rounding, for the allowlisted layers.
BOOKKEEPING_MODE = "bk"
GRAD_SAMPLE_MODES = ("hooks", "functorch", "ew", "ghost", BOOKKEEPING_MODE)
# Without a cache directory (so without a measurement that later runs would reuse): chosen by
# tests/benchmarks/bench_dp.py, of the modes that train both allowlisted architectures (MLP
# and SmallCNN), book-keeping was the fastest on CPU (~1.3-1.5x the non-private loop, expanded
# weights ~1.8x, "hooks" 2.3x, "ghost" 2.6x). With one, dp_retrain measures the modes once per
# shape (grad_modes).
DEFAULT_GRAD_SAMPLE_MODE = BOOKKEEPING_MODE
CALIBRATION_NAMESPACE = "noise-multiplier"
CALIBRATION_TOLERANCE = 0.01  # Opacus's epsilon_tolerance in get_noise_multiplier
MAX_NOISE_MULTIPLIER = 1e6  # as Opacus: a target that needs more noise is unreachable

BAD_EPSILON = "target_epsilon must be a positive number, not {value!r}."
BAD_DELTA = "delta must be greater than 0 and below 1/N = {limit:.3g} (N = {n} training rows), not {value!r}."
BAD_ACCOUNTANT = "accountant must be one of {allowed}, not {value!r}."
BAD_GRAD_SAMPLE_MODE = "grad_sample_mode must be one of {allowed}, not {value!r}."
BAD_MAX_GRAD_NORM = "max_grad_norm must be a positive number, not {value!r}."
BAD_POSITIVE_INT = "{name} must be a positive integer, not {value!r}."
MISSING_LABEL_COLUMN = "The training data has no label column {column!r}."
UNKNOWN_LABELS = "The label column {column!r} holds values the model does not know: {values}. Model classes: {classes}."
NO_NOISE_MULTIPLIER = "No noise multiplier up to {limit:g} reaches epsilon {epsilon}."
EMPTY_TRAINING_DATA = "The training data has no rows."
RECORD_MISMATCH = ("The DP-SGD run does not add up: {what}. The record would not describe what ran, so "
                   "the retraining is refused.")
EPSILON_UNREACHABLE = (
    "target_epsilon={epsilon} cannot be reached in {epochs} epochs at batch size {batch_size} "
    "(no finite noise is enough); raise epsilon, or train fewer epochs or with smaller batches."
)


def default_delta(n_rows: int) -> float:
    """delta = 1 / (10 N).

    delta is the probability that the epsilon guarantee fails outright. Publishing one
    random training row verbatim is already (0, 1/N)-DP, so delta must be well below 1/N to
    mean anything; a tenth of 1/N is the usual rule of thumb (and what we document to users).
    """
    return 1.0 / (10 * n_rows)


def epsilon_for(noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                accountant: str = "prv") -> float:
    """The epsilon the accountant gives to `steps` Poisson-sampled Gaussian steps at this delta.

    "rdp": Renyi DP of the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019) at
    Opacus's default orders, converted to (epsilon, delta) with Balle et al. 2020, Thm. 21
    (tighter than the classical epsilon = rdp + log(1/delta)/(alpha-1) of Mironov 2017).
    "prv": numerical composition of privacy loss random variables (Gopi, Lee & Wutschitz,
    NeurIPS 2021), an upper bound within 0.01 of the exact epsilon.
    """
    _check_choice(accountant, ACCOUNTANTS, BAD_ACCOUNTANT)
    tracker = create_accountant(mechanism=accountant)
    tracker.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    return float(tracker.get_epsilon(delta=float(delta)))


def _check_choice(value, allowed: tuple, message: str) -> None:
    if value not in allowed:
        raise ValueError(message.format(value=value, allowed=", ".join(repr(a) for a in allowed)))


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(BAD_POSITIVE_INT.format(name=name, value=value))


def _check_positive_number(value, message: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(message.format(value=value))


def _validate(spec, frame, *, label_column, target_epsilon, delta, max_grad_norm, epochs, batch_size, accountant, mode):
    _check_positive_number(target_epsilon, BAD_EPSILON)
    _check_positive_number(max_grad_norm, BAD_MAX_GRAD_NORM)
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    _check_choice(accountant, ACCOUNTANTS, BAD_ACCOUNTANT)
    _check_choice(mode, GRAD_SAMPLE_MODES, BAD_GRAD_SAMPLE_MODE)
    if len(frame) == 0:
        raise ValueError(EMPTY_TRAINING_DATA)
    if label_column not in frame.columns:
        raise ValueError(MISSING_LABEL_COLUMN.format(column=label_column))
    unknown = sorted({str(v) for v in frame[label_column].unique()} - {str(c) for c in spec["classes"]})
    if unknown:
        raise ValueError(UNKNOWN_LABELS.format(column=label_column, values=unknown, classes=spec["classes"]))
    limit = 1.0 / len(frame)
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < limit:
        raise ValueError(BAD_DELTA.format(limit=limit, n=len(frame), value=delta))


def _as_device(device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


class _RowTensors(Dataset):
    """Training rows held as two tensors, fetched a whole batch at a time.

    DataLoader calls __getitems__ with the batch's indices, so a Poisson batch is one
    indexing operation instead of one __getitem__ and a collate per row; on a GPU the rows
    already live there. An empty index list gives correctly shaped empty tensors.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, device: torch.device, channels_last: bool = False):
        self.X = torch.as_tensor(X, dtype=torch.float32, device=device)
        self.y = torch.as_tensor(y, dtype=torch.long, device=device)
        self.channels_last = channels_last and self.X.dim() == 4

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], self.y[i]

    def __getitems__(self, indices: list[int]):
        index = torch.as_tensor(indices, dtype=torch.long, device=self.X.device)
        X = self.X[index]
        return (X.contiguous(memory_format=torch.channels_last) if self.channels_last else X), self.y[index]


def _whole_batch(batch):
    return batch  # __getitems__ already returns the stacked (X, y) pair


def poisson_schedule(n_rows: int, batch_size: int) -> tuple[float, int]:
    """(sample_rate, steps per epoch) of the Poisson batches: q = 1/k with k = ceil(N / batch_size).

    The expected batch, qN = N/k, is at most batch_size, as with Opacus's own conversion of a
    loader of k batches. The k steps are handed to the sampler explicitly: left to itself it
    runs int(1/q) steps, k - 1 for 141 of the k up to 2000.
    """
    steps = -(-int(n_rows) // int(batch_size))
    return 1 / steps, steps


def _poisson_loader(X: np.ndarray, y: np.ndarray, *, sample_rate: float, steps: int, seed: int,
                    device: torch.device, channels_last: bool = False) -> DataLoader:
    """Opacus's own Poisson sampler, run for exactly `steps` batches of rate `sample_rate`."""
    sampler = UniformWithReplacementSampler(num_samples=len(y), sample_rate=sample_rate, steps=steps,
                                            generator=torch.Generator().manual_seed(seed))
    return DataLoader(_RowTensors(X, y, device, channels_last), batch_sampler=sampler, collate_fn=_whole_batch)


def _row_loader(X: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, device: torch.device) -> DataLoader:
    """The Poisson loader of `poisson_schedule(len(y), batch_size)`."""
    sample_rate, steps = poisson_schedule(len(y), batch_size)
    return _poisson_loader(X, y, sample_rate=sample_rate, steps=steps, seed=seed, device=device)


def noise_multiplier_for(*, target_epsilon: float, delta: float, sample_rate: float, steps: int,
                         accountant: str = "prv", tolerance: float = CALIBRATION_TOLERANCE) -> float:
    """A noise multiplier whose epsilon after `steps` is <= target and within `tolerance` of it.

    The same contract as Opacus's get_noise_multiplier (opacus/accountants/utils.py, what
    make_private_with_epsilon calls): target - tolerance <= epsilon(sigma) <= target, with
    Opacus's default tolerance 0.01. It is not the same sigma. Opacus bisects from sigma = 20
    and returns the upper end of its last bracket (10-17 accountant calls, ~1 s with PRV at
    our sizes, as long as the whole digits training on a CPU); here secant steps in log-log
    space (log epsilon is nearly linear in log sigma), kept inside a bracket, land in 3-5
    calls. Any sigma in the band meets the contract, so the two answers differ by up to the
    band's width in sigma (up to 7.3e-3 on the grid of tests/benchmarks/bench_dp_records.py,
    BENCHMARKS.md) and their epsilons by at most `tolerance`; tests/training/test_dp.py checks
    both on a grid. The returned sigma always satisfies
    epsilon <= target; raises ValueError when no sigma up to MAX_NOISE_MULTIPLIER does.
    """
    return _noise_search(target_epsilon=target_epsilon, delta=delta, sample_rate=sample_rate, steps=steps,
                         accountant=accountant, tolerance=tolerance)[0]


def _noise_search(*, target_epsilon, delta, sample_rate, steps, accountant, tolerance) -> tuple[float, float]:
    """(sigma, the accountant's epsilon for it): noise_multiplier_for's search, keeping the last epsilon."""
    eps_of = lambda sigma: epsilon_for(sigma, sample_rate, steps, delta, accountant)  # noqa: E731
    lo = hi = None  # (sigma, epsilon): lo misses the target (too little noise), hi meets it
    sigma = 1.0
    for _ in range(60):  # a bound on accountant calls; 3-5 are typical, ~35 reach the 1e6 limit
        eps = eps_of(sigma)
        if eps <= target_epsilon:
            hi = (sigma, eps)
            if target_epsilon - eps <= tolerance:
                return float(sigma), float(eps)
        else:
            lo = (sigma, eps)
        sigma = _next_sigma(lo, hi, target_epsilon)
        if sigma > MAX_NOISE_MULTIPLIER:
            break
    if hi is None:
        raise ValueError(NO_NOISE_MULTIPLIER.format(limit=MAX_NOISE_MULTIPLIER, epsilon=target_epsilon))
    return float(hi[0]), float(hi[1])  # meets the target, only more noise than needed


def calibrate_noise(*, target_epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str = "prv",
                    tolerance: float = CALIBRATION_TOLERANCE, cache_dir=None) -> tuple[float, float, str]:
    """(sigma, epsilon of sigma, "cached" or "searched"): noise_multiplier_for, remembered in `cache_dir`.

    The search is a pure function of its inputs and Opacus's accountant, so its answer is cached
    under all of them (training/cache.py). A cached sigma is never trusted blindly: the
    accountant computes its epsilon once more (one call where the search takes 3-5, or Opacus's
    own 10-17), and only a sigma whose epsilon lies in [target - tolerance, target] is used;
    anything else (a corrupted or foreign file) is searched again and overwritten. Either way the
    epsilon returned is the accountant's own for the exact (sigma, sample_rate, steps, delta).
    """
    key = {"accountant": accountant, "sample_rate": round(float(sample_rate), 12), "steps": int(steps),
           "epsilon": float(target_epsilon), "delta": float(delta), "tolerance": float(tolerance),
           "opacus": opacus.__version__}
    cached = cache_get(cache_dir, CALIBRATION_NAMESPACE, key)
    sigma = cached.get("noise_multiplier") if cached else None
    if isinstance(sigma, (int, float)) and not isinstance(sigma, bool) and 0 < sigma <= MAX_NOISE_MULTIPLIER:
        eps = epsilon_for(float(sigma), sample_rate, steps, delta, accountant)
        if target_epsilon - tolerance <= eps <= target_epsilon:
            return float(sigma), eps, "cached"
    sigma, eps = _noise_search(target_epsilon=target_epsilon, delta=delta, sample_rate=sample_rate, steps=steps,
                               accountant=accountant, tolerance=tolerance)
    cache_put(cache_dir, CALIBRATION_NAMESPACE, key, {"noise_multiplier": sigma, "epsilon": eps})
    return sigma, eps, "searched"


def _next_sigma(lo, hi, target: float) -> float:
    # epsilon falls like 1/sigma at large noise and faster below; stepping as if 1/sigma
    # overshoots upwards (cheap calls) and, as if 1/sigma**2, undershoots downwards, where
    # calls at small sigma are slow (a wide privacy-loss distribution to discretise).
    if lo is None:  # every sigma so far meets the target: less noise
        return hi[0] * (max(min(hi[1] / target, 0.95), 0.25) ** 0.5 if hi[1] > 0 else 0.5)
    if hi is None:  # none meets it yet: more noise
        return lo[0] * (min(max(lo[1] / target, 1.5), 10.0) if np.isfinite(lo[1]) else 10.0)
    (s_lo, e_lo), (s_hi, e_hi) = lo, hi
    if not np.isfinite(e_lo) or e_hi <= 0:
        return float(np.sqrt(s_lo * s_hi))
    t = (np.log(e_lo) - np.log(target)) / (np.log(e_lo) - np.log(e_hi))
    # Stay strictly inside the bracket so it shrinks even where the secant overshoots.
    return float(np.exp(np.log(s_lo) + np.clip(t, 0.1, 0.9) * (np.log(s_hi) - np.log(s_lo))))


# Modes that train on a summed loss (see _make_private); ghost clipping keeps Opacus's mean.
SUMMED_LOSS_MODES = ("hooks", "functorch", "ew", BOOKKEEPING_MODE)


def _make_private(engine, model, optimizer, loader, *, noise_multiplier, max_grad_norm, mode):
    """Wrap model/optimizer/loader; returns (gsm, optimizer, criterion, loader) for every mode.

    For "bk" there is no Opacus wrapper: gsm is the model itself and the optimizer a
    BookkeepingDPSGD, whose train_step does the whole step (_dp_step).

    DP-SGD's step is (sum of clipped per-row gradients + noise) / expected batch size, and
    Opacus gets there two ways: with a mean loss it multiplies every per-row gradient back
    by the batch size, then divides the sum again; with a summed loss the per-row gradients
    are exact as they come. We take the summed loss and keep the optimiser's division
    ("mean"), which is the same update minus a rescaling of every per-row gradient (~15% of
    the "ew" step here; tests/training/test_dp.py checks the two paths give the same model).

    `loader` is already the Poisson loader (`_poisson_loader`), so Opacus keeps it as it is
    (poisson_sampling=False) and books 1/len(loader), our q, to its accountant. The divisor
    is qN itself: Opacus truncates it to int(N/k), 3 instead of 4 for N = 196 at k = 49.
    """
    if mode == BOOKKEEPING_MODE:
        return _make_bookkeeping(engine, model, optimizer, loader, noise_multiplier=noise_multiplier,
                                 max_grad_norm=max_grad_norm)
    summed = mode in SUMMED_LOSS_MODES
    private = engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        criterion=nn.CrossEntropyLoss(reduction="sum" if summed else "mean"),
        noise_multiplier=float(noise_multiplier),
        max_grad_norm=float(max_grad_norm),
        grad_sample_mode=mode,
        poisson_sampling=False,
        loss_reduction="sum" if summed else "mean",
    )
    expected_batch_size = len(loader.dataset) * loader.batch_sampler.sample_rate
    if mode == "ghost":  # ghost clipping's two backward passes hide in a wrapped criterion
        private[1].expected_batch_size = expected_batch_size
        return private
    gsm, dp_optimizer, dp_loader = private
    dp_optimizer.expected_batch_size = expected_batch_size
    dp_optimizer.loss_reduction = "mean"  # divide the noisy sum by the expected batch size
    return gsm, dp_optimizer, nn.CrossEntropyLoss(reduction="sum" if summed else "mean"), dp_loader


def _make_bookkeeping(engine, model, optimizer, loader, *, noise_multiplier, max_grad_norm):
    """The "bk" mode's (model, stepper, criterion, loader): no Opacus wrapper, the same step and booking.

    The stepper books each step to the engine's accountant at our q, as Opacus's optimizer hook
    does, and draws its noise from torch's global generator (Opacus with secure_mode off).
    """
    sample_rate = loader.batch_sampler.sample_rate
    stepper = BookkeepingDPSGD(model, optimizer, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
                               expected_batch_size=len(loader.dataset) * sample_rate, sample_rate=sample_rate,
                               accountant=engine.accountant)
    return model, stepper, nn.CrossEntropyLoss(reduction="sum"), loader


def _dp_step(gsm, optimizer, criterion, xb, yb, mode):
    """One DP-SGD step on a batch; returns the batch's loss as the criterion reduces it (None if empty)."""
    if mode == BOOKKEEPING_MODE:  # forward, backward, clipping and noise in one call; empty batches too
        loss = optimizer.train_step(xb, yb)
        return loss if len(yb) else None
    if len(yb) == 0 and mode != "ghost":
        _noise_only_step(optimizer)
        return None
    loss = criterion(gsm(xb), yb)
    loss.backward()
    optimizer.step()
    return loss if len(yb) else None


def _noise_only_step(optimizer) -> None:
    """An empty Poisson batch still takes a step: zero clipped gradients plus the noise.

    "ew" and "functorch" cannot run a forward pass on zero rows, so hand the optimizer empty
    per-sample gradients instead; skipping the step would break the accounting, which
    assumes noise is added at every one of the `steps`.
    """
    for p in optimizer.params:
        p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype, device=p.device)
    optimizer.step()


def _train_epoch(gsm, optimizer, criterion, loader, mode) -> tuple[float, int]:
    """One pass of Poisson batches; returns (the mean training loss per row, the steps taken).

    Per-step overhead kept out (cProfile on the digits CNN, BENCHMARKS.md): the batches come
    straight from the Poisson sampler and one indexing of the row tensors (the DataLoader's
    iterator and fetcher only repeat that), and the loss is summed on the device, read once per
    epoch instead of one float() (a device sync on a GPU) per step. The batches are the same as
    through the DataLoader; the noise differs from before this change only because the
    DataLoader's iterator drew one number from torch's global generator per epoch (its base
    seed, unused with a batch sampler and no workers), shifting the noise stream.
    """
    dataset = loader.dataset
    total, count, steps = torch.zeros((), device=dataset.X.device), 0, 0
    for indices in loader.batch_sampler:
        xb, yb = dataset.__getitems__(indices)
        optimizer.zero_grad(set_to_none=True)
        steps += 1
        loss = _dp_step(gsm, optimizer, criterion, xb, yb, mode)
        if loss is not None:
            total += loss.detach() * (1 if mode in SUMMED_LOSS_MODES else len(yb))
            count += len(yb)
    return float(total) / max(count, 1), steps


def _mode_key(spec: dict, X: np.ndarray, batch_size: int, device: torch.device) -> dict:
    """What the fastest mode depends on: architecture and shape, batch size class, device, versions."""
    return {"architecture": spec["architecture"], "params": spec.get("params", {}), "input_shape": list(X.shape[1:]),
            "batch_class": 1 << max(int(batch_size) - 1, 0).bit_length(),  # the power of two at or above
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "threads": torch.get_num_threads(), "torch": torch.__version__, "opacus": opacus.__version__}


CHANNELS_LAST = "+channels_last"
# Opacus 1.6's hooks and ghost clipping read conv activations as if NCHW: with channels_last
# their clipped step is off by ~8% (one bias by 100%), measured against expanded weights;
# expanded weights, functorch and book-keeping take the same step in both layouts
# (tests/training/test_dp.py, tests/training/test_bookkeeping.py).
CHANNELS_LAST_MODES = ("functorch", "ew", BOOKKEEPING_MODE)


def _split_candidate(candidate: str) -> tuple[str, bool]:
    """"ew+channels_last" -> ("ew", True): a grad-sample mode and whether images are NHWC in memory."""
    return candidate.removesuffix(CHANNELS_LAST), candidate.endswith(CHANNELS_LAST)


def mode_candidates(X: np.ndarray) -> tuple[str, ...]:
    """Every mode, and for image input the modes of CHANNELS_LAST_MODES with channels_last too.

    channels_last (NHWC) is the same convolution in another memory layout: on this CPU it
    halves max-pooling's time (oneDNN's NHWC kernels), on GPUs it feeds tensor cores; whether
    it pays with each per-sample-gradient mode is measured, not assumed. Results differ from
    NCHW only by float rounding (tests/training/test_dp.py checks one step of every mode).
    """
    if X.ndim != 4:
        return GRAD_SAMPLE_MODES
    return GRAD_SAMPLE_MODES + tuple(m + CHANNELS_LAST for m in CHANNELS_LAST_MODES)


def _private_model(spec, *, device, channels_last: bool) -> nn.Module:
    model = build_model(spec).to(device).train()
    return model.to(memory_format=torch.channels_last) if channels_last else model


def _adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """The recipe's Adam, in torch's fused kernel where the device has one.

    The same update as the default per-parameter loop up to float rounding, in one kernel for
    all parameters: on the digits CNN on a CPU 0.05 ms a step instead of 0.16 ms, about a tenth
    of what the book-keeping change saved end to end (BENCHMARKS.md).
    """
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(model.parameters(), lr=lr)


def _trial_step(spec, X, y, *, batch_size, max_grad_norm, lr, device):
    """make_step(candidate) for grad_modes: one DP-SGD step of the real model at the real batch size."""
    rows = min(len(y), max(int(batch_size), 1))
    def make_step(candidate):
        mode, channels_last = _split_candidate(candidate)
        model = _private_model(spec, device=device, channels_last=channels_last)
        loader = _poisson_loader(X[:rows], y[:rows], sample_rate=1.0, steps=1, seed=0, device=device,
                                 channels_last=channels_last)
        gsm, optimizer, criterion, _ = _make_private(
            PrivacyEngine(accountant="rdp"), model, _adam(model, lr), loader,
            noise_multiplier=1.0, max_grad_norm=max_grad_norm, mode=mode)
        xb, yb = loader.dataset.__getitems__(list(range(rows)))
        def step():
            optimizer.zero_grad(set_to_none=True)
            _dp_step(gsm, optimizer, criterion, xb, yb, mode)
        return step
    return make_step


def choose_grad_sample_mode(spec: dict, X: np.ndarray, y: np.ndarray, *, batch_size: int, max_grad_norm: float,
                            lr: float, device: torch.device, cache_dir) -> tuple[str, bool, str]:
    """(mode, channels_last, how it was chosen: "measured", "cached" or "default"); see training/grad_modes.py.

    Without a cache directory nothing is measured: the measurement would be repeated on every
    run, and two runs with the same seed could then pick different modes (the modes round
    differently, so their models differ in the last bits). With one, the choice is made once per
    key and every later run, including a re-run for the same seed, trains with the same mode.
    """
    if cache_dir is None:
        return DEFAULT_GRAD_SAMPLE_MODE, False, "default"
    make_step = _trial_step(spec, X, y, batch_size=batch_size, max_grad_norm=max_grad_norm, lr=lr, device=device)
    candidate, source, _ = grad_modes.fastest_mode(mode_candidates(X), make_step, cache_dir=cache_dir,
                                                   key=_mode_key(spec, X, batch_size, device),
                                                   clock=grad_modes.clock_for(device))
    return (*_split_candidate(candidate), source)


def dp_retrain(
    spec: dict,
    train_frame: pd.DataFrame,
    *,
    label_column: str,
    target_epsilon: float,
    delta: float | None = None,
    max_grad_norm: float = 1.0,
    epochs: int | None = None,
    batch_size: int | None = None,
    accountant: str = "prv",
    seed: int = 0,
    device=None,
    grad_sample_mode: str | None = None,
    progress: Callable[[int], None] | None = None,
    cache_dir=None,
) -> tuple[nn.Module, dict]:
    """Retrain the spec's architecture with DP-SGD to (target_epsilon, delta); returns (module, record).

    The module is a plain allowlisted architecture (state_dict keys as build_model(spec)), so
    it serialises with torch_artifact and loads with load_model. `cache_dir` (a directory, or
    None for no cache) keeps the noise calibration (calibrate_noise) and, when
    grad_sample_mode is None, the measured fastest mode (choose_grad_sample_mode) for later runs;
    an explicit grad_sample_mode always wins.
    """
    settings = training_settings(spec)
    epochs = settings["epochs"] if epochs is None else epochs
    batch_size = settings["batch_size"] if batch_size is None else batch_size
    delta = default_delta(len(train_frame)) if delta is None and len(train_frame) else delta
    mode = grad_sample_mode or DEFAULT_GRAD_SAMPLE_MODE  # validated now; the measured choice comes later
    _validate(spec, train_frame, label_column=label_column, target_epsilon=target_epsilon, delta=delta,
              max_grad_norm=max_grad_norm, epochs=epochs, batch_size=batch_size, accountant=accountant, mode=mode)
    device = _as_device(device)

    X = encode(train_frame, spec["input"])
    y = labels_to_index(train_frame[label_column], spec["classes"])
    sample_rate, steps_per_epoch = poisson_schedule(len(y), batch_size)
    planned_steps = epochs * steps_per_epoch
    try:
        sigma, planned_epsilon, calibration = calibrate_noise(
            target_epsilon=target_epsilon, delta=delta, sample_rate=sample_rate, steps=planned_steps,
            accountant=accountant, cache_dir=cache_dir)
    except ValueError as exc:
        message = EPSILON_UNREACHABLE.format(epsilon=target_epsilon, epochs=epochs, batch_size=batch_size)
        raise ValueError(message) from exc
    channels_last, mode_source = False, "requested"  # an explicit mode trains as before this cache existed
    if grad_sample_mode is None:
        mode, channels_last, mode_source = choose_grad_sample_mode(
            spec, X, y, batch_size=batch_size, max_grad_norm=max_grad_norm, lr=settings["lr"], device=device,
            cache_dir=cache_dir)

    set_seed(seed)  # initial weights, Poisson batches and noise all follow from the seed (after any measurement)
    model = _private_model(spec, device=device, channels_last=channels_last)
    loader = _poisson_loader(X, y, sample_rate=sample_rate, steps=steps_per_epoch, seed=seed, device=device,
                             channels_last=channels_last)
    optimizer = _adam(model, settings["lr"])
    engine = PrivacyEngine(accountant=accountant)
    gsm, dp_optimizer, criterion, dp_loader = _make_private(
        engine, model, optimizer, loader, noise_multiplier=sigma, max_grad_norm=max_grad_norm, mode=mode)
    losses, steps_taken = [], 0
    for epoch in range(epochs):
        loss, taken = _train_epoch(gsm, dp_optimizer, criterion, dp_loader, mode)
        losses.append(loss)
        steps_taken += taken
        if progress:
            progress(int(100 * (epoch + 1) / epochs))

    epsilon_spent = booked_epsilon(engine.accountant.history, noise_multiplier=sigma, sample_rate=sample_rate,
                                   steps=steps_taken, planned_steps=planned_steps, delta=delta,
                                   target_epsilon=target_epsilon, accountant=accountant,
                                   planned_epsilon=planned_epsilon)
    record = {
        "epsilon_target": float(target_epsilon),
        "epsilon_spent": epsilon_spent,
        "delta": float(delta),
        "noise_multiplier": float(dp_optimizer.noise_multiplier),
        "sample_rate": float(sample_rate),
        "steps": int(steps_taken),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "max_grad_norm": float(max_grad_norm),
        "accountant": accountant,
        "grad_sample_mode": mode,
        "grad_sample_mode_source": mode_source,
        "memory_format": "channels_last" if channels_last else "contiguous",
        "noise_calibration": calibration,
        "opacus_version": opacus.__version__,
        "secure_rng": False,
        "train_rows": int(len(train_frame)),
        "lr": float(settings["lr"]),
        "seed": int(seed),
        "loss_per_epoch": [float(v) for v in losses],
    }
    return _unwrap(gsm, spec), record


def booked_epsilon(history, *, noise_multiplier: float, sample_rate: float, steps: int, planned_steps: int,
                   delta: float, target_epsilon: float, accountant: str, planned_epsilon: float | None = None) -> float:
    """The epsilon of what ran, once the run is shown to add up; else ValueError(RECORD_MISMATCH).

    It adds up when the steps taken are the steps planned, Opacus's accountant booked exactly
    those steps at our (sigma, q), and the epsilon of that is within the target.
    `planned_epsilon` is the accountant's epsilon for (sigma, q, planned_steps, delta), which
    calibrate_noise has just computed: when the run took exactly those steps it is the epsilon
    of what ran (the same pure function of the same numbers), so it is not computed twice.
    """
    problems = []
    if steps != planned_steps:
        problems.append(f"{steps} steps ran, {planned_steps} were planned")
    booked = [(float(s), float(q), int(n)) for s, q, n in history]
    if booked != [(float(noise_multiplier), float(sample_rate), int(steps))]:
        problems.append(f"the accountant booked {booked}, not {steps} steps at sigma {noise_multiplier!r} "
                        f"and sample rate {sample_rate!r}")
    if planned_epsilon is not None and steps == planned_steps:
        epsilon = float(planned_epsilon)
    else:
        epsilon = epsilon_for(noise_multiplier, sample_rate, steps, delta, accountant)
    if epsilon > target_epsilon:
        problems.append(f"epsilon {epsilon:.4f} is above the target {target_epsilon:g}")
    if problems:
        raise ValueError(RECORD_MISMATCH.format(what="; ".join(problems)))
    return float(epsilon)


def _unwrap(gsm, spec: dict) -> nn.Module:
    """A fresh allowlisted module holding the trained weights: no Opacus hooks or attributes."""
    trained = gsm._module if hasattr(gsm, "_module") else gsm
    plain = build_model(spec)
    plain.load_state_dict({k: v.detach().cpu() for k, v in trained.state_dict().items()}, strict=True)
    return plain.eval()
