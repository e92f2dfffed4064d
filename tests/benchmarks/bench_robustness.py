"""Benchmark: PGD robust-accuracy evaluation, ART's generic NumPy PGD against its PyTorch-native PGD.

Not collected by pytest (the name does not start with test_). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_robustness.py                 # CPU, digits CNN
    .venv/bin/python tests/benchmarks/bench_robustness.py --device cuda   # on a GPU machine

Part 1 (every device): the digits SmallCNN (digits_cnn_spec, 15 epochs, 80% split) is
attacked on the 20% test split with ProjectedGradientDescentNumpy and with
ProjectedGradientDescentPyTorch: same classifier wrapper, same L-inf eps, step
(2.5 * eps / steps), steps, batch size, no random start. A run is "generate the
adversarial examples, then predict them", i.e. one point of the probe's curve.

Part 1b (every device): a whole robustness curve (PGD at EPSILONS) with raw ART
ProjectedGradientDescentPyTorch, one epsilon at a time as the probe runs it, against
training/attacks.py's pgd_linf, every (row, epsilon) pair in one batch on the device, in
float32, float32 + channels_last, and autocast (bfloat16 on CPU, float16 and bfloat16 on
CUDA): throughput and robust accuracy per epsilon, and the largest difference from ART's in
points (AMP is only usable where it stays within 0.5 point). On CUDA the same is run on the
TinyResNet of part 2 as well.

Part 1c (every device): the probe's real path, old against new, on the demo's German credit
MLP (trained as `make demo` trains it; numeric features attacked, one-hot groups masked, per
feature bounds, robust accuracy per sex and age group) and the digits SmallCNN: the whole
`robustness_probe` with attacks=["pgd"] over the audit's default grid, once through ART's
ProjectedGradientDescentPyTorch (pgd_backend="art", the probe before) and once through the
batched native PGD (the probe now), at the audit's default batch size and at a large one,
interleaved round by round. Per variant: best and median seconds, the speed-up of the best and
of the medians, the range of the per-round ratios, and the largest difference from the old
curve's robust accuracy in points (expected 0: the same algorithm).

Part 2 (--device cuda only): the full robustness_probe (FGSM and PGD over a 5-point
epsilon grid) on a small ResNet-like model (defined here, not in the allowlist) for
32x32 RGB synthetic images, on the CPU and on CUDA, and the speed-up.

Timings are wall-clock, best of --repeats interleaved rounds (the least disturbed by
other processes on a shared machine; the load average is printed). Prints a markdown
section ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from audits.kinds.robustness.probe import PGD_STEP_FACTOR, art_classifier, robustness_probe  # noqa: E402
from training.attacks import pgd_linf  # noqa: E402
from training.encoding import encode  # noqa: E402
from training.recipes import digits_cnn_spec, digits_frame, labels_to_index, train_from_spec  # noqa: E402
from training.train import resolve_device, set_seed, train_classifier  # noqa: E402


def _timed(fn, device: torch.device) -> tuple[float, object]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name() if device.type == "cuda" else (platform.processor() or platform.machine())


# ---------------------------------------------------------------------------
# Part 1: NumPy PGD against PyTorch PGD
# ---------------------------------------------------------------------------


def pgd_throughput(device: torch.device, *, eps: float, steps: int, batch_size: int, repeats: int) -> str:
    from art.attacks.evasion import ProjectedGradientDescentNumpy, ProjectedGradientDescentPyTorch

    frame = digits_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.8 * len(frame))
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    spec = digits_cnn_spec()
    module = train_from_spec(spec, train, label_column="label", device=device)
    x = encode(test, spec["input"])
    y = labels_to_index(test["label"], spec["classes"])
    onehot = np.eye(10, dtype=np.float32)[y]
    options = {"norm": np.inf, "eps": eps, "eps_step": PGD_STEP_FACTOR * eps / steps, "max_iter": steps,
               "num_random_init": 0, "batch_size": batch_size, "verbose": False}
    best, accuracy = {}, {}
    with art_classifier(module, spec, device) as classifier:
        attacks = {"ProjectedGradientDescentNumpy": ProjectedGradientDescentNumpy(classifier, **options),
                   "ProjectedGradientDescentPyTorch": ProjectedGradientDescentPyTorch(classifier, **options)}

        def evaluate(attack):
            adv = attack.generate(x=x, y=onehot)
            return float((classifier.predict(adv, batch_size=batch_size).argmax(axis=1) == y).mean())

        for attack in attacks.values():  # warm-up: kernels, allocator, first-call overheads
            evaluate(attack)
        for _ in range(repeats):
            for name, attack in attacks.items():
                seconds, accuracy[name] = _timed(lambda: evaluate(attack), device)
                best[name] = min(best.get(name, float("inf")), seconds)
        clean = float((classifier.predict(x).argmax(axis=1) == y).mean())
    numpy_name, torch_name = attacks
    lines = [
        f"## PGD robust-accuracy evaluation: ART NumPy PGD vs PyTorch PGD (digits SmallCNN, {len(x)} test rows)",
        "",
        f"Device: {device.type} ({_device_name(device)}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, ART PyTorchClassifier, L-inf eps {eps}, "
        f"{steps} steps of {PGD_STEP_FACTOR} * eps / steps, batch {batch_size}, "
        f"no random start. Wall time of generate + predict, best of {repeats} interleaved rounds after a warm-up; "
        f"load average {os.getloadavg()[0]:.1f}. Clean accuracy {clean:.3f}.",
        "",
        "| implementation | seconds | samples/s | robust accuracy |",
        "| --- | --- | --- | --- |",
    ]
    for name in attacks:
        lines.append(f"| {name} | {best[name]:.3f} | {len(x) / best[name]:.0f} | {accuracy[name]:.3f} |")
    lines += ["", f"PyTorch PGD is {best[numpy_name] / best[torch_name]:.2f}x the throughput of NumPy PGD."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Part 1b: a whole curve, raw ART PGD (one epsilon at a time) against batched native PGD
# ---------------------------------------------------------------------------

EPSILONS = [0.02, 0.05, 0.1, 0.2, 0.3]


def native_variants(device: torch.device) -> dict:
    amp = {"bfloat16 autocast": torch.bfloat16} if device.type == "cpu" else {
        "float16 autocast": torch.float16, "bfloat16 autocast": torch.bfloat16}
    out = {"float32": {}, "float32, channels_last": {"channels_last": True}}
    for name, dtype in amp.items():
        out[name] = {"amp_dtype": dtype}
        out[f"{name}, channels_last"] = {"amp_dtype": dtype, "channels_last": True}
    return out


def curve_comparison(module, x, y, *, device, low, high, steps, batch_size, repeats, label) -> dict:
    """Seconds and robust accuracy per epsilon: raw ART PGD (per epsilon) vs pgd_linf's variants."""
    from art.attacks.evasion import ProjectedGradientDescentPyTorch

    module = module.to(device).eval()
    xt, yt = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
    onehot = np.eye(int(y.max()) + 1, dtype=np.float32)[y]

    def art_curve(classifier):
        accs = []
        for eps in EPSILONS:
            attack = ProjectedGradientDescentPyTorch(classifier, norm=np.inf, eps=eps,
                                                     eps_step=PGD_STEP_FACTOR * eps / steps, max_iter=steps,
                                                     num_random_init=0, batch_size=batch_size, verbose=False)
            adv = attack.generate(x=x, y=onehot)
            accs.append(float((classifier.predict(adv, batch_size=batch_size).argmax(axis=1) == y).mean()))
        return accs

    from art.estimators.classification import PyTorchClassifier
    classifier = PyTorchClassifier(model=module, loss=nn.CrossEntropyLoss(), input_shape=x.shape[1:],
                                   nb_classes=int(y.max()) + 1, clip_values=(float(low), float(high)),
                                   device_type="gpu" if device.type == "cuda" else "cpu")
    todo = {"raw ART ProjectedGradientDescentPyTorch": lambda: art_curve(classifier)}
    for name, options in native_variants(device).items():
        todo[f"pgd_linf, {name}"] = lambda options=options: pgd_linf(
            module, xt, yt, epsilons=EPSILONS, steps=steps, step_factor=PGD_STEP_FACTOR, low=low, high=high,
            **options).tolist()
    for fn in todo.values():  # warm-up
        fn()
    best, accuracy = {}, {}
    for _ in range(repeats):
        for name, fn in todo.items():
            seconds, accuracy[name] = _timed(fn, device)
            best[name] = min(best.get(name, float("inf")), seconds)
    art = "raw ART ProjectedGradientDescentPyTorch"
    rows = [{"variant": name, "seconds": best[name], "pairs_per_s": len(x) * len(EPSILONS) / best[name],
             "speedup_vs_art": best[art] / best[name], "robust_accuracy": accuracy[name],
             "max_points_from_art": 100 * max(abs(a - b) for a, b in zip(accuracy[name], accuracy[art]))}
            for name in todo]
    module.cpu()
    return {"model": label, "device": device.type, "device_name": _device_name(device), "rows": len(x),
            "epsilons": EPSILONS, "steps": steps, "batch_size": batch_size, "repeats": repeats,
            "load_average": list(os.getloadavg()), "variants": rows}


def curve_markdown(result: dict) -> str:
    lines = [
        f"## Robustness curve, raw ART PGD vs batched native PGD ({result['model']}, {result['rows']} rows, "
        f"{result['device']} {result['device_name']})",
        "",
        f"PGD, {result['steps']} steps, L-inf epsilons {result['epsilons']}, ART batch {result['batch_size']}; "
        f"wall time, best of {result['repeats']} interleaved rounds after a warm-up; load average "
        f"{', '.join(f'{v:.2f}' for v in result['load_average'])}.",
        "",
        "| variant | seconds | (row, eps) pairs/s | x raw ART | robust accuracy per epsilon | max points from ART |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["variants"]:
        accs = ", ".join(f"{a:.3f}" for a in r["robust_accuracy"])
        lines.append(f"| {r['variant']} | {r['seconds']:.3f} | {r['pairs_per_s']:.0f} | {r['speedup_vs_art']:.2f} | "
                     f"{accs} | {r['max_points_from_art']:.2f} |")
    return "\n".join(lines)


def digits_curve(device: torch.device, *, steps: int, batch_size: int, repeats: int) -> dict:
    frame = digits_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.8 * len(frame))
    spec = digits_cnn_spec()
    module = train_from_spec(spec, frame.iloc[:cut], label_column="label", device=device)
    x = encode(frame.iloc[cut:], spec["input"])
    y = labels_to_index(frame.iloc[cut:]["label"], spec["classes"])
    return curve_comparison(module, x, y, device=device, low=0.0, high=1.0, steps=steps, batch_size=batch_size,
                            repeats=repeats, label="digits SmallCNN")


def resnet_curve(device: torch.device, *, rows: int, epochs: int, samples: int, steps: int, batch_size: int,
                 repeats: int) -> dict:
    frame, spec = synthetic_images(rows)
    set_seed(0)
    module = TinyResNet()
    train_classifier(module, encode(frame, spec["input"]), frame["label"].to_numpy(), epochs=epochs, batch_size=128,
                     device=device)
    test, _ = synthetic_images(samples, seed=1)
    x = encode(test, spec["input"])
    return curve_comparison(module, x, test["label"].to_numpy(), device=device, low=0.0, high=1.0, steps=steps,
                            batch_size=batch_size, repeats=repeats, label="TinyResNet, 32x32 synthetic")


# ---------------------------------------------------------------------------
# Part 1c: the probe's real path, old (ART PGD) against new (native PGD)
# ---------------------------------------------------------------------------

PROBE_EPSILONS = [0.0, 0.05, 0.1, 0.2, 0.3]  # the audit's default grid (the policy's 0.1 is in it)
OLD_PROBE = "old probe (ART PGD)"


def demo_credit(device: torch.device):
    """The demo's credit model and its 30% test split, as governance/demo/setup.py makes them."""
    from sklearn.model_selection import train_test_split

    from training.recipes import tabular_mlp_spec

    # governance/demo/datasets.py's columns, read from its CSV without importing the Django
    # project (its package imports Celery), as on the device machine.
    numeric = ["credit_amount", "duration", "age"]
    categorical = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]
    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "governance" / "demo" / "data" / "german_credit.csv")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
    spec = tabular_mlp_spec(train, numeric=numeric, categorical=categorical, classes=[0, 1], training={"epochs": 30})
    module = train_from_spec(spec, train, label_column="risk", device=device)
    return module, spec, test.reset_index(drop=True), "risk", ["sex", "age"]


def demo_digits(device: torch.device):
    frame = digits_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.8 * len(frame))
    spec = digits_cnn_spec()
    module = train_from_spec(spec, frame.iloc[:cut], label_column="label", device=device)
    return module, spec, frame.iloc[cut:].reset_index(drop=True), "label", []


def probe_comparison(device: torch.device, *, steps: int, batch_size: int, big_batch: int, repeats: int) -> list[dict]:
    """Per demo model: the whole probe (PGD only), old and new, interleaved round by round."""
    variants = {OLD_PROBE: {"pgd_backend": "art", "batch_size": batch_size},
                f"new probe (native PGD), batch {batch_size}": {"batch_size": batch_size},
                f"new probe (native PGD), batch {big_batch}": {"batch_size": big_batch}}
    results = []
    for label, make in (("demo German credit MLP", demo_credit), ("digits SmallCNN", demo_digits)):
        module, spec, test, target, sensitive = make(device)
        module.cpu().eval()
        options = {"epsilons": PROBE_EPSILONS, "attacks": ["pgd"], "pgd_steps": steps, "max_samples": len(test),
                   "sensitive": test[sensitive] if sensitive else None, "device": device}
        run = lambda extra: robustness_probe(module, spec, test, test[target], **options, **extra)  # noqa: E731
        for extra in variants.values():  # warm-up
            run(extra)
        seconds, curve = {name: [] for name in variants}, {}
        for _ in range(repeats):
            for name, extra in variants.items():
                elapsed, result = _timed(lambda extra=extra: run(extra), device)
                seconds[name].append(elapsed)
                curve[name] = [p["robust_accuracy"] for p in result["curves"]["pgd"]]
        old = seconds[OLD_PROBE]
        rows = []
        for name in variants:
            ratios = [a / b for a, b in zip(old, seconds[name])]
            rows.append({"variant": name, "best_s": min(seconds[name]), "median_s": float(np.median(seconds[name])),
                         "speedup_best": min(old) / min(seconds[name]),
                         "speedup_median": float(np.median(old) / np.median(seconds[name])),
                         "round_ratios": [min(ratios), max(ratios)], "robust_accuracy": curve[name],
                         "max_points_from_old": 100 * max(abs(a - b) for a, b in zip(curve[name], curve[OLD_PROBE]))})
        results.append({"model": label, "device": device.type, "device_name": _device_name(device),
                        "rows": len(test), "epsilons": PROBE_EPSILONS, "steps": steps, "repeats": repeats,
                        "threads": torch.get_num_threads(), "load_average": list(os.getloadavg()), "variants": rows})
    return results


def probe_markdown(result: dict) -> str:
    lines = [
        f"## Robustness probe, old (ART PGD) vs new (native PGD) ({result['model']}, {result['rows']} rows, "
        f"{result['device']} {result['device_name']})",
        "",
        f"robustness_probe with attacks=['pgd'], {result['steps']} steps, epsilons {result['epsilons']}, "
        f"{result['threads']} threads; wall time of the whole probe, {result['repeats']} interleaved rounds after a "
        f"warm-up; load average at the end {', '.join(f'{v:.2f}' for v in result['load_average'])}.",
        "",
        "| variant | best s | median s | x old (best) | x old (median) | per-round x old | robust accuracy per epsilon "
        "| max points from old |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["variants"]:
        accs = ", ".join(f"{a:.3f}" for a in r["robust_accuracy"])
        lo, hi = r["round_ratios"]
        lines.append(f"| {r['variant']} | {r['best_s']:.3f} | {r['median_s']:.3f} | {r['speedup_best']:.2f} | "
                     f"{r['speedup_median']:.2f} | {lo:.2f}-{hi:.2f} | {accs} | {r['max_points_from_old']:.2f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Part 2: the full probe on a small ResNet, CPU against CUDA
# ---------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


class TinyResNet(nn.Module):
    """ResNet-8-like: a stem and three residual stages (16-32-64 channels) for 32x32 inputs."""

    def __init__(self, n_classes: int = 10, width: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.stages = nn.Sequential(Block(width, width, 1), Block(width, 2 * width, 2), Block(2 * width, 4 * width, 2))
        self.head = nn.Linear(4 * width, n_classes)

    def features(self, x):
        return self.stages(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        return self.head(self.features(x))


def synthetic_images(n: int, *, n_classes: int = 10, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Class templates plus noise, as raw 0-255 pixel columns, and an image input spec.

    The templates are the same for every seed (so a test set matches its training set);
    the seed draws labels and noise.
    """
    # Blocky 4x4 colour layouts, upsampled: a global-average-pooling network can tell them apart.
    coarse = np.random.default_rng(12345).uniform(0, 1, size=(n_classes, 3, 4, 4))
    templates = np.kron(coarse, np.ones((1, 1, 8, 8)))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n)
    images = np.clip(0.6 * templates[labels] + 0.4 * rng.uniform(0, 1, size=(n, 3, 32, 32)), 0, 1)
    columns = [f"p{i}" for i in range(3 * 32 * 32)]
    frame = pd.DataFrame(np.round(images.reshape(n, -1) * 255).astype(np.float32), columns=columns)
    frame["label"] = labels
    spec = {"input": {"kind": "image", "columns": columns, "shape": [3, 32, 32], "scale": 255.0},
            "classes": list(range(n_classes))}
    return frame, spec


def probe_speedup(devices: list[torch.device], *, rows: int, epochs: int, max_samples: int, pgd_steps: int,
                  repeats: int) -> str:
    frame, spec = synthetic_images(rows)
    set_seed(0)
    module = TinyResNet()
    train_classifier(module, encode(frame, spec["input"]), frame["label"].to_numpy(), epochs=epochs, batch_size=128,
                     device=devices[-1])
    module.cpu().eval()
    test, _ = synthetic_images(max_samples, seed=1)
    options = {"max_samples": max_samples, "pgd_steps": pgd_steps, "batch_size": 256}
    best, results = {}, {}
    for device in devices:  # warm-up
        robustness_probe(module, spec, test.iloc[:32], test["label"].iloc[:32], device=device, **options)
    for _ in range(repeats):
        for device in devices:
            seconds, results[device.type] = _timed(
                lambda: robustness_probe(module, spec, test, test["label"], device=device, **options), device)
            best[device.type] = min(best.get(device.type, float("inf")), seconds)
    lines = [
        f"## Full robustness probe, CPU vs CUDA (TinyResNet on 32x32 synthetic images, {max_samples} rows)",
        "",
        f"FGSM and PGD ({pgd_steps} steps) over epsilons {results[devices[0].type]['params']['epsilons']}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, best of {repeats} rounds after a warm-up.",
        "",
        "| device | seconds | samples/s | clean accuracy | PGD robust accuracy at the largest eps |",
        "| --- | --- | --- | --- | --- |",
    ]
    for device in devices:
        r = results[device.type]
        lines.append(f"| {device.type} ({_device_name(device)}) | {best[device.type]:.2f} | "
                     f"{max_samples / best[device.type]:.0f} | {r['clean_accuracy']:.3f} | "
                     f"{r['curves']['pgd'][-1]['robust_accuracy']:.3f} |")
    if len(devices) > 1:
        lines += ["", f"CUDA speed-up: {best['cpu'] / best['cuda']:.1f}x."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--resnet-rows", type=int, default=4000, help="part 2: synthetic training rows")
    parser.add_argument("--resnet-epochs", type=int, default=3)
    parser.add_argument("--resnet-samples", type=int, default=1000, help="part 2: rows the probe attacks")
    parser.add_argument("--json", type=Path, default=None, help="also write part 1b's results as JSON here")
    parser.add_argument("--curve-only", action="store_true", help="only parts 1b and 1c (the curve comparisons)")
    parser.add_argument("--big-batch", type=int, default=4096,
                        help="part 1c: the large batch of (row, epsilon) pairs for the new probe")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if not args.curve_only:
        print(pgd_throughput(device, eps=args.eps, steps=args.steps, batch_size=args.batch_size, repeats=args.repeats))
        print()
    curves = [digits_curve(device, steps=args.steps, batch_size=args.batch_size, repeats=args.repeats)]
    if device.type == "cuda":
        curves.append(resnet_curve(device, rows=args.resnet_rows, epochs=args.resnet_epochs,
                                   samples=args.resnet_samples, steps=args.steps, batch_size=args.batch_size,
                                   repeats=args.repeats))
    print("\n\n".join(curve_markdown(c) for c in curves))
    print()
    probes = probe_comparison(device, steps=args.steps, batch_size=args.batch_size, big_batch=args.big_batch,
                              repeats=args.repeats)
    print("\n\n".join(probe_markdown(p) for p in probes))
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "robustness", "curves": curves, "probes": probes}, indent=2))
    if device.type == "cuda" and not args.curve_only:
        print()
        print(probe_speedup([torch.device("cpu"), device], rows=args.resnet_rows, epochs=args.resnet_epochs,
                            max_samples=args.resnet_samples, pgd_steps=args.steps, repeats=args.repeats))


if __name__ == "__main__":
    main()
