"""Benchmark: do the verdicts keep the error rates they claim? Simulated audits, old method beside new.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_verdicts.py                 # 2,000 simulated audits per cell
    .venv/bin/python tests/benchmarks/bench_verdicts.py --sims 300      # quicker, while developing
    .venv/bin/python tests/benchmarks/bench_verdicts.py --only fairness_grid

Sections, each a function ``section(args) -> list of markdown lines`` named in SECTIONS:

fairness_grid
    One check on one feature: k = 2, 4, 7, 10 groups of 50, 200 or 1,000 rows; the demographic
    parity difference (limit <= 0.1) or ratio (limit >= 0.8) with the true value at parity (0 or
    1), exactly at the limit (half the groups select 45% and half 55%, or 40% and 50%), and at
    twice the limit's distance from parity (40%/60%, or 30%/50%). Per cell, the share of --sims
    simulated audits that fail, that pass, and whose interval covers the true value, for the old
    method (percentile bootstrap of max - min or min / max with --resamples resamples, rows
    resampled jointly: what the probe did before) and the new (Clopper-Pearson per group,
    combined by Bonferroni: audits/kinds/fairness/probe/intervals.py), both at 95%. At the limit
    a fail or a pass is wrong (false fail, false pass); at parity a fail is false; at twice the
    limit a fail is right (power) and a pass is false.
fairness_candidates
    The candidates measured before choosing, for the difference at 50 and 200 rows per group:
    Newcombe's pairwise hybrid score intervals (narrowest, approximate), Wilson score intervals
    per group (Wilson 1927) combined like the chosen method, and Clopper-Pearson per group (the
    chosen one: the only one whose coverage is proven). Same columns plus the mean width.
fairness_calibration
    The calibration error (ECE) of one group of 50, 200 or 1,000 rows given its scores, for a
    calibrated and a miscalibrated model: coverage and whether the interval holds its own
    estimate, old (percentile bootstrap of the rows) and new (Clopper-Pearson per score bin).
fairness_audit_wide
    Whole audits whose every disparity sits exactly at its default limit: 6 features of 2, 4, 7,
    10, 2 and 4 groups (independent data, 100 or 1,000 rows per group), 3 checks each (DP
    difference <= 0.1, DP ratio >= 0.8, EO difference <= 0.2): 18 checks, like the demo's audit.
    Any pass or fail is wrong; the share of audits with at least one. Old: every check on its
    own 95% bootstrap interval. New: one 5% budget split over the 18 checks (Bonferroni), the
    rule fairness_evaluate applies; a smaller run goes through fairness_audit and
    fairness_evaluate end to end as a cross-check.

Another benchmark file may add sections: tests/benchmarks/bench_verdicts_drift.py, when present
and defining SECTIONS (a list of such functions), is appended unless --fairness-only.
Seeded: the same arguments print the same tables.
"""

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audits.kinds.fairness.probe import DEFAULT_THRESHOLDS, fairness_audit, fairness_evaluate  # noqa: E402
from audits.kinds.fairness.probe.counts import _ece, _rates  # noqa: E402
from audits.kinds.fairness.probe.intervals import disparity_bounds, ece_interval, named_interval  # noqa: E402

LEVEL = 0.95
LIMITS = {"difference": ("<=", 0.1, 0.0), "ratio": (">=", 0.8, 1.0)}  # operator, limit, parity
TRUTHS = {  # kind -> truth name -> (rate of the even groups, rate of the odd groups)
    "difference": {"parity": (0.5, 0.5), "at limit": (0.45, 0.55), "2x limit": (0.4, 0.6)},
    "ratio": {"parity": (0.5, 0.5), "at limit": (0.4, 0.5), "2x limit": (0.3, 0.5)},
}
GROUPS, ROWS = (2, 4, 7, 10), (50, 200, 1000)
AUDIT_VIEWS = (2, 4, 7, 10, 2, 4)


# ---------------------------------------------------------------- helpers


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def pct(x):
    return f"{100 * x:.1f}%"


def verdicts(low, high, operator, limit):
    """(fail, pass) arrays under the interval rule of fairness_evaluate."""
    if operator == "<=":
        return low > limit, high <= limit
    return high < limit, low >= limit


def group_rates(k, truth_pair):
    return np.where(np.arange(k) % 2 == 0, *truth_pair)


def true_value(kind, rates):
    return rates.max() - rates.min() if kind == "difference" else rates.min() / rates.max()


def selection_cells(selected, n):
    """Confusion cells (tn, fp, fn, tp) with only negatives: selection rate = fp / n."""
    return np.stack([n - selected, selected, np.zeros_like(selected), np.zeros_like(selected)], -1).astype(float)


def new_interval(selected, n, kind):
    cells = selection_cells(selected, n)
    include = {"selection_rate": np.ones(selected.shape, dtype=bool)}
    return named_interval(cells, None, include, f"demographic_parity_{kind}", miss=1 - LEVEL)


def wilson(x, n, tail):
    """Wilson (1927) score interval, one-sided tail each side."""
    z = norm.isf(tail)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def wilson_interval(selected, n, kind):
    include = np.ones(selected.shape, dtype=bool)
    side = (1 - LEVEL) / 2
    return disparity_bounds(lambda events: wilson(selected, n, side / events), include, kind=kind)


def old_bootstrap(rng, cells, resamples, statistic):
    """The probe's old percentile bootstrap: all rows resampled jointly (multinomial over every
    (group, cell) count), the statistic on each resample, its 2.5% and 97.5% percentiles.
    cells: (sims, k, c) counts; statistic maps (sims, resamples, k, c) to (sims, resamples)."""
    sims, k, c = cells.shape
    flat = cells.reshape(sims, k * c)
    total = int(flat[0].sum())
    pvals = np.broadcast_to((flat / total)[:, np.newaxis, :], (sims, resamples, k * c))
    draws = rng.multinomial(total, pvals).reshape(sims, resamples, k, c).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = statistic(draws)
    low, high = np.nanpercentile(values, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2], axis=1)
    return low, high


def dp_statistic(kind):
    def statistic(draws):
        rate = draws[..., 1] / draws.sum(-1)
        return rate.max(-1) - rate.min(-1) if kind == "difference" else rate.min(-1) / rate.max(-1)
    return statistic


def cell_rates(fail, passed, covered):
    return pct(fail.mean()), pct(passed.mean()), pct(covered.mean())


# ---------------------------------------------------------------- sections


def fairness_grid(args):
    rng = np.random.default_rng(args.seed)
    out = []
    for kind, (operator, limit, _) in LIMITS.items():
        rows = []
        for k in GROUPS:
            for n in ROWS:
                for truth, pair in TRUTHS[kind].items():
                    rates = group_rates(k, pair)
                    theta = true_value(kind, rates)
                    selected = rng.binomial(n, rates, size=(args.sims, k)).astype(float)
                    old = old_bootstrap(rng, selection_cells(selected, n)[..., :2], args.resamples, dp_statistic(kind))
                    new = new_interval(selected, n, kind)
                    row = [k, n, truth]
                    for low, high in (old, new):
                        row += cell_rates(*verdicts(low, high, operator, limit), (low <= theta) & (theta <= high))
                    rows.append(row)
        out.append(f"\n**Demographic parity {kind}** (limit {operator} {limit}; {args.sims} simulated audits per row, "
                   f"old = percentile bootstrap with {args.resamples} resamples, new = Clopper-Pearson + Bonferroni)\n")
        out += markdown(["k", "rows/group", "true value", "old fail", "old pass", "old coverage",
                         "new fail", "new pass", "new coverage"], rows)
    return out


def newcombe_difference(selected, n):
    """Max - min from pairwise differences: Newcombe's (1998, Statist. Med. 17:873-890, method 10)
    hybrid score interval for each ordered pair (a, b), from Wilson bounds. Upper bound: the
    largest pairwise upper bound at the full side (only the true top-bottom pair can make it
    miss); lower bound: the largest pairwise lower bound, Bonferroni over the k(k - 1) pairs.
    Approximate: its coverage is measured here, not proven."""
    k = selected.shape[-1]
    side = (1 - LEVEL) / 2
    p = selected / n
    a, b = np.array([(i, j) for i in range(k) for j in range(k) if i != j]).T
    estimate = p[..., a] - p[..., b]
    low_w, high_w = wilson(selected, n, side / (k * (k - 1)))
    lower = estimate - np.sqrt((p[..., a] - low_w[..., a]) ** 2 + (high_w[..., b] - p[..., b]) ** 2)
    low_w, high_w = wilson(selected, n, side)
    upper = estimate + np.sqrt((high_w[..., a] - p[..., a]) ** 2 + (p[..., b] - low_w[..., b]) ** 2)
    return np.maximum(lower.max(-1), 0.0), np.minimum(upper.max(-1), 1.0)


def fairness_candidates(args):
    rng = np.random.default_rng(args.seed + 1)
    operator, limit, _ = LIMITS["difference"]
    rows = []
    for n in (50, 200):
        for k in GROUPS:
            for truth, pair in TRUTHS["difference"].items():
                rates = group_rates(k, pair)
                theta = true_value("difference", rates)
                selected = rng.binomial(n, rates, size=(args.sims, k)).astype(float)
                row = [n, k, truth]
                candidates = (newcombe_difference(selected, n), wilson_interval(selected, n, "difference"),
                              new_interval(selected, n, "difference"))
                for low, high in candidates:
                    fail, passed = verdicts(low, high, operator, limit)
                    covered = (low <= theta) & (theta <= high)
                    row += [pct(fail.mean()), pct(passed.mean()), pct(covered.mean()), f"{np.mean(high - low):.3f}"]
                rows.append(row)
    out = [f"\n**Candidates for the demographic parity difference** (limit <= {limit}; {args.sims} simulated "
           "audits per row, 95%): Newcombe pairwise score intervals, Wilson per group + Bonferroni, "
           "Clopper-Pearson per group + Bonferroni (the one chosen)\n"]
    header = ["rows/group", "k", "true value"]
    for name in ("Newcombe", "Wilson", "CP"):
        header += [f"{name} fail", f"{name} pass", f"{name} coverage", f"{name} width"]
    return out + markdown(header, rows)


def fairness_calibration(args):
    """ECE of one group given its scores: scores uniform, labels with P(y = 1) = score (calibrated)
    or score^1.5 (miscalibrated); the true ECE is computed from the true probabilities in each bin.
    Old: percentile bootstrap of the ECE, rows resampled with their scores (as the probe did)."""
    rng = np.random.default_rng(args.seed + 4)
    rows = []
    for n in ROWS:
        for name, power in (("calibrated", 1.0), ("miscalibrated", 1.5)):
            score = rng.random(n)
            truth = score ** power
            bins = np.minimum((score * 10).astype(int), 9)
            count = np.bincount(bins, minlength=10)
            score_sum = np.bincount(bins, weights=score, minlength=10)
            theta = np.abs(score_sum - np.bincount(bins, weights=truth, minlength=10)).sum() / n
            labels = (rng.random((args.sims, n)) < truth).astype(float)
            y_sum = np.stack([np.bincount(bins, weights=row, minlength=10) for row in labels])
            sums = np.stack([np.broadcast_to(count, y_sum.shape), np.broadcast_to(score_sum, y_sum.shape), y_sum], -1)
            estimate = _ece(sums)
            low, high = ece_interval(sums, miss=1 - LEVEL)
            old_low, old_high = _old_ece_bootstrap(rng, score, labels, bins, args.resamples)
            old_covered = (old_low <= theta) & (theta <= old_high)
            holds = (old_low <= estimate) & (estimate <= old_high)
            rows.append([n, name, f"{theta:.3f}", pct(old_covered.mean()), pct(holds.mean()),
                         pct(((low <= theta) & (theta <= high)).mean()),
                         pct(((low <= estimate) & (estimate <= high)).mean()), f"{np.mean(high - low):.3f}"])
    out = [f"\n**Calibration error (ECE, 10 bins) of one group** ({args.sims} simulated label draws per row, "
           f"scores fixed; 95%; old = percentile bootstrap, {args.resamples} resamples)\n"]
    return out + markdown(["rows", "model", "true ECE", "old coverage", "old interval holds its estimate",
                           "new coverage", "new interval holds its estimate", "new width"], rows)


def _old_ece_bootstrap(rng, score, labels, bins, resamples):
    sims, n = labels.shape
    # One set of resampled row indices serves every simulated draw: each draw's interval is
    # still its own bootstrap; only the Monte Carlo errors of different rows are correlated.
    idx = rng.integers(0, n, size=(resamples, n))
    key = bins[idx]  # (resamples, n)
    offsets = (np.arange(resamples) * 10)[:, np.newaxis]
    count = np.bincount((key + offsets).ravel(), minlength=resamples * 10).reshape(resamples, 10)
    score_sum = np.bincount((key + offsets).ravel(), weights=score[idx].ravel(),
                            minlength=resamples * 10).reshape(resamples, 10)
    low, high = np.empty(sims), np.empty(sims)
    for i in range(sims):
        y_sum = np.bincount((key + offsets).ravel(), weights=labels[i][idx].ravel(),
                            minlength=resamples * 10).reshape(resamples, 10)
        values = np.abs(score_sum - y_sum).sum(-1) / count.sum(-1)
        low[i], high[i] = np.percentile(values, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    return low, high


def at_limit_cells(rng, sims, k, n):
    """(sims, k, 4) confusion cells of a view at every default limit: half the groups TPR 0.5,
    half 0.7, FPR 0.3, half the rows positive (selection 0.4 / 0.5, EO difference 0.2)."""
    tpr = group_rates(k, (0.5, 0.7))
    pvals = np.stack([0.5 * 0.7 * np.ones(k), 0.5 * 0.3 * np.ones(k), 0.5 * (1 - tpr), 0.5 * tpr], -1)
    return rng.multinomial(n, pvals, size=(sims, k)).astype(float)


CHECKS = [(name, *next(iter(spec.items()))) for name, spec in DEFAULT_THRESHOLDS.items()]


def old_check_interval(rng, cells, name, resamples):
    def statistic(draws):
        rates = _rates(draws)
        if name == "equalized_odds_difference":
            return np.maximum(*(r.max(-1) - r.min(-1) for r in (rates["tpr"], rates["fpr"])))
        sel = rates["selection_rate"]
        return sel.max(-1) - sel.min(-1) if name.endswith("difference") else sel.min(-1) / sel.max(-1)
    return old_bootstrap(rng, cells, resamples, statistic)


def fairness_audit_wide(args):
    rng = np.random.default_rng(args.seed + 2)
    m = len(CHECKS) * len(AUDIT_VIEWS)
    rows = []
    for n in (100, 1000):
        wrong_old = np.zeros(args.sims, dtype=bool)
        wrong_new = np.zeros(args.sims, dtype=bool)
        worst_check = 0.0
        for k in AUDIT_VIEWS:
            cells = at_limit_cells(rng, args.sims, k, n)
            include = {metric: ~np.isnan(v) for metric, v in _rates(cells).items()}
            for name, bound, limit in CHECKS:
                operator = "<=" if bound == "max" else ">="
                low, high = old_check_interval(rng, cells, name, args.resamples)
                fail, passed = verdicts(low, high, operator, limit)
                wrong_old |= fail | passed
                low, high = named_interval(cells, None, include, name, miss=(1 - LEVEL) / m)
                fail, passed = verdicts(low, high, operator, limit)
                wrong_new |= fail | passed
                worst_check = max(worst_check, (fail | passed).mean())
        rows.append([n, m, args.sims, pct(wrong_old.mean()), pct(wrong_new.mean()), pct(worst_check)])
    end_to_end = _audit_wide_end_to_end(np.random.default_rng(args.seed + 3), args.end_to_end)
    out = [f"\n**Audit-wide wrong verdicts** (every disparity at its limit; {m} checks; old = each check on "
           f"its own 95% bootstrap interval, new = 5% split over the {m} checks)\n"]
    out += markdown(["rows/group", "checks", "audits", "old: audits with a wrong verdict",
                     "new: audits with a wrong verdict", "new: worst single check"], rows)
    out.append(f"\nEnd to end through fairness_audit + fairness_evaluate, 100 rows per group: "
               f"{end_to_end[0]} of {end_to_end[1]} audits had a wrong verdict ({pct(end_to_end[0] / end_to_end[1])}).")
    return out


def _audit_wide_end_to_end(rng, audits):
    wrong = 0
    for _ in range(audits):
        views = {}
        for i, k in enumerate(AUDIT_VIEWS):
            cells = at_limit_cells(rng, 1, k, 100)[0].astype(int)
            y_true, y_pred, group = [], [], []
            for g, (tn, fp, fn, tp) in enumerate(cells):
                y_true += [0] * (tn + fp) + [1] * (fn + tp)
                y_pred += [0] * tn + [1] * fp + [0] * fn + [1] * tp
                group += [f"g{g}"] * (tn + fp + fn + tp)
            views[f"feature_{i}"] = fairness_audit(y_true, y_pred, sensitive_features={"g": group})["features"]["g"]
        params = fairness_audit([0, 1], [0, 1], sensitive_features={"g": ["a", "b"]})["params"]
        result = {"features": views, "intersectional": None, "params": params}
        checks = fairness_evaluate(result, thresholds=DEFAULT_THRESHOLDS)
        wrong += any(c["outcome"] != "inconclusive" for c in checks)
    return wrong, audits


SECTIONS = [fairness_grid, fairness_candidates, fairness_calibration, fairness_audit_wide]


def _extra_sections():
    path = Path(__file__).with_name("bench_verdicts_drift.py")
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("bench_verdicts_drift", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, "SECTIONS", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000, help="simulated audits per cell")
    parser.add_argument("--resamples", type=int, default=200, help="bootstrap resamples of the old method")
    parser.add_argument("--end-to-end", type=int, default=200, help="audits run through fairness_evaluate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", action="append", help="run only the named section(s)")
    parser.add_argument("--fairness-only", action="store_true", help="skip sections from other files")
    args = parser.parse_args()
    sections = SECTIONS + ([] if args.fairness_only else _extra_sections())
    if args.only:
        sections = [s for s in sections if s.__name__ in args.only]
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{platform.machine()}; --sims {args.sims} --resamples {args.resamples} --seed {args.seed}")
    for section in sections:
        start = time.perf_counter()
        print("\n".join(section(args)))
        print(f"\n({section.__name__}: {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
