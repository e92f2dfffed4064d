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

(c) Calibration intervals on --rows rows, side by side, interleaved, median of --repeats:
    fairness_audit with its intervals and no scores; the same with y_score (ECE per group
    with its interval from the per-bin sufficient statistics: row count, score sum and label
    sum per group and score bin, Clopper-Pearson per bin; see probe/intervals.py); and
    "before": the audit without scores plus the row-draw bootstrap the probe ran for ECE
    until the exact intervals (--resamples resamples: each resample draws every row again
    from its confusion cell and re-tallies the bins; the function below is that code as it
    was, kept here as the baseline).

Data: seeded, generated in memory; object-dtype string columns, labels 0/1; scores for (c)
drawn so that P(y = 1 | score) = score.
"""

import argparse
import os
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
from audits.kinds.fairness.probe.counts import ECE_BINS, _aggregate, _ece, _ece_sums, _point_sums, _score_bins  # noqa: E402,E501
from audits.kinds.fairness.probe.slices import _build_views, _encode_features, _validate_inputs  # noqa: E402

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


_CHUNK_ROWS = 2_000_000  # as the probe had it: rows held in memory per chunk of resamples


def bootstrap_ece_before(draws, cell_key, score, views, rng):
    """The probe's ECE bootstrap before the exact intervals (unchanged): for each resample,
    draw each cell's rows uniformly from that cell's rows (as many as the multinomial gave
    it), tally ECE sums by score bin and reduce them to each view's ECE chunk by chunk."""
    n_boot, n_keys = draws.shape
    n, n_fine = len(score), n_keys // 4
    order = np.argsort(cell_key, kind="stable")
    sizes = np.bincount(cell_key, minlength=n_keys)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    base = (cell_key[order] // 4) * ECE_BINS + _score_bins(score)[order]
    y_sorted, score_sorted = cell_key[order] % 4 // 2, score[order]
    out = {view["name"]: np.empty((n_boot, len(view["starts"]))) for view in views}
    step = max(1, min(_CHUNK_ROWS // n, _CHUNK_ROWS // (n_fine * ECE_BINS * 3)))
    for first in range(0, n_boot, step):
        chunk = draws[first : first + step]
        keys = np.repeat(np.tile(np.arange(n_keys), len(chunk)), chunk.ravel())
        offset = np.minimum((rng.random(len(keys)) * sizes[keys]).astype(np.int64), sizes[keys] - 1)
        pos = starts[keys] + offset
        resample = np.arange(len(keys)) // n
        key = resample * (n_fine * ECE_BINS) + base[pos]
        sums = _ece_sums(key, y_sorted[pos], score_sorted[pos], len(chunk) * n_fine * ECE_BINS)
        sums = sums.reshape(len(chunk), n_fine, ECE_BINS, 3)
        for view in views:
            out[view["name"]][first : first + len(chunk)] = _ece(_aggregate(view, sums, (ECE_BINS, 3)))
    return out


def audit_with_scores_before(y_true, y_pred, features, score, resamples):
    """The audit without scores, plus the old ECE bootstrap over the same views."""
    fairness_audit(y_true, y_pred, sensitive_features=features, intervals=True)
    y_true, y_pred, score, columns = _validate_inputs(y_true, y_pred, score, features)
    fine, n_fine, views = _build_views(_encode_features(columns, {}), len(y_true), True)
    flat = _point_sums(fine, n_fine, y_true, y_pred, score)["cells"].ravel()
    count_rng, row_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(2))
    draws = count_rng.multinomial(len(y_true), flat / flat.sum(), size=resamples)
    return bootstrap_ece_before(draws, fine * 4 + 2 * y_true + y_pred, score, views, row_rng)


def bench_calibration(rows, resamples, repeats):
    y_true, y_pred, features = make_data(rows, seed=2)
    rng = np.random.default_rng(2)
    score = rng.random(rows)
    y_true = (rng.random(rows) < score).astype(np.int64)  # calibrated scores
    runs = {
        "without scores": lambda: fairness_audit(y_true, y_pred, sensitive_features=features, intervals=True),
        "with scores": lambda: fairness_audit(y_true, y_pred, sensitive_features=features, y_score=score,
                                              intervals=True),
        "with scores, before": lambda: audit_with_scores_before(y_true, y_pred, features, score, resamples),
    }
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--boot-rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--loop-resamples", type=int, default=5)
    parser.add_argument("--only", default="abc", help="which sections to run, e.g. c")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # sklearn's zero-division warnings would flood the loop
    import fairlearn
    import sklearn

    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
              f"fairlearn {fairlearn.__version__}, scikit-learn {sklearn.__version__}, {platform.machine()}")
    if "a" in args.only:
        ours, theirs = bench_point(args.rows, args.repeats)
        print(f"(a) {args.rows:,} rows x 2 features + intersection, median of {args.repeats}: "
              f"fairness_audit(intervals=False) {ours:.3f} s, MetricFrame {theirs:.3f} s, "
              f"ours / MetricFrame = {ours / theirs:.4f} (target <= 1.3), MetricFrame / ours = {theirs / ours:.0f}x")
    if "b" in args.only:
        ours, loop = bench_bootstrap(args.boot_rows, args.resamples, args.loop_resamples)
        print(f"(b) {args.boot_rows:,} rows: fairness_audit with exact intervals {ours:.3f} s, "
              f"MetricFrame bootstrap loop of {args.resamples} resamples {loop:.1f} s "
              f"(timed on {args.loop_resamples} resamples, scaled), "
              f"speed-up {loop / ours:.0f}x (target >= 10x)")
    if "c" in args.only:
        calib = bench_calibration(args.rows, args.resamples, args.repeats)
        without, now, before = calib["without scores"], calib["with scores"], calib["with scores, before"]
        print(f"(c) {args.rows:,} rows, intervals on, median of {args.repeats} (interleaved): without scores "
              f"{without:.3f} s; with scores {now:.3f} s ({now / without:.2f}x the audit without scores, target <= 3x); "
              f"with scores before (row-draw ECE bootstrap, {args.resamples} resamples) {before:.3f} s "
              f"({before / without:.1f}x); now / before = {now / before:.3f}")
    print("load average", " / ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
