"""Benchmark: DP-SGD (Opacus) training time against non-private training of the same model.

Not collected by pytest (the name does not start with test_). From the repository root:

    .venv/bin/python tests/benchmarks/bench_dp.py                  # CPU, digits CNN, 15 epochs
    .venv/bin/python tests/benchmarks/bench_dp.py --device cuda    # on a GPU machine

Every variant trains the digits SmallCNN recipe (digits_cnn_spec: Adam, lr 1e-3, batch 64,
15 epochs, seed 0) on the same 80% split, end to end (noise calibration, mode choice and the
final accounting included). "non-private" is train_from_spec; "Opacus defaults" is the
textbook Opacus loop (TensorDataset loader, make_private_with_epsilon, grad_sample_mode
"hooks"); "old dp_retrain" is training/dp.py as it is at --old-rev (read with `git show`,
skipped where there is no git, e.g. on a device machine); the rest are today's dp_retrain:
"cold cache" gets a new empty cache directory every time (calibration searched, modes
measured), "warm cache" one filled by an earlier run (what a repeated or scheduled
retraining sees), and one row per explicit grad_sample_mode with a warm calibration.
Variants run interleaved, --repeats rounds, so a burst of load from other processes hits all
of them alike; the table gives the best round and the spread (best..worst) of each ratio to
the non-private run of the same round. On CPU the clock is this process's CPU time (wall time
on a 2-core machine shared with other jobs mostly measures the other jobs); on CUDA it is wall
time after torch.cuda.synchronize(). Prints a markdown section ready for BENCHMARKS.md, or
JSON with --json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from opacus import PrivacyEngine  # noqa: E402
from torch import nn  # noqa: E402

from training.architectures import build_model  # noqa: E402
from training.dp import GRAD_SAMPLE_MODES, default_delta, dp_retrain  # noqa: E402
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


def old_dp_module(rev: str):
    """training/dp.py as it was at `rev`, imported under another name; None without git or that rev."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=root, check=True, capture_output=True,
                                text=True).stdout.strip()
        source = subprocess.run(["git", "show", f"{commit}:training/dp.py"], cwd=root, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-dp-old-"))
    (folder / "dp_old.py").write_text(source)
    spec = importlib.util.spec_from_file_location("dp_old", folder / "dp_old.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.COMMIT = commit
    return module


def _per_parameter_adam(fn):
    """fn with dp_retrain's Adam in torch's default per-parameter loop instead of the fused kernel."""
    import training.dp as dp_module

    def run():
        fused = dp_module._adam
        dp_module._adam = lambda model, lr: torch.optim.Adam(model.parameters(), lr=lr)
        try:
            return fn()
        finally:
            dp_module._adam = fused
    return run


def variants(spec, train, *, epsilon, device, modes, old, warm_dir, old_warm_dir):
    def dp(fn=dp_retrain, **kw):
        return lambda: fn(spec, train, label_column="label", target_epsilon=epsilon, device=device, **kw)

    out = {"non-private": lambda: (train_from_spec(spec, train, label_column="label", device=device), None),
           "Opacus defaults (hooks, make_private_with_epsilon)": lambda: opacus_defaults(
               spec, train, epsilon=epsilon, device=device)}
    if old is not None:
        out["old dp_retrain (`ew`, calibration searched every run)"] = dp(old.dp_retrain, grad_sample_mode="ew")
        out["**old dp_retrain, warm cache** (its measured mode)"] = dp(old.dp_retrain, cache_dir=old_warm_dir)
        out["old dp_retrain, warm cache, accountant rdp"] = dp(old.dp_retrain, cache_dir=old_warm_dir, accountant="rdp")
    out["**new dp_retrain, cold cache** (search + mode measurement)"] = lambda: dp(
        cache_dir=tempfile.mkdtemp(prefix="bench-dp-cold-"))()
    out["**new dp_retrain, warm cache**"] = dp(cache_dir=warm_dir)
    out["new dp_retrain, warm cache, per-parameter Adam (not fused)"] = _per_parameter_adam(dp(cache_dir=warm_dir))
    out["new dp_retrain, no cache (default `bk`, search every run)"] = dp()
    for mode in modes:
        out[f"new dp_retrain `{mode}` (warm calibration)"] = dp(grad_sample_mode=mode, cache_dir=warm_dir)
    out["new dp_retrain, warm cache, accountant rdp"] = dp(cache_dir=warm_dir, accountant="rdp")
    return out


def run(device_name: str, epochs: int, repeats: int, epsilon: float, modes: list[str], threads: int | None,
        old_rev: str, only: list[str] | None = None) -> dict:
    warnings.filterwarnings("ignore")
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(device_name)
    frame = digits_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.8 * len(frame))
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    spec = digits_cnn_spec(training={"epochs": epochs})
    warm_dir = tempfile.mkdtemp(prefix="bench-dp-warm-")
    old_warm_dir = tempfile.mkdtemp(prefix="bench-dp-old-warm-")  # the old code measures other candidates
    old = old_dp_module(old_rev)
    todo = variants(spec, train, epsilon=epsilon, device=device, modes=modes, old=old, warm_dir=warm_dir,
                    old_warm_dir=old_warm_dir)
    if only:
        todo = {k: v for k, v in todo.items() if k == "non-private" or any(word in k for word in only)}
    # Fill the warm cache (both accountants) and, on CUDA, warm up kernels and the allocator.
    for name, fn in todo.items():
        if "warm" in name or device.type == "cuda":
            fn()
    rounds, results, chosen = [], {}, None
    for _ in range(repeats):
        times = {}
        for name, fn in todo.items():
            start = _clock(device)
            try:
                results[name] = fn()
            except Exception as exc:  # a mode that cannot train this architecture is a result
                results[name] = exc
                continue
            times[name] = _clock(device) - start
        rounds.append(times)
    chosen = {name: f"{record['grad_sample_mode']}, {record['memory_format']}" for name, (_, record) in
              ((n, r) for n, r in results.items() if "warm cache**" in n and not isinstance(r, Exception))}
    rows = []
    for name, result in results.items():
        if isinstance(result, Exception):
            rows.append({"variant": name, "error": f"{type(result).__name__}: {str(result).splitlines()[0][:80]}"})
            continue
        ratios = [r[name] / r["non-private"] for r in rounds if name in r]
        model, record = result
        rows.append({"variant": name, "seconds": min(r[name] for r in rounds if name in r),
                     "ratio_best": min(ratios), "ratio_worst": max(ratios),
                     "test_accuracy": _accuracy(model, spec, test),
                     "epsilon_spent": None if record is None else record["epsilon_spent"],
                     "grad_sample_mode": None if record is None else record.get("grad_sample_mode")})
    name = torch.cuda.get_device_name() if device.type == "cuda" else (platform.processor() or platform.machine())
    return {"benchmark": "dp", "device": device.type, "device_name": name, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "epochs": epochs, "epsilon": epsilon, "rows_train": len(train),
            "batch_size": spec["training"]["batch_size"], "repeats": repeats, "old_rev": old.COMMIT if old else None,
            "mode_chosen": chosen, "load_average": list(os.getloadavg()), "rows": rows, "rounds": rounds}


def markdown(result: dict) -> str:
    lines = [
        f"## DP-SGD overhead (digits SmallCNN, {result['rows_train']} rows, {result['epochs']} epochs, batch "
        f"{result['batch_size']}, epsilon {result['epsilon']})",
        "",
        f"Device: {result['device']} ({result['device_name']}), torch {result['torch']}, {result['threads']} threads, "
        f"{'wall' if result['device'] == 'cuda' else 'process CPU'} time, {result['repeats']} interleaved rounds, "
        f"load average {', '.join(f'{v:.2f}' for v in result['load_average'])}. Mode chosen by measurement: "
        + "; ".join(f"{name.strip('*')}: `{mode}`" for name, mode in result["mode_chosen"].items()) + ".",
        "",
        "| variant | s (best) | x non-private, best round | worst round | test accuracy | epsilon spent |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['variant']} | failed: {row['error']} | - | - | - | - |")
            continue
        eps = "-" if row["epsilon_spent"] is None else f"{row['epsilon_spent']:.3f}"
        lines.append(f"| {row['variant']} | {row['seconds']:.2f} | {row['ratio_best']:.2f} | {row['ratio_worst']:.2f} | "
                     f"{row['test_accuracy']:.3f} | {eps} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--modes", nargs="*", default=["bk", "ew", "hooks", "ghost", "functorch"],
                        choices=list(GRAD_SAMPLE_MODES), help="explicit grad_sample_mode rows")
    parser.add_argument("--old-rev", default="main", help="the git revision whose training/dp.py is 'old'")
    parser.add_argument("--only", nargs="*", default=None,
                        help="run only the variants whose name contains one of these words (and non-private)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    result = run(args.device, args.epochs, args.repeats, args.epsilon, args.modes, args.threads, args.old_rev, args.only)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
