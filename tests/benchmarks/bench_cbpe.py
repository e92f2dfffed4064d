"""Benchmark: does the accuracy estimated without labels (CBPE) track the realized accuracy?

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_cbpe.py --draws 250 --scores calibrated      # recorded,
    .venv/bin/python tests/benchmarks/bench_cbpe.py --draws 250 --scores overconfident   # in two runs
    .venv/bin/python tests/benchmarks/bench_cbpe.py --draws 50      # a quick look

The world is synthetic, not the demo's credit data: German credit has 300 evaluation rows,
so batches drawn from it would reuse the rows the calibration was checked on, and its true
P(y | x) is unknown, so "label shift" and "concept drift" could not be told apart. Here they
can. y ~ Bernoulli(pi); x | y ~ N(mu_y, I) in three dimensions, mu_1 = (1.0, 0.5, 0),
mu_0 = (-0.5, -0.5, 0): the third feature carries no signal. With a shared covariance the
true P(y = 1 | x) is logistic in x, so the model, a scikit-learn logistic regression fitted
once on 5,000 rows at pi = 0.3, is well specified: calibrated on data like its training data.

Each draw takes a fresh reference (evaluation) set of 1,000 labelled rows at pi = 0.3, on
which cbpe.performance_estimate tests the scores' calibration and fits its Platt calibrator
(the default: every estimate is recalibrated, see cbpe.py), and a fresh
batch of 500 rows; it records whether the batch's realized accuracy lies inside the
estimate's 95% interval. Batches:

  control          pi = 0.3, nothing moved.
  (a) label shift  pi = 0.5 and 0.7, x | y unchanged (prior shift): the inputs move only
                   as far as the mixture of the two classes moves them. P(y | x) changes,
                   which CBPE assumes it does not; the issue's "label distribution shifts
                   while the inputs barely move".
  (b) input shift  the third (signal-free) feature's mean moved by 2 sd: the inputs move a
                   lot, P(y | x) and the accuracy do not. And (b') the first feature's
                   mean moved by -1 with P(y | x) unchanged (y drawn from the true
                   posterior): covariate shift that does change the accuracy.

Every case runs twice: with the model's own scores (calibrated: the test should accept
them) and with overconfident scores (the logit doubled: the test should reject them, and
Platt scaling fitted on the reference, with its bootstrap uncertainty, must undo it).
``--scores`` runs one variant; each has its own seeded stream, so the numbers do not
depend on whether the other ran. The recorded run ran the two apart (about 3 minutes each).

Reported per case: draws, coverage of the 95% interval (with its own 95% Wilson interval),
mean realized and estimated accuracy, mean bias (estimate - realized), mean interval width,
share of draws whose reference the calibration test called "not calibrated", and the mean
PSI of the model's score between reference and batch (how far the inputs moved, as the
model sees them). Goal from the issue: coverage >= 90%.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402

from audits.kinds.drift.cbpe import performance_estimate  # noqa: E402
from audits.kinds.drift.checks import wilson_bounds  # noqa: E402
from audits.kinds.drift.probe import binned_proportions, psi_from_proportions, quantile_edges  # noqa: E402

MU1 = np.array([1.0, 0.5, 0.0])
MU0 = np.array([-0.5, -0.5, 0.0])
TRAIN_PI = 0.3
N_REFERENCE = 1_000
N_BATCH = 500

CASES = [
    ("control: nothing moved", {"pi": 0.3}),
    ("(a) label shift, pi 0.3 -> 0.5", {"pi": 0.5}),
    ("(a) label shift, pi 0.3 -> 0.7", {"pi": 0.7}),
    ("(b) signal-free feature moved 2 sd", {"pi": 0.3, "shift": np.array([0.0, 0.0, 2.0])}),
    ("(b') covariate shift, feature 1 moved -1 sd", {"pi": 0.3, "covariate": np.array([-1.0, 0.0, 0.0])}),
]


def mixture(rng, n, *, pi, shift=None):
    """Rows of the class-conditional world: x | y ~ N(mu_y, I), shifted by ``shift``."""
    y = (rng.random(n) < pi).astype(int)
    x = rng.normal(size=(n, 3)) + np.where(y[:, None] == 1, MU1, MU0)
    if shift is not None:
        x = x + shift
    return x, y


def true_posterior(x, *, pi=TRAIN_PI):
    """P(y = 1 | x) of the training world: logistic, from the two Gaussians' log ratio."""
    log_ratio = x @ (MU1 - MU0) - 0.5 * (MU1 @ MU1 - MU0 @ MU0) + np.log(pi / (1 - pi))
    return 1 / (1 + np.exp(-log_ratio))


def covariate_batch(rng, n, *, move):
    """Inputs from the training world's marginal, moved; labels from its P(y | x)."""
    x, _ = mixture(rng, n, pi=TRAIN_PI)
    x = x + move
    return x, (rng.random(n) < true_posterior(x)).astype(int)


def overconfident(p):
    logit = np.log(np.clip(p, 1e-12, 1) / np.clip(1 - p, 1e-12, 1))
    return 1 / (1 + np.exp(-2 * logit))


def score_psi(reference, batch):
    a = np.sort(reference)
    edges = quantile_edges(a, bins=10)
    return psi_from_proportions(binned_proportions(a, edges), binned_proportions(np.sort(batch), edges))


def run_case(model, spec, *, draws, sharpen, rng, n_bootstrap):
    stats = {"covered": 0, "realized": [], "estimate": [], "width": [], "rejected": 0, "psi": []}
    for _ in range(draws):
        x_ref, y_ref = mixture(rng, N_REFERENCE, pi=TRAIN_PI)
        if "covariate" in spec:
            x, y = covariate_batch(rng, N_BATCH, move=spec["covariate"])
        else:
            x, y = mixture(rng, N_BATCH, pi=spec["pi"], shift=spec.get("shift"))
        ref_scores, scores = model.predict_proba(x_ref)[:, 1], model.predict_proba(x)[:, 1]
        if sharpen:
            ref_scores, scores = overconfident(ref_scores), overconfident(scores)
        out = performance_estimate(ref_scores, y_ref, scores, n_bootstrap=n_bootstrap,
                                   seed=int(rng.integers(2**31)))
        realized = float(np.mean((scores >= 0.5).astype(int) == y))
        stats["covered"] += out["low"] <= realized <= out["high"]
        stats["realized"].append(realized)
        stats["estimate"].append(out["estimate"])
        stats["width"].append(out["high"] - out["low"])
        stats["rejected"] += not out["calibration"]["calibrated"]
        stats["psi"].append(score_psi(ref_scores, scores))
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--bootstrap", type=int, default=100, help="calibrator refits per estimate")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--scores", choices=("both", "calibrated", "overconfident"), default="both",
                        help="which score variant(s) to run; each draw's data do not depend on the choice")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    x_train, y_train = mixture(rng, 5_000, pi=TRAIN_PI)
    model = LogisticRegression().fit(x_train, y_train)

    import numpy, scipy, sklearn  # noqa: E401  (versions for the record)
    print(f"# bench_cbpe: seed {args.seed}, {args.draws} draws per case, reference {N_REFERENCE}, "
          f"batch {N_BATCH}, bootstrap {args.bootstrap}; numpy {numpy.__version__}, scipy "
          f"{scipy.__version__}, scikit-learn {sklearn.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")
    print("| scores | batch | draws | coverage of the 95% interval [95% CI] | realized accuracy | estimate | "
          "bias | interval width | reference called miscalibrated | score PSI |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    started = time.perf_counter()
    for sharpen in (False, True):
        # One stream per variant, so that running one variant alone draws the same data.
        rng = np.random.default_rng([args.seed, int(sharpen)])
        for name, spec in CASES:
            if args.scores != "both" and sharpen != (args.scores == "overconfident"):
                continue
            s = run_case(model, spec, draws=args.draws, sharpen=sharpen, rng=rng, n_bootstrap=args.bootstrap)
            low, high = wilson_bounds(s["covered"], args.draws, alpha=0.025)
            bias = np.mean(np.array(s["estimate"]) - np.array(s["realized"]))
            print(f"| {'overconfident (logit x2)' if sharpen else 'calibrated'} | {name} | {args.draws} | "
                  f"{s['covered'] / args.draws:.3f} [{float(low):.3f}, {float(high):.3f}] | "
                  f"{np.mean(s['realized']):.3f} | {np.mean(s['estimate']):.3f} | {bias:+.3f} | "
                  f"{np.mean(s['width']):.3f} | {s['rejected'] / args.draws:.2f} | {np.mean(s['psi']):.3f} |",
                  flush=True)
    print(f"# wall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
