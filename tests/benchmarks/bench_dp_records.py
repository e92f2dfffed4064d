"""Benchmark: do DP records add up, and how often do the security checks give a wrong verdict?

Not collected by pytest (the name does not start with test_). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_dp_records.py

Part 1, the Poisson schedule. For every k = 1..2000 batches per epoch: the steps Opacus's
own sampler runs at rate 1/k (int(1/q), the old booking's sampler) against the steps our
loader runs (training/dp.py, `_row_loader`), both by len() of the real sampler.

Part 2, the issue's run (372 rows, batch 4, 2 epochs, target epsilon 2, PRV, delta 1/(10N)):
the old record (steps booked by Opacus's sampler, epsilon by its accountant at q = 1/92),
the true epsilon of what ran then, and the new record. Computed from the accountant alone:
no training is needed to know what would be booked.

Part 3, the noise search against Opacus's get_noise_multiplier on a grid: both epsilons in
[target - 0.01, target], the largest differences in sigma and in epsilon.

Part 4, robustness and privacy verdicts, exactly (binomial sums, not simulation): the chance
that the old point-estimate rule and the new Clopper-Pearson rule with its minimum sample
pass a model whose true robust accuracy sits exactly at the limit (0.6, high tier) or below
it (0.5), at 20, 100, 200 and 1000 attacked rows, and the exact coverage of the interval.

Prints a markdown section ready for BENCHMARKS.md.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np
import torch
from opacus.accountants.utils import get_noise_multiplier
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from scipy.stats import binom

sys.path.insert(0, os.getcwd())
warnings.filterwarnings("ignore")

from audits.kinds.intervals import clopper_pearson, decide  # noqa: E402
from training import dp  # noqa: E402


def part_schedule() -> list[str]:
    short = [k for k in range(1, 2001) if len(UniformWithReplacementSampler(num_samples=4 * k, sample_rate=1 / k)) != k]
    ours = [k for k in range(1, 2001)
            if len(dp._row_loader(np.zeros((4 * k, 1), np.float32), np.zeros(4 * k, np.int64), batch_size=4, seed=0,
                                  device=torch.device("cpu"))) != k]
    return ["| loader | k in 1..2000 whose epoch runs a step short | first of them |", "|---|---:|---|",
            f"| Opacus's sampler at q = 1/k (old) | {len(short)} | {', '.join(map(str, short[:8]))}, ... |",
            f"| our loader, steps given (new) | {len(ours)} | {', '.join(map(str, ours[:8])) or '-'} |"]


def part_issue_run() -> list[str]:
    n, batch, epochs, target = 372, 4, 2, 2.0
    delta = dp.default_delta(n)
    q, k = dp.poisson_schedule(n, batch)
    sigma = dp.noise_multiplier_for(target_epsilon=target, delta=delta, sample_rate=q, steps=epochs * k)
    ran_old = epochs * len(UniformWithReplacementSampler(num_samples=n, sample_rate=q))
    booked_q_old = 1 / len(UniformWithReplacementSampler(num_samples=n, sample_rate=q))
    rows = [
        ("old: booked", ran_old, f"1/{round(1 / booked_q_old)}", dp.epsilon_for(sigma, booked_q_old, ran_old, delta)),
        ("old: what ran", ran_old, f"1/{k}", dp.epsilon_for(sigma, q, ran_old, delta)),
        ("new: booked = what ran", epochs * k, f"1/{k}", dp.epsilon_for(sigma, q, epochs * k, delta)),
    ]
    return [f"sigma = {sigma:.6f} (target {target:g}, delta {delta:.3g}, PRV)", "",
            "| record | steps | sample rate | epsilon |", "|---|---:|---|---:|"] + [
        f"| {name} | {steps} | {rate} | {eps:.4f}{' (above the target)' if eps > target else ''} |"
        for name, steps, rate, eps in rows]


GRID = [(accountant, target, q, steps) for accountant in ("rdp", "prv")
        for target, q, steps in ((1.0, 0.01, 1000), (2.0, 1 / 93, 186), (3.0, 1 / 23, 345), (5.0, 1 / 7, 14),
                                 (8.0, 0.2, 50))]


def part_noise_search() -> list[str]:
    rows = ["| accountant | target | q | steps | sigma (ours) | sigma (Opacus) | eps (ours) | eps (Opacus) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    d_sigma = d_eps = 0.0
    inside = True
    for accountant, target, q, steps in GRID:
        ours = dp.noise_multiplier_for(target_epsilon=target, delta=1e-4, sample_rate=q, steps=steps,
                                       accountant=accountant)
        theirs = get_noise_multiplier(target_epsilon=target, target_delta=1e-4, sample_rate=q, steps=steps,
                                      accountant=accountant)
        e_ours, e_theirs = (dp.epsilon_for(s, q, steps, 1e-4, accountant) for s in (ours, theirs))
        inside &= all(target - 0.01 <= e <= target for e in (e_ours, e_theirs))
        d_sigma, d_eps = max(d_sigma, abs(ours - theirs)), max(d_eps, abs(e_ours - e_theirs))
        rows.append(f"| {accountant} | {target:g} | {q:.4g} | {steps} | {ours:.5f} | {theirs:.5f} | {e_ours:.4f} | "
                    f"{e_theirs:.4f} |")
    return rows + ["", f"Both in [target - 0.01, target]: {inside}. Largest |sigma difference| {d_sigma:.2e}, "
                       f"largest |epsilon difference| {d_eps:.4f} (Opacus's own tolerance: 0.01)."]


def pass_probability(n: int, p: float, threshold: float, rule: str, min_rows: int = 100) -> float:
    ks = np.arange(n + 1)
    pmf = binom.pmf(ks, n, p)
    if rule == "old":
        passes = ks / n >= threshold
    else:
        passes = np.array([n >= min_rows and decide(clopper_pearson(int(k), n), ">=", threshold) == "pass"
                           for k in ks])
    return float(pmf[passes].sum())


def coverage_minimum(n: int) -> float:
    intervals = np.array([clopper_pearson(k, n) for k in range(n + 1)])
    worst = 1.0
    for p in np.linspace(0.001, 0.999, 999):
        covered = (intervals[:, 0] <= p) & (p <= intervals[:, 1])
        worst = min(worst, float(binom.pmf(np.arange(n + 1), n, p)[covered].sum()))
    return worst


def part_verdicts() -> list[str]:
    rows = ["| attacked rows | true robust accuracy | P(pass), old point rule | P(pass), new interval rule | "
            "min coverage of the 95% interval |", "|---:|---:|---:|---:|---:|"]
    for n in (20, 100, 200, 1000):
        cover = coverage_minimum(n)
        for p in (0.6, 0.5):
            rows.append(f"| {n} | {p:g} | {pass_probability(n, p, 0.6, 'old'):.3f} | "
                        f"{pass_probability(n, p, 0.6, 'new'):.3f} | {cover:.4f} |")
    return rows + ["", "Limit: robust accuracy >= 0.6 (high tier); a pass at 0.6 or below is a false pass. The new "
                       "rule says insufficient data below 100 rows, so it can never pass there."]


def main() -> None:
    started = time.perf_counter()
    sections = [("Poisson schedule", part_schedule()), ("The issue's run: 372 rows, batch 4, 2 epochs, epsilon 2",
                                                        part_issue_run()),
                ("Noise search against Opacus's get_noise_multiplier (delta 1e-4)", part_noise_search()),
                ("Robust accuracy verdicts at and below the limit (exact binomial)", part_verdicts())]
    print("## DP records and security verdicts (tests/benchmarks/bench_dp_records.py)\n")
    for title, lines in sections:
        print(f"### {title}\n")
        print("\n".join(lines) + "\n")
    print(f"(opacus {dp.opacus.__version__}, {time.perf_counter() - started:.0f} s on the CPU)")


if __name__ == "__main__":
    main()
