"""Benchmark: DP-SGD (Opacus) training time against non-private training of the same model.

Not collected by pytest (the name does not start with test_). From the repository root:

    .venv/bin/python tests/benchmarks/bench_dp.py                  # CPU, digits CNN, 15 epochs
    .venv/bin/python tests/benchmarks/bench_dp.py --device cuda    # on a GPU machine

Every variant trains the digits SmallCNN recipe (digits_cnn_spec: Adam, lr 1e-3, batch 64,
15 epochs, seed 0) on the same 80% split. "non-private" is train_from_spec; "Opacus
defaults" is the textbook Opacus loop (TensorDataset loader, make_private_with_epsilon,
grad_sample_mode "hooks"); the rest are training.dp.dp_retrain with each grad_sample_mode.
Variants run interleaved, --repeats rounds, best round kept, so a burst of load from other
processes hits all of them alike. On CPU the clock is this process's CPU time (wall time
on a 2-core machine shared with other jobs mostly measures the other jobs); on CUDA it
is wall time after torch.cuda.synchronize(). "calibration" is the noise-multiplier search
(training.dp.noise_multiplier_for), a fixed cost included in each DP total.
Prints a markdown section ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from opacus import PrivacyEngine  # noqa: E402
from torch import nn  # noqa: E402

from training.architectures import build_model  # noqa: E402
from training.dp import GRAD_SAMPLE_MODES, default_delta, dp_retrain, noise_multiplier_for  # noqa: E402
from training.encoding import encode  # noqa: E402
from training.recipes import digits_cnn_spec, digits_frame, labels_to_index, train_from_spec  # noqa: E402
from training.train import make_loader, predict_proba, resolve_device, set_seed  # noqa: E402


def opacus_defaults(spec, frame, *, epsilon, device):
    """The loop from Opacus's tutorials, for reference: what dp_retrain improves on."""
    set_seed(0)
    model = build_model(spec).to(device).train()
    X, y = encode(frame, spec["input"]), labels_to_index(frame["label"], spec["classes"])
    loader = make_loader(X, y, batch_size=spec["training"]["batch_size"], seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["training"]["lr"])
    engine = PrivacyEngine(accountant="prv")
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=loader, target_epsilon=epsilon,
        target_delta=default_delta(len(frame)), epochs=spec["training"]["epochs"], max_grad_norm=1.0)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(spec["training"]["epochs"]):
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    return model._module.eval(), {"epsilon_spent": engine.get_epsilon(default_delta(len(frame)))}


def _clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


def _accuracy(module, spec, frame) -> float:
    proba = predict_proba(module.cpu(), encode(frame, spec["input"]), device=torch.device("cpu"))
    return float((proba.argmax(axis=1) == labels_to_index(frame["label"], spec["classes"])).mean())


def variants(spec, train, *, epsilon, device, modes):
    dp = lambda **kw: lambda: dp_retrain(spec, train, label_column="label", target_epsilon=epsilon,  # noqa: E731
                                         device=device, **kw)
    out = {"non-private": lambda: (train_from_spec(spec, train, label_column="label", device=device), None),
           "Opacus defaults (hooks, make_private_with_epsilon)": lambda: opacus_defaults(
               spec, train, epsilon=epsilon, device=device)}
    for mode in modes:
        out[f"dp_retrain `{mode}`"] = dp(grad_sample_mode=mode)
    out[f"dp_retrain `{modes[0]}`, accountant rdp"] = dp(grad_sample_mode=modes[0], accountant="rdp")
    out[f"dp_retrain `{modes[0]}`, batch 256 (other recipe)"] = dp(grad_sample_mode=modes[0], batch_size=256)
    return out


def run(device_name: str, epochs: int, repeats: int, epsilon: float, modes: list[str], threads: int | None) -> str:
    warnings.filterwarnings("ignore")
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(device_name)
    frame = digits_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.8 * len(frame))
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    spec = digits_cnn_spec(training={"epochs": epochs})
    batch = spec["training"]["batch_size"]
    steps = epochs * int(np.ceil(len(train) / batch))
    calibrate = lambda: noise_multiplier_for(target_epsilon=epsilon, delta=default_delta(len(train)),  # noqa: E731
                                             sample_rate=1 / int(np.ceil(len(train) / batch)), steps=steps)

    todo = {"calibration (prv)": lambda: (calibrate(), None), **variants(spec, train, epsilon=epsilon, device=device,
                                                                       modes=modes)}
    if device.type == "cuda":  # warm up kernels and the allocator before timing anything
        for fn in list(todo.values())[1:]:
            fn()
    best, results = {}, {}
    for _ in range(repeats):
        for name, fn in todo.items():
            start = _clock(device)
            try:
                results[name] = fn()
            except Exception as exc:  # a mode that cannot train this architecture is a result
                results[name] = exc
                continue
            best[name] = min(best.get(name, float("inf")), _clock(device) - start)
    return _markdown(best, results, spec, train, test, device=device, epochs=epochs, epsilon=epsilon,
                     repeats=repeats, batch=batch)


def _markdown(best, results, spec, train, test, *, device, epochs, epsilon, repeats, batch) -> str:
    base = best["non-private"]
    name = torch.cuda.get_device_name() if device.type == "cuda" else (platform.processor() or platform.machine())
    lines = [
        f"## DP-SGD overhead (digits SmallCNN, {len(train)} rows, {epochs} epochs, batch {batch}, epsilon {epsilon})",
        "",
        f"Device: {device.type} ({name}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{'wall' if device.type == 'cuda' else 'process CPU'} time, best of {repeats} interleaved rounds. "
        f"Noise calibration (PRV): {best['calibration (prv)']:.2f} s, included in the DP totals.",
        "",
        "| variant | seconds | x non-private | x non-private without calibration | test accuracy | epsilon spent |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    calibration = best["calibration (prv)"]
    for key, result in results.items():
        if key.startswith("calibration"):
            continue
        if isinstance(result, Exception):
            reason = f"{type(result).__name__}: {str(result).splitlines()[0][:80]}"
            lines.append(f"| {key} | failed: {reason} | - | - | - | - |")
            continue
        model, record = result
        eps = "-" if record is None else f"{record['epsilon_spent']:.3f}"
        # Only the PRV variants of dp_retrain run this exact calibration; others show "-".
        loop = f"{(best[key] - calibration) / base:.2f}" if key.startswith("dp_retrain") and "rdp" not in key \
            and "batch" not in key else "-"
        lines.append(f"| {key} | {best[key]:.2f} | {best[key] / base:.2f} | {loop} | "
                     f"{_accuracy(model, spec, test):.3f} | {eps} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--modes", nargs="+", default=["ew", "hooks", "ghost", "functorch"],
                        choices=list(GRAD_SAMPLE_MODES), help="the first one also runs the rdp and batch-256 variants")
    args = parser.parse_args()
    print(run(args.device, args.epochs, args.repeats, args.epsilon, args.modes, args.threads))


if __name__ == "__main__":
    main()
