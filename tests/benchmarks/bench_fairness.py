"""Benchmark: our fairness_audit against Fairlearn's MetricFrame, same arrays.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_fairness.py
    .venv/bin/python tests/benchmarks/bench_fairness.py --rows 200000 --boot-rows 20000

(a) Point estimates: fairness_audit(..., intervals=False) on --rows rows (default
    1,000,000) with two sensitive features (sex: 2 groups, race: 5 groups) and
    their intersection, against MetricFrame called directly on the same arrays
    for the same metrics (count, accuracy, selection rate, TPR, FPR, precision):
    one MetricFrame per feature and one on both columns (the intersection).
    Median of --repeats runs each (default 3).
(b) Intervals on --boot-rows rows (default 100,000): fairness_audit with its
    intervals on (exact Clopper-Pearson intervals since the verdicts issue; no
    resampling, so `intervals` only turns them on) against a loop that draws
    row indices and builds the same three MetricFrames once per resample, as a
    200-resample bootstrap with MetricFrame would. The loop is timed on
    --loop-resamples resamples (default 5) and scaled linearly to 200, since
    each iteration does the same work.

Data: seeded, generated in memory; object-dtype string columns, labels 0/1.
"""

import argparse
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audits.kinds.fairness.probe import fairness_audit  # noqa: E402

SEX = np.array(["female", "male"], dtype=object)
RACE = np.array(["asian", "black", "hispanic", "other", "white"], dtype=object)


def make_data(rows, seed=0):
    rng = np.random.default_rng(seed)
    sex = SEX[rng.integers(0, 2, rows)]
    race = RACE[rng.choice(5, rows, p=[0.1, 0.15, 0.2, 0.05, 0.5])]
    y_true = rng.integers(0, 2, rows)
    flip = rng.random(rows) < np.where(sex == "female", 0.3, 0.2)
    y_pred = np.where(flip, 1 - y_true, y_true)
    return y_true, y_pred, pd.DataFrame({"sex": sex, "race": race})


def metric_frames(y_true, y_pred, features):
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "count": count,
        "accuracy": accuracy_score,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "precision": precision_score,
    }
    slices = [features["sex"], features["race"], features[["sex", "race"]]]
    frames = [MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=s) for s in slices]
    return [(frame.by_group, frame.difference(), frame.ratio()) for frame in frames]


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_point(rows, repeats):
    y_true, y_pred, features = make_data(rows)
    ours = median_seconds(lambda: fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False), repeats)
    theirs = median_seconds(lambda: metric_frames(y_true, y_pred, features), repeats)
    return ours, theirs


def bench_bootstrap(rows, resamples, loop_resamples):
    y_true, y_pred, features = make_data(rows, seed=1)
    start = time.perf_counter()
    fairness_audit(y_true, y_pred, sensitive_features=features, intervals=True)
    ours = time.perf_counter() - start
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(loop_resamples):
        idx = rng.integers(0, rows, rows)
        metric_frames(y_true[idx], y_pred[idx], features.iloc[idx].reset_index(drop=True))
    loop = (time.perf_counter() - start) * resamples / loop_resamples
    return ours, loop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--boot-rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--loop-resamples", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # sklearn's zero-division warnings would flood the loop
    import fairlearn
    import sklearn

    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"fairlearn {fairlearn.__version__}, scikit-learn {sklearn.__version__}, {platform.machine()}")
    ours, theirs = bench_point(args.rows, args.repeats)
    print(f"(a) {args.rows:,} rows x 2 features + intersection, median of {args.repeats}: "
          f"fairness_audit(intervals=False) {ours:.3f} s, MetricFrame {theirs:.3f} s, "
          f"ours / MetricFrame = {ours / theirs:.4f} (target <= 1.3), MetricFrame / ours = {theirs / ours:.0f}x")
    ours, loop = bench_bootstrap(args.boot_rows, args.resamples, args.loop_resamples)
    print(f"(b) {args.boot_rows:,} rows: fairness_audit with exact intervals {ours:.3f} s, "
          f"MetricFrame bootstrap loop of {args.resamples} resamples {loop:.1f} s "
          f"(timed on {args.loop_resamples} resamples, scaled), "
          f"speed-up {loop / ours:.0f}x (target >= 10x)")


if __name__ == "__main__":
    main()
