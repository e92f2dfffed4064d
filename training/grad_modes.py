"""Pick the fastest per-sample-gradient mode by measuring a few steps of each; no Django.

Which of Opacus's modes is fastest depends on the architecture, the input shape, the batch
size and the device (on the digits CNN on a CPU, expanded weights beat hooks by ~25% and
functorch is twice as slow; on a GPU the order is not known in advance), so it is measured
rather than guessed: every candidate runs `rounds` interleaved rounds of a warm-up step and
`steps` timed steps on the real model and batch size, and the smallest median step wins. A
mode that raises for this model is left out. The answer is cached (training/cache.py) under
the key the caller builds, so one measurement serves every later retraining of that shape.

The measurement never touches the training's random state: the caller seeds after it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from training.cache import cache_get, cache_put

NAMESPACE = "grad-sample-mode"
NO_MODE_TRAINS = "No per-sample-gradient mode among {modes} trains this model: {errors}."


def clock_for(device: torch.device) -> Callable[[], float]:
    """Wall time after a synchronize on CUDA; this process's CPU time on a shared CPU."""
    if device.type == "cuda":
        def cuda_clock() -> float:
            torch.cuda.synchronize()
            return time.perf_counter()
        return cuda_clock
    return time.process_time


def measure_modes(candidates, make_step: Callable[[str], Callable[[], None]], *, clock: Callable[[], float],
                  rounds: int = 3, steps: int = 2) -> dict[str, float]:
    """Median seconds per step of every candidate that runs; the ones that raise are absent."""
    steppers, errors, times = {}, {}, {}
    for mode in candidates:
        try:
            steppers[mode] = make_step(mode)
            steppers[mode]()  # warm-up: first-call allocations and lazy initialisation
        except Exception as exc:  # a mode Opacus cannot run on this model is not a candidate
            errors[mode] = f"{type(exc).__name__}: {exc}"
            steppers.pop(mode, None)
    if not steppers:
        raise ValueError(NO_MODE_TRAINS.format(modes=list(candidates), errors=errors))
    for _ in range(rounds):  # interleaved, so a burst of load from elsewhere hits every mode alike
        for mode, step in steppers.items():
            start = clock()
            for _ in range(steps):
                step()
            times.setdefault(mode, []).append((clock() - start) / steps)
    return {mode: statistics.median(samples) for mode, samples in times.items()}


def fastest_mode(candidates, make_step, *, key: dict, cache_dir, clock, rounds: int = 3,
                 steps: int = 1) -> tuple[str, str, dict[str, float]]:
    """(mode, "cached" or "measured", seconds per step of each candidate measured now)."""
    cached = cache_get(cache_dir, NAMESPACE, key)
    if cached and cached.get("mode") in candidates:
        return cached["mode"], "cached", {}
    timings = measure_modes(candidates, make_step, clock=clock, rounds=rounds, steps=steps)
    mode = min(timings, key=timings.get)
    cache_put(cache_dir, NAMESPACE, key, {"mode": mode, "seconds_per_step": timings})
    return mode, "measured", timings
