"""Benchmark: how often drift reviews breach by chance, and how often they catch the demo's shift.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_verdicts_drift.py      # the recorded run, about 4-5 minutes
    .venv/bin/python tests/benchmarks/bench_verdicts_drift.py --reviews 200 --big-reviews 100 --power-reviews 50

The recorded run simulates 2,000 reviews at 100 and 1,000 rows, 1,000 at 10,000 rows and 300
per power cell: more would not fit the 5 minutes a benchmark may take on the shared
development machine. --reviews, --big-reviews and --power-reviews raise them.

The system is the demo's credit-scoring model: German credit (governance/demo/data/), split
as the demo splits it (70% train = the drift reference, 700 rows; 30% test = the evaluation
data the audits judged, 300 rows), and the demo's seeded MLP trained on the train split.
Each simulated review compares one batch with the reference through every check the worker
runs: 9 features, the model's output, accuracy on the batch's labels against the audited
accuracy, and demographic parity and equalized odds differences per sensitive feature (sex,
age in the fairness audit's default bins) against their audited values.

Null     batches of 100, 1,000 and 10,000 rows drawn with replacement from the reference:
         nothing has drifted, so every breach is false. Goal: <= 1% of reviews breach.
Power    batches drawn with replacement from the demo's shifted production batch
         (governance/demo/drift.py shift_credit_batch on the test split: loans 1.8x larger
         and 1.5x longer, two applicants in five aged 19-25). Goal: >= 90% breach.

Beside each current figure is the earlier rule, re-implemented here from its definition:
per feature KS (scipy's p-value) or unmerged chi-square, Benjamini-Hochberg at 0.05 across
features, drifted when significant with PSI >= 0.1 or when PSI >= 0.25 alone; the model's
output on its raw p-value; accuracy and fairness gaps on point estimates (a drop or a rise
over 0.05), fairness slices of at least 20 rows. The current rule is the real code:
``drift_review`` with the runner's defaults, one seed per review.

Then two size checks of the tests themselves, at alpha 0.05 (the issue's cases): KS on tied
integers (Poisson(2), 300 against 300) and chi-square on sparse categories (40 Zipf(1.5)
categories, reference 700, batch 100).

Each rate comes with its 95% Wilson interval over the simulated reviews.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from scipy import stats  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from audits.kinds.drift.checks import wilson_bounds  # noqa: E402
from audits.kinds.drift.probe import (  # noqa: E402
    adjust_pvalues,
    binned_proportions,
    categorical_drift,
    drift_review,
    ks_test,
    psi_from_proportions,
    quantile_edges,
)
from audits.kinds.fairness.probe import DEFAULT_AGE_BINS  # noqa: E402
from governance.demo.datasets import CREDIT_CATEGORICAL, CREDIT_NUMERIC, DATA_DIR  # noqa: E402
from governance.demo.drift import shift_credit_batch  # noqa: E402
from training.artifacts import load_model, torch_artifact  # noqa: E402
from training.recipes import tabular_mlp_spec, train_from_spec  # noqa: E402

FEATURES = CREDIT_NUMERIC + CREDIT_CATEGORICAL
SENSITIVE = ("sex", "age")
MAX_INCREASE = DROP_MAX = 0.05
OLD_ALPHA, OLD_BANDS, OLD_MIN_SLICE = 0.05, (0.1, 0.25), 20


# ------------------------------------------------------------------ the system


def build_system():
    frame = pd.read_csv(DATA_DIR / "german_credit.csv")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                            training={"epochs": 30})
    model = load_model(torch_artifact(train_from_spec(spec, train, label_column="risk")), spec=spec)
    shifted = shift_credit_batch(test)
    sides = {}
    for name, part in (("train", train), ("test", test), ("shifted", shifted)):
        proba = model.predict_proba(part)[:, 1]
        sides[name] = {
            "frame": part, "proba": proba, "pred": (proba >= 0.5).astype(int),
            "label": part["risk"].to_numpy().astype(int),
            "groups": {s: _group_codes(part, s) for s in SENSITIVE},
        }
    test_side = sides["test"]
    audited = {s: _cells(test_side["groups"][s], test_side["label"], test_side["pred"]) for s in SENSITIVE}
    accuracy = float(np.mean(test_side["pred"] == test_side["label"]))
    return sides, audited, accuracy


def _group_codes(frame, feature):
    if feature == "age":
        # The fairness audit's slices: [18, 25), [25, 35), ... and open ends below and above.
        return np.searchsorted(np.asarray(DEFAULT_AGE_BINS, dtype=float), frame["age"].to_numpy(), side="right")
    return pd.Categorical(frame[feature], categories=sorted(frame[feature].unique())).codes.astype(int)


def _cells(codes, y, pred, *, n_groups=8):
    """Confusion counts per group: {group: {"tn", "fp", "fn", "tp"}} for groups with rows."""
    table = np.bincount(codes * 4 + 2 * y + pred, minlength=n_groups * 4).reshape(-1, 4)
    return {f"g{g}": dict(zip(("tn", "fp", "fn", "tp"), map(int, row)))
            for g, row in enumerate(table) if row.sum() > 0}


# ------------------------------------------------------------------ one review, both rules


def new_verdict(reference, side, idx, audited, accuracy, seed):
    batch = side["frame"].iloc[idx]
    current = {s: _cells(side["groups"][s][idx], side["label"][idx], side["pred"][idx]) for s in SENSITIVE}
    review = drift_review(
        reference["frame"], batch, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, seed=seed,
        reference_predictions=reference["proba"], current_predictions=side["proba"][idx],
        current_labels=side["label"][idx], reference_accuracy=accuracy, reference_accuracy_rows=300,
        fairness_drift={"audited": audited, "current": current, "max_increase": MAX_INCREASE,
                        "metrics": ["demographic_parity_difference", "equalized_odds_difference"]})
    return review["breach"], _components(review)


def _components(review):
    out = set()
    if any(f["drifted"] or f["status"] == "no_values" for f in review["features"]):
        out.add("features")
    if review["prediction"] and review["prediction"]["drifted"]:
        out.add("output")
    if review["performance"] and review["performance"]["breach"]:
        out.add("accuracy")
    if review["fairness"] and review["fairness"]["breach"]:
        out.add("fairness")
    return out


def old_verdict(reference, side, idx, audited, accuracy, cache):
    """The earlier rule, from its definition (see the module docstring)."""
    pvalues, psis = [], []
    for name in CREDIT_NUMERIC:
        a, b = cache["sorted"][name], np.sort(side["frame"][name].to_numpy(dtype=float)[idx])
        pvalues.append(stats.ks_2samp(a, b).pvalue)
        psis.append(psi_from_proportions(cache["bins"][name], binned_proportions(b, cache["edges"][name])))
    for name in CREDIT_CATEGORICAL:
        r = cache["counts"][name]
        c = np.bincount(cache["codes"][id(side)][name][idx], minlength=len(r))
        keep = (r + c) > 0
        table = np.vstack((r[keep], c[keep]))
        pvalues.append(1.0 if keep.sum() < 2 else stats.chi2_contingency(table, correction=False).pvalue)
        psis.append(psi_from_proportions(r / r.sum(), c / c.sum()))
    adjusted = adjust_pvalues(pvalues, method="benjamini-hochberg")
    parts = set()
    if any(_old_drifted(psi, p) for psi, p in zip(psis, adjusted)):
        parts.add("features")
    b = np.sort(side["proba"][idx])
    out_psi = psi_from_proportions(cache["bins"]["proba"], binned_proportions(b, cache["edges"]["proba"]))
    if _old_drifted(out_psi, stats.ks_2samp(cache["sorted"]["proba"], b).pvalue):
        parts.add("output")
    if accuracy - float(np.mean(side["pred"][idx] == side["label"][idx])) > DROP_MAX:
        parts.add("accuracy")
    for s in SENSITIVE:
        now = _cells(side["groups"][s][idx], side["label"][idx], side["pred"][idx])
        for gap in (_old_dp, _old_eo):
            before, after = gap(audited[s]), gap(now)
            if before is not None and after is not None and after - before > MAX_INCREASE:
                parts.add("fairness")
    return bool(parts), parts


def _old_drifted(psi, p_adjusted):
    return (p_adjusted < OLD_ALPHA and psi >= OLD_BANDS[0]) or psi >= OLD_BANDS[1]


def _rates(cells, num, den):
    out = []
    for c in cells.values():
        if sum(c.values()) < OLD_MIN_SLICE:
            continue
        d = sum(c[k] for k in den)
        if d:
            out.append(sum(c[k] for k in num) / d)
    return out


def _old_dp(cells):
    rates = _rates(cells, ("fp", "tp"), ("tn", "fp", "fn", "tp"))
    return max(rates) - min(rates) if len(rates) >= 2 else None


def _old_eo(cells):
    gaps = []
    for num, den in ((("tp",), ("fn", "tp")), (("fp",), ("tn", "fp"))):
        rates = _rates(cells, num, den)
        if len(rates) >= 2:
            gaps.append(max(rates) - min(rates))
    return max(gaps) if gaps else None


def old_cache(reference, sides):
    cache = {"sorted": {}, "edges": {}, "bins": {}, "counts": {}, "codes": {}}
    for name, values in [(n, reference["frame"][n].to_numpy(dtype=float)) for n in CREDIT_NUMERIC] + [
            ("proba", reference["proba"])]:
        a = np.sort(values)
        cache["sorted"][name] = a
        cache["edges"][name] = quantile_edges(a, bins=10)
        cache["bins"][name] = binned_proportions(a, cache["edges"][name])
    for side in sides:
        cache["codes"][id(side)] = {}
    for name in CREDIT_CATEGORICAL:
        names = sorted(set().union(*(set(map(str, s["frame"][name])) for s in sides)))
        for side in sides:
            cache["codes"][id(side)][name] = pd.Categorical(
                side["frame"][name].astype(str), categories=names).codes.astype(int)
        cache["counts"][name] = np.bincount(cache["codes"][id(reference)][name], minlength=len(names))
    return cache


# ------------------------------------------------------------------ the simulation


def simulate(label, reference, side, rows, reviews, audited, accuracy, cache, rng):
    old = new = 0
    old_parts, new_parts = {}, {}
    started, new_seconds = time.perf_counter(), 0.0
    for i in range(reviews):
        idx = rng.integers(0, len(side["frame"]), rows)
        o, op = old_verdict(reference, side, idx, audited, accuracy, cache)
        tick = time.perf_counter()
        n, np_ = new_verdict(reference, side, idx, audited, accuracy, seed=i)
        new_seconds += time.perf_counter() - tick
        old, new = old + o, new + n
        for part in op:
            old_parts[part] = old_parts.get(part, 0) + 1
        for part in np_:
            new_parts[part] = new_parts.get(part, 0) + 1
    return {"label": label, "rows": rows, "reviews": reviews, "old": old, "new": new,
            "old_parts": old_parts, "new_parts": new_parts, "seconds": time.perf_counter() - started,
            "new_ms": 1000 * new_seconds / reviews}


def size_checks(runs, rng):
    ks_old = ks_new = 0
    for _ in range(runs):
        a = np.sort(rng.poisson(2, 300).astype(float))
        b = np.sort(rng.poisson(2, 300).astype(float))
        ks_old += stats.ks_2samp(a, b).pvalue < 0.05
        ks_new += ks_test(a, b, rng=rng)[2] < 0.05
    names = np.array([f"c{i}" for i in range(40)], dtype=object)
    weights = np.arange(1, 41) ** -1.5
    weights /= weights.sum()
    chi_old = chi_new = 0
    for _ in range(runs):
        ref = pd.Series(rng.choice(names, 700, p=weights))
        cur = pd.Series(rng.choice(names, 100, p=weights))
        ca, cb = ref.value_counts(), cur.value_counts()
        index = ca.index.union(cb.index)
        table = np.vstack((ca.reindex(index, fill_value=0), cb.reindex(index, fill_value=0)))
        chi_old += stats.chi2_contingency(table, correction=False).pvalue < 0.05
        chi_new += categorical_drift(ref, cur)["p_value"] < 0.05
    return [("KS, tied integers: Poisson(2), 300 vs 300", runs, ks_old, ks_new),
            ("chi-square, 40 Zipf(1.5) categories, reference 700, batch 100", runs, chi_old, chi_new)]


def _rate(k, n):
    low, high = wilson_bounds(k, n, alpha=0.025)
    return f"{k / n:.4f} [{float(low):.4f}, {float(high):.4f}]"


def _parts(parts, n):
    return ", ".join(f"{k} {v / n:.3f}" for k, v in sorted(parts.items())) or "none"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=2000, help="simulated reviews per null cell")
    parser.add_argument("--big-reviews", type=int, default=1000, help="for the 10,000-row null cell")
    parser.add_argument("--power-reviews", type=int, default=300, help="per power cell")
    parser.add_argument("--size-runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    power_reviews = args.power_reviews
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    sides, audited, accuracy = build_system()
    reference = sides["train"]
    cache = old_cache(reference, list(sides.values()))
    print(f"# Drift verdicts: {args.reviews} null reviews a cell ({args.big_reviews} at 10,000 rows), "
          f"{power_reviews} power reviews a cell, seed {args.seed}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
          f"audited accuracy {accuracy:.3f} on 300 rows; system built in {time.perf_counter() - started:.1f} s\n")
    rows = []
    for n in (100, 1_000, 10_000):
        rows.append(simulate("null (from the reference)", reference, reference, n,
                             args.big_reviews if n == 10_000 else args.reviews, audited, accuracy, cache, rng))
    for n in (100, 300, 1_000):
        rows.append(simulate("power (demo's planted shift)", reference, sides["shifted"], n, power_reviews,
                             audited, accuracy, cache, rng))
    print("| batch | rows | reviews | earlier rule: breach rate [95% CI] | current rule: breach rate [95% CI] "
          "| earlier: what breached | current: what breached | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        goal = "≤ 0.01" if r["label"].startswith("null") else "≥ 0.90"
        print(f"| {r['label']} | {r['rows']:,} | {r['reviews']:,} | {_rate(r['old'], r['reviews'])} | "
              f"{_rate(r['new'], r['reviews'])} | {_parts(r['old_parts'], r['reviews'])} | "
              f"{_parts(r['new_parts'], r['reviews'])} | {goal} |")
    print("\n| test at alpha 0.05 under the null | runs | earlier: rejection rate | current: rejection rate |")
    print("|---|---|---|---|")
    for name, runs, old, new in size_checks(args.size_runs, rng):
        print(f"| {name} | {runs:,} | {_rate(old, runs)} | {_rate(new, runs)} |")
    print("\nTime per cell, both rules (current rule's mean per review): " + ", ".join(
        f"{r['rows']:,} rows {r['seconds']:.0f} s ({r['new_ms']:.0f} ms)" for r in rows)
        + f"; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
