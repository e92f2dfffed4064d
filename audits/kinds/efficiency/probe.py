"""Efficiency probe: how long a model takes to answer, how much it holds in memory, what energy
and money a million answers cost, and what dynamic int8 quantization would save.

Pure functions, no Django. The clock, the memory reader and the energy reader are arguments,
so tests drive them with fakes and check the arithmetic against hand-computed values.

Latency: every batch size gets at least `warmup` untimed calls, and more until
`warmup_seconds` have passed, then timed calls (at least `min_repeats`, at most `repeats`,
stopping early once the timed calls add up to `max_seconds`), taken in `turns` rounds over the
batch sizes (`measure_batches`). Percentiles are numpy's default ("linear", Hyndman & Fan
1996 definition 7: the p-th percentile of n sorted values sits at rank 1 + p/100 * (n - 1),
interpolated).
The median's 95% interval is distribution-free, from order statistics: [x_(l), x_(n+1-l)] with
l the 2.5% quantile of Binomial(n, 1/2), whose coverage is 1 - 2 P(B <= l - 1) >= 95%
(Conover 1999, Practical Nonparametric Statistics, 3rd ed., section 3.2). It is the
"spread" an independent measurement of the same batch is compared with.

Rows per second is batch size / median batch latency; cost per million predictions is
price per hour / 3600 * 1e6 / rows per second; energy per 1,000 predictions is the joules the
reader counted over a batch size's timed calls / rows they predicted * 1000; grams CO2e per million
is that energy (per million, in kWh: J / 3.6e6) times the grid's grams per kWh.
"""

from __future__ import annotations

import copy
import glob
import io
import numbers
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import binom

from training.architectures import build_model
from training.quantization import quantize_dynamic_int8
from training.train import set_seed, train_classifier

DEFAULT_BATCH_SIZES = (1, 8, 32, 128, 512)
MAX_BATCH_SIZE = 65536
CONFIDENCE = 0.95
NOT_MEASURABLE = "not measurable on this worker"

ERR_BATCH_SIZES = f"batch_sizes must be a non-empty list of integers between 1 and {MAX_BATCH_SIZE}"
MAX_REPEATS = 10000
MAX_SECONDS = 60.0
ERR_REPEATS = (f"warmup must be an integer between 0 and {MAX_REPEATS}, min_repeats an integer >= 2 and repeats an "
               f"integer between min_repeats and {MAX_REPEATS}")
ERR_MAX_SECONDS = f"max_seconds must be a number > 0 and <= {MAX_SECONDS:g}"
MAX_WARMUP_SECONDS = 10.0
MAX_TURNS = 100
ERR_TURNS = f"turns must be an integer between 1 and {MAX_TURNS}"
ERR_WARMUP_SECONDS = f"warmup_seconds must be a number >= 0 and <= {MAX_WARMUP_SECONDS:g}"
ERR_OUTLOOK_BATCH = f"outlook_batch_size must be an integer between 1 and {MAX_BATCH_SIZE}"
MAX_EPOCHS = 1000
ERR_SWITCH = "{name} must be true or false"
ERR_EPOCHS = f"distillation_epochs must be null (the teacher's own) or an integer between 1 and {MAX_EPOCHS}"
ERR_NO_TIMES = "times must hold at least one finite duration >= 0"
ERR_ROWS_PER_S = "rows_per_s must be a number > 0"
ERR_PRICE = "price_per_hour must be a number >= 0"


# ---------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------


def check_batch_sizes(batch_sizes) -> list[int]:
    try:
        sizes = list(batch_sizes)
    except TypeError:
        raise ValueError(ERR_BATCH_SIZES) from None
    if not sizes or any(isinstance(b, bool) or not isinstance(b, numbers.Integral) or not 1 <= b <= MAX_BATCH_SIZE
                        for b in sizes):
        raise ValueError(ERR_BATCH_SIZES)
    return sorted({int(b) for b in sizes})


def median_interval(values, confidence: float = CONFIDENCE) -> list[float] | None:
    """The distribution-free interval of the median (see the module docstring); None when n is
    too small for any pair of order statistics to reach the confidence (n <= 5 at 95%)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    rank = int(binom.ppf((1 - confidence) / 2, n, 0.5)) if n else 0
    if rank < 1:
        return None
    return [float(x[rank - 1]), float(x[n - rank])]


def latency_stats(times_s, *, batch_size: int) -> dict:
    """Percentiles of batch latencies (seconds in, milliseconds out), per batch and per row."""
    t = np.asarray(times_s, dtype=float)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(ERR_NO_TIMES)
    ms = t * 1000.0
    p50, p95, p99 = (float(v) for v in np.percentile(ms, [50, 95, 99]))
    q25, q75 = (float(v) for v in np.percentile(ms, [25, 75]))
    ci = median_interval(ms)
    per_batch = {"p50": p50, "p95": p95, "p99": p99, "mean": float(ms.mean()),
                 "std": float(ms.std(ddof=1)) if t.size > 1 else 0.0, "min": float(ms.min()), "max": float(ms.max()),
                 "p25": q25, "p75": q75, "iqr": q75 - q25, "p50_ci": ci}
    per_row = {k: per_batch[k] / batch_size for k in ("p50", "p95", "p99", "mean")}
    per_row["p50_ci"] = None if ci is None else [v / batch_size for v in ci]
    rows_per_s = batch_size / (p50 / 1000.0) if p50 > 0 else None
    return {"batch_size": batch_size, "repeats": int(t.size), "per_batch_ms": per_batch, "per_row_ms": per_row,
            "rows_per_s": rows_per_s,
            # The spread in words: the median batch latency's interval relative to the median.
            "relative_spread": (ci[1] - ci[0]) / p50 if ci and p50 > 0 else None}


def cost_per_million(rows_per_s, price_per_hour) -> float | None:
    """Price of the device time a million predictions take at this throughput."""
    if rows_per_s is None:
        return None
    if isinstance(rows_per_s, bool) or not isinstance(rows_per_s, numbers.Real) or not rows_per_s > 0:
        raise ValueError(ERR_ROWS_PER_S)
    if isinstance(price_per_hour, bool) or not isinstance(price_per_hour, numbers.Real) or price_per_hour < 0:
        raise ValueError(ERR_PRICE)
    return float(price_per_hour) / 3600.0 * 1e6 / float(rows_per_s)


def energy_per_1000(joules: float | None, rows: int) -> float | None:
    if joules is None or rows <= 0:
        return None
    return float(joules) / rows * 1000.0


def co2e_per_million(joules_per_1000: float | None, grams_per_kwh: float | None) -> float | None:
    """Grams CO2e for a million predictions: (J per 1,000 * 1,000) / 3.6e6 J/kWh * g/kWh."""
    if joules_per_1000 is None or grams_per_kwh is None:
        return None
    return float(joules_per_1000) * 1000.0 / 3.6e6 * float(grams_per_kwh)


def crossover_batch_size(cpu: list[dict], gpu: list[dict]) -> int | None:
    """The smallest batch size from which the GPU's throughput stays above the CPU's, or None."""
    cpu_rate = {b["batch_size"]: b["rows_per_s"] for b in cpu}
    sizes = sorted(b["batch_size"] for b in gpu if b["batch_size"] in cpu_rate)
    faster = {b["batch_size"]: (b["rows_per_s"] or 0) > (cpu_rate[b["batch_size"]] or 0) for b in gpu
              if b["batch_size"] in cpu_rate}
    for i, size in enumerate(sizes):
        if all(faster[s] for s in sizes[i:]):
            return size
    return None


# ---------------------------------------------------------------------------
# Readers: memory and energy (injectable)
# ---------------------------------------------------------------------------


class ProcPeakRSS:
    """Peak resident memory of this process between reset() and peak(), from Linux's VmHWM,
    which writing "5" to /proc/self/clear_refs resets (proc(5), since Linux 4.0)."""

    method = "peak resident set size (Linux VmHWM, reset before each batch size)"

    def reset(self) -> None:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")

    def peak(self) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise OSError("VmHWM missing from /proc/self/status")


class LifetimePeakRSS:
    """getrusage's ru_maxrss: the process's peak since it started (cannot be reset)."""

    method = "peak resident set size since the worker process started (getrusage; cannot be reset per batch)"

    def reset(self) -> None:
        return None

    def peak(self) -> int:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # bytes on macOS, KiB on Linux


class CudaPeak:
    method = "torch.cuda.max_memory_allocated (reset before each batch size)"

    def __init__(self, device):
        self.device = device

    def reset(self) -> None:
        import torch

        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)

    def peak(self) -> int:
        import torch

        return int(torch.cuda.max_memory_allocated(self.device))


def memory_reader(device=None):
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        return CudaPeak(device)
    try:
        reader = ProcPeakRSS()
        reader.reset()
        reader.peak()
        return reader
    except OSError:
        return LifetimePeakRSS()


class RaplReader:
    """Cumulative package energy from Intel RAPL (/sys/class/powercap/intel-rapl:N/energy_uj),
    summed over packages, each corrected for its counter wrapping at max_energy_range_uj."""

    method = "Intel RAPL package energy (/sys/class/powercap): the whole CPU package, other work included"

    def __init__(self, zones: list[str]):
        self.zones = zones
        self.ranges = [int(Path(z, "max_energy_range_uj").read_text()) for z in zones]
        self.last = [self._raw(z) for z in zones]
        self.total_uj = 0

    @staticmethod
    def _raw(zone: str) -> int:
        return int(Path(zone, "energy_uj").read_text())

    def read(self) -> float:
        for i, zone in enumerate(self.zones):
            now = self._raw(zone)
            delta = now - self.last[i]
            self.total_uj += delta if delta >= 0 else delta + self.ranges[i]
            self.last[i] = now
        return self.total_uj / 1e6


class NvmlReader:
    """Total energy of one NVIDIA GPU since the driver loaded (nvmlDeviceGetTotalEnergyConsumption,
    millijoules; Volta and newer), through nvidia-ml-py."""

    method = "NVIDIA NVML total energy of the GPU (nvidia-ml-py): the whole GPU, other work included"

    def __init__(self, index: int = 0):
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.read()

    def read(self) -> float:
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0


def energy_reader(device=None, *, powercap: str = "/sys/class/powercap"):
    """(reader, None) when this worker can measure energy on `device`, else (None, the reason)."""
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        try:
            return NvmlReader(device.index or 0), None
        except ImportError:
            return None, "nvidia-ml-py (pynvml) is not installed on this worker"
        except Exception as exc:  # NVMLError_NotSupported and friends: the GPU or driver cannot say
            return None, f"NVML cannot report this GPU's energy ({exc})"
    zones = sorted(z for z in glob.glob(os.path.join(powercap, "intel-rapl:*")) if z.count(":") == 1)
    if not zones:
        return None, f"no RAPL zone under {powercap} (the CPU, its driver or the container does not expose it)"
    try:
        return RaplReader(zones), None
    except (OSError, ValueError) as exc:
        return None, f"RAPL is present but not readable by the worker ({exc.__class__.__name__}: {exc})"


# ---------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------


def _check_counts(warmup, min_repeats, repeats, max_seconds, warmup_seconds=0.0) -> None:
    ints = (warmup, min_repeats, repeats)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in ints) or not 0 <= warmup <= MAX_REPEATS \
            or min_repeats < 2 or not min_repeats <= repeats <= MAX_REPEATS:
        raise ValueError(ERR_REPEATS)
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real) or not 0 < max_seconds <= MAX_SECONDS:
        raise ValueError(ERR_MAX_SECONDS)
    if isinstance(warmup_seconds, bool) or not isinstance(warmup_seconds, numbers.Real) \
            or not 0 <= warmup_seconds <= MAX_WARMUP_SECONDS:
        raise ValueError(ERR_WARMUP_SECONDS)


def check_params(params: dict) -> None:
    """Every bound of the run's parameters, before any work or memory is spent on them."""
    check_batch_sizes(params["batch_sizes"])
    _check_counts(params["warmup"], params["min_repeats"], params["repeats"], params["max_seconds"],
                  params.get("warmup_seconds", 0.0))
    size = params.get("outlook_batch_size", 1)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not 1 <= size <= MAX_BATCH_SIZE:
        raise ValueError(ERR_OUTLOOK_BATCH)
    for name in ("outlook", "distillation", "register_student", "register_int8"):
        if not isinstance(params.get(name, False), bool):
            raise ValueError(ERR_SWITCH.format(name=name))
    epochs = params.get("distillation_epochs")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral)
                               or not 1 <= epochs <= MAX_EPOCHS):
        raise ValueError(ERR_EPOCHS)


def warm_up(call: Callable[[], object], *, warmup: int, warmup_seconds: float = 0.0,
            clock: Callable[[], float] = time.perf_counter) -> int:
    """At least `warmup` untimed calls, and more until `warmup_seconds` have passed; returns how many.

    A few calls of a tiny model take microseconds, too short for the CPU to leave a low clock
    speed or for lazily built kernels and caches to settle: the first batch sizes measured in a
    fresh worker then read up to 1.6x slower than the same calls a second later (BENCHMARKS.md)."""
    start = clock() if warmup_seconds else 0.0
    done = 0
    while done < warmup or (warmup_seconds and clock() - start < warmup_seconds):
        call()
        done += 1
    return done


def time_calls(call: Callable[[], object], *, warmup: int, min_repeats: int, repeats: int, max_seconds: float,
               clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None,
               warmup_seconds: float = 0.0) -> list[float]:
    """Durations of timed calls after the warm-up (see the module docstring for the stopping rule)."""
    warm_up(call, warmup=warmup, warmup_seconds=warmup_seconds, clock=clock)
    if sync:
        sync()
    times: list[float] = []
    while len(times) < repeats and (len(times) < min_repeats or sum(times) < max_seconds):
        start = clock()
        call()
        if sync:
            sync()
        times.append(clock() - start)
    return times


def time_interleaved(calls: dict, batch, *, warmup: int, min_repeats: int, repeats: int, max_seconds: float,
                     clock: Callable[[], float] = time.perf_counter,
                     warmup_seconds: float = 0.0) -> dict[str, list[float]]:
    """Durations of each call on `batch`, the calls taking turns (a, b, a, b, ...), so that other
    work on the machine slows them alike and their ratio stays fair."""
    warm_up(lambda: [call(batch) for call in calls.values()], warmup=warmup, warmup_seconds=warmup_seconds,
            clock=clock)
    times: dict[str, list[float]] = {name: [] for name in calls}
    done = 0
    while done < repeats and (done < min_repeats or sum(map(sum, times.values())) < max_seconds):
        for name, call in calls.items():
            start = clock()
            call(batch)
            times[name].append(clock() - start)
        done += 1
    return times


def measure_batches(predict: Callable[[object], object], batch_of: Callable[[int], object], *, batch_sizes,
                    warmup: int = 3, min_repeats: int = 10, repeats: int = 50, max_seconds: float = 1.0,
                    clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None,
                    memory=None, energy=None, progress: Callable[[int], None] | None = None,
                    warmup_seconds: float = 0.0, turns: int = 1) -> list[dict]:
    """Latency, throughput, peak memory and energy for each batch size.

    `predict(batch)` answers one batch; `batch_of(size)` builds it (outside the timed calls).
    `memory` has reset() and peak() in bytes; `energy` has read() in cumulative joules.

    `turns` (at most `min_repeats`): the batch sizes take turns, each turn timing every size in
    order with its share of the calls and of the time budget (`min_repeats` divided by `turns`
    rounded up, `repeats` rounded down, `max_seconds`); a size's figures pool its calls from all
    turns, and say how many turns they took. On a shared worker a
    neighbour slows a stretch of a second or so: in one burst per size that stretch lands on
    one size and doubles its median; in turns it is spread thin over all of them. The time-based
    warm-up runs in the first turn; later turns repeat the `warmup` calls only.
    """
    sizes = check_batch_sizes(batch_sizes)
    _check_counts(warmup, min_repeats, repeats, max_seconds, warmup_seconds)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Integral) or not 1 <= turns <= MAX_TURNS:
        raise ValueError(ERR_TURNS)
    turns = min(turns, min_repeats)  # every turn times each size at least once
    least = -(-min_repeats // turns)
    share = {"min_repeats": least, "repeats": max(least, repeats // turns), "max_seconds": max_seconds / turns}
    batches = {size: batch_of(size) for size in sizes}
    seen = {size: {"times": [], "joules": 0.0, "held": None, "peak": None} for size in sizes}
    for turn in range(turns):
        for i, size in enumerate(sizes):
            batch, acc = batches[size], seen[size]
            warm_up(lambda: predict(batch), warmup=warmup, warmup_seconds=warmup_seconds if turn == 0 else 0.0,
                    clock=clock)
            if memory is not None:
                memory.reset()
                # Right after a reset the peak is what the process holds now: the batches' own share is the difference.
                held = memory.peak()
                acc["held"] = held if acc["held"] is None else min(acc["held"], held)
            before = energy.read() if energy is not None else None
            acc["times"] += time_calls(lambda: predict(batch), warmup=0, clock=clock, sync=sync, **share)
            if energy is not None:
                acc["joules"] += energy.read() - before
            if memory is not None:
                peak = memory.peak()
                acc["peak"] = peak if acc["peak"] is None else max(acc["peak"], peak)
            if progress is not None:
                progress(int(100 * (turn * len(sizes) + i + 1) / (turns * len(sizes))))
    out = []
    for size in sizes:
        acc = seen[size]
        stats = latency_stats(acc["times"], batch_size=size)
        stats["turns"] = turns
        stats["peak_memory_bytes"] = acc["peak"]
        stats["memory_before_bytes"] = acc["held"]
        stats["peak_memory_mib"] = None if acc["peak"] is None else acc["peak"] / 2**20
        # The energy window holds the timed calls only.
        stats["energy_j_per_1000"] = energy_per_1000(acc["joules"] if energy is not None else None,
                                                     size * len(acc["times"]))
        out.append(stats)
    return out


def priced(batches: list[dict], *, price_per_hour: float | None, grams_per_kwh: float | None) -> list[dict]:
    """Each batch size's cost and CO2e per million predictions (None where not known)."""
    return [{**b, "cost_per_million": None if price_per_hour is None else cost_per_million(b["rows_per_s"],
                                                                                          price_per_hour),
             "co2e_g_per_million": co2e_per_million(b.get("energy_j_per_1000"), grams_per_kwh)} for b in batches]


def timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> tuple[float, object]:
    start = clock()
    value = fn()
    return clock() - start, value


# ---------------------------------------------------------------------------
# Models: size, predictors, the quantization outlook
# ---------------------------------------------------------------------------


def torch_parameter_count(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def sklearn_parameter_count(estimator) -> int:
    """Learned numbers a fitted scikit-learn model holds: every numeric array among its fitted
    attributes (names ending in "_"; class labels and counts such as n_iter_ aside), inside
    pipelines, column transformers and ensembles; a tree counts its split thresholds and leaf values."""
    seen: set[int] = set()

    def walk(obj) -> int:
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            return int(obj.size) if obj.dtype.kind in "fiu" else sum(walk(v) for v in obj.ravel().tolist())
        if isinstance(obj, (list, tuple)):
            return sum(walk(v) for v in obj)
        if isinstance(obj, dict):
            return sum(walk(v) for v in obj.values())
        if type(obj).__name__ == "Tree" and hasattr(obj, "threshold"):
            return int(obj.threshold.size + obj.value.size)
        if hasattr(obj, "get_params"):
            return sum(walk(value) for name, value in vars(obj).items()
                       if name == "steps" or (name.endswith("_") and not name.startswith(("_", "n_"))
                                               and name != "classes_"))
        return 0

    return walk(estimator)


def torch_predictor(module, device):
    """forward() on an encoded batch already on `device`, without autograd."""
    import torch

    module = module.to(device).eval()

    def predict(x):
        with torch.inference_mode():
            return module(x)

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None
    return predict, sync


def torch_batches(x: np.ndarray, device):
    """batch_of(size) over encoded evaluation rows, repeated in order when the size exceeds them."""
    import torch

    def batch_of(size: int):
        idx = np.resize(np.arange(len(x)), size)
        return torch.as_tensor(x[idx]).to(device)

    return batch_of


def frame_batches(frame):
    def batch_of(size: int):
        return frame.iloc[np.resize(np.arange(len(frame)), size)]

    return batch_of


def serialized_bytes(module) -> int:
    """Bytes of the module's state_dict once saved (the quantized copy packs its weights as int8)."""
    import torch

    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.tell()


def _predicted(module, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return module(torch.as_tensor(x)).argmax(dim=1).numpy()


def _deltas(after: dict, before: dict) -> dict:
    """{feature: {metric: after - before}} where both are defined, else None."""
    return {feature: {metric: (None if value is None or (before.get(feature) or {}).get(metric) is None
                               else value - before[feature][metric]) for metric, value in metrics.items()}
            for feature, metrics in after.items()}


def _compare(models: dict, x: np.ndarray, y_idx: np.ndarray, *, batch_size: int, warmup: int, min_repeats: int,
             repeats: int, max_seconds: float, clock, judge, warmup_seconds: float = 0.0) -> dict:
    """Each CPU model's median latency at `batch_size` (all timed in turns), saved size, accuracy
    and, with a judge, fairness figures on the evaluation rows."""
    import torch

    cpu = torch.device("cpu")
    batch = torch_batches(x, cpu)(batch_size)
    predictors = {name: torch_predictor(m, cpu)[0] for name, m in models.items()}
    times = time_interleaved(predictors, batch, warmup=warmup, min_repeats=min_repeats, repeats=repeats,
                             max_seconds=max_seconds, clock=clock, warmup_seconds=warmup_seconds)
    rows = {}
    for name, m in models.items():
        stats = latency_stats(times[name], batch_size=batch_size)
        pred = _predicted(m, x)
        rows[name] = {"p50_ms": stats["per_batch_ms"]["p50"], "p50_ci": stats["per_batch_ms"]["p50_ci"],
                      "rows_per_s": stats["rows_per_s"], "size_bytes": serialized_bytes(m),
                      "parameters": torch_parameter_count(m) if name != "int8_dynamic" else None,
                      "accuracy": float((pred == y_idx).mean()), "fairness": judge(pred) if judge else None}
    return rows


def _versus(base: dict, other: dict, judge) -> dict:
    return {"speedup": base["p50_ms"] / other["p50_ms"] if other["p50_ms"] > 0 else None,
            "size_saving": 1 - other["size_bytes"] / base["size_bytes"] if base["size_bytes"] else None,
            "accuracy_delta": other["accuracy"] - base["accuracy"],
            "fairness_delta": _deltas(other["fairness"], base["fairness"]) if judge else None}


def student_spec(spec: dict) -> dict | None:
    """A smaller model of the same allowlisted architecture (training/architectures.py): an MLP's
    hidden layers a quarter as wide, a CNN's channels and dense layer half as wide; None for others."""
    params = dict(spec.get("params") or {})
    if spec.get("architecture") == "mlp":
        params["hidden"] = [max(2, h // 4) for h in params["hidden"]]
    elif spec.get("architecture") == "cnn":
        params["channels"] = [max(2, c // 2) for c in params.get("channels", (16, 32))]
        params["hidden"] = max(4, int(params.get("hidden", 64)) // 2)
    else:
        return None
    return {**spec, "params": params}


def distillation_outlook(module, spec: dict, x_train: np.ndarray, x: np.ndarray, y_idx: np.ndarray, *,
                         batch_size: int, epochs: int, seed: int = 0, warmup: int = 3, min_repeats: int = 10,
                         repeats: int = 50, max_seconds: float = 1.0, clock: Callable[[], float] = time.perf_counter,
                         judge: Callable[[np.ndarray], dict] | None = None, warmup_seconds: float = 0.0,
                         on_student: Callable[[object, dict], None] | None = None) -> dict:
    """A student (`student_spec`) trained on the teacher's decisions for the training rows (hard-label
    distillation: the student learns what the teacher answers, not the true labels), then compared
    with the teacher on the evaluation rows like the quantized copy. `on_student(module, spec)`
    receives the trained student (to register it). The teacher is never changed."""
    import torch

    small = student_spec(spec)
    if small is None:
        return {"status": "not_applicable", "reason": f"no student is defined for architecture "
                                                      f"{spec.get('architecture')!r}"}
    teacher = copy.deepcopy(module).to(torch.device("cpu")).eval()
    set_seed(seed)
    student = build_model(small)
    train_classifier(student, x_train, _predicted(teacher, x_train), epochs=epochs,
                     batch_size=int((spec.get("training") or {}).get("batch_size", 64)), seed=seed)
    rows = _compare({"teacher": teacher, "student": student.eval()}, x, y_idx, batch_size=batch_size, warmup=warmup,
                    min_repeats=min_repeats, repeats=repeats, max_seconds=max_seconds, clock=clock, judge=judge,
                    warmup_seconds=warmup_seconds)
    agreement = float((_predicted(student, x) == _predicted(teacher, x)).mean())
    if on_student is not None:
        on_student(student, small)
    return {"status": "ok", "method": f"hard-label distillation into {small['architecture']} "
                                      f"{small['params']}, {epochs} epochs on the training rows, CPU",
            "batch_size": batch_size, "student_params": small["params"], "models": rows,
            "agreement_with_teacher": agreement, **_versus(rows["teacher"], rows["student"], judge)}


def quantization_outlook(module, x: np.ndarray, y_idx: np.ndarray, *, batch_size: int, warmup: int = 3,
                         min_repeats: int = 10, repeats: int = 50, max_seconds: float = 1.0,
                         clock: Callable[[], float] = time.perf_counter,
                         judge: Callable[[np.ndarray], dict] | None = None, warmup_seconds: float = 0.0) -> dict:
    """Dynamic int8 quantization of a copy's Linear layers (torch.ao.quantization.quantize_dynamic:
    weights stored as int8, activations quantized on the fly; CPU only), against the float copy on
    the CPU: median latency at `batch_size` (the two timed in turns), saved size and accuracy on
    the evaluation rows. `judge(predicted class indices)` -> {feature: {metric: value}} (the
    fairness disparities, from the caller) gives the fairness deltas; without it they are None.
    The registered model is never changed."""
    import torch

    cpu = torch.device("cpu")
    base = copy.deepcopy(module).to(cpu).eval()
    if any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in base.modules()):
        return {"status": "not_applicable", "reason": "the model is an int8 copy already"}
    if not any(isinstance(m, torch.nn.Linear) for m in base.modules()):
        return {"status": "not_applicable", "reason": "the model has no Linear layer to quantize"}
    quant = quantize_dynamic_int8(base)
    rows = _compare({"float32": base, "int8_dynamic": quant}, x, y_idx, batch_size=batch_size, warmup=warmup,
                    min_repeats=min_repeats, repeats=repeats, max_seconds=max_seconds, clock=clock, judge=judge,
                    warmup_seconds=warmup_seconds)
    return {"status": "ok", "method": "torch.ao.quantization.quantize_dynamic (Linear, qint8), CPU",
            "batch_size": batch_size, "models": rows, **_versus(rows["float32"], rows["int8_dynamic"], judge)}
