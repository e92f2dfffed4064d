"""Accuracy estimated without labels: confidence-based performance estimation (CBPE).

Pure functions, no Django. ``performance_estimate`` is the entry point; the
drift review (probe.py) calls it and judges the estimated drop as one of its
checks when the batch has no labels.

The method
    If a binary classifier's score c_i = P(y_i = 1 | x_i) is calibrated, the
    model's decision on row i (1 when its raw score is >= 0.5) is right with
    probability c_i when it says 1 and 1 - c_i when it says 0; for scores that
    are calibrated as they stand this is max(p_i, 1 - p_i). The batch's
    accuracy is then estimated, without a single label, by the mean of those
    probabilities (NannyML, "Confidence-based Performance Estimation (CBPE)",
    https://nannyml.readthedocs.io/en/main/how_it_works/performance_estimation.html;
    J. Kivimaki, J. Bialek, J. K. Nurminen & W. Kuberski, "Confidence-based
    estimators for predictive performance in model monitoring",
    arXiv:2407.08649, 2024: their "average confidence", shown there to be
    unbiased and consistent under calibration). The estimate
    is unbiased whenever P(y | x) is the same on the batch as on the reference
    (covariate shift, however large). It cannot see concept drift (P(y | x)
    changes), and under label shift (P(y) changes, P(x | y) does not) it sees
    only the part that moves the inputs: tests/benchmarks/bench_cbpe.py
    measures both (BENCHMARKS.md, "CBPE: accuracy without labels").

Calibration, checked on the reference (evaluation) data
    * Expected calibration error over ``ece_bins`` equal-width bins,
      sum_b (n_b / n) |mean(y)_b - mean(p)_b| (M. P. Naeini, G. Cooper &
      M. Hauskrecht, AAAI 2015; C. Guo et al., "On calibration of modern neural
      networks", ICML 2017), reported for reading.
    * The decision is a test: the Hosmer-Lemeshow statistic on scores the data
      did not fit, H = sum_g (O_g - E_g)^2 / sum_{i in g} p_i (1 - p_i) over
      ``hl_groups`` groups of equal size by score (O: positives, E: sum of
      scores), compared with a chi-square with g degrees of freedom (D. W.
      Hosmer & S. Lemeshow, *Applied Logistic Regression*, 2nd ed., Wiley 2000,
      section 5.2.2, for external validation data). When its p-value is below
      ``CALIBRATION_ALPHA`` the scores are "not calibrated", and the page says so.
    * The estimate reads scores passed through a calibrator fitted on the
      reference rows only: Platt scaling (logistic regression on the logit of
      the score; J. Platt, 1999) by default, or isotonic regression
      (scikit-learn's ``IsotonicRegression``). By default (``recalibrate=
      "always"``) it does so even when the test accepts the raw scores: a test
      on a thousand rows cannot see a miscalibration of a point or two, which
      would bias the estimate by as much while the interval, without a
      calibration term, would not allow for it (the benchmark measured this:
      scikit-learn's default, slightly shrunk logistic regression, accepted
      by the test in 96% of draws, under-estimated accuracy by 0.008 and
      covered the realized accuracy in 91-94% of draws read raw, 94-96%
      recalibrated; BENCHMARKS.md, "CBPE: accuracy without labels"). Platt
      scaling of calibrated scores is close to the identity, so little is
      lost. ``recalibrate="when_rejected"`` uses the raw scores whenever the
      test accepts them.

The interval
    The realized accuracy is a mean of n independent Bernoulli(q_i) draws
    (q_i: the probability row i is right), so it differs from the estimate
    mean(q) by noise of variance sum q_i (1 - q_i) / n^2. When a calibrator was
    fitted, its own uncertainty is added: the reference rows are resampled
    ``n_bootstrap`` times, the calibrator refitted on each resample, and the
    variance of the estimates it gives on the batch is added (with
    ``recalibrate="always"``, on every estimate). The interval is
    the normal one over the summed variance, clipped to [0, 1] (the sampling
    part is the normal approximation of Kivimaki et al.'s Poisson-binomial
    interval: the number of right decisions is Poisson-binomial). It is a
    prediction interval for the batch's realized accuracy, which is what a
    label arriving later is compared with. Scores taken as calibrated carry no
    calibration term: the interval then assumes what the test could not reject.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from audits.kinds.drift.checks import INSUFFICIENT, TESTED, wilson_bounds

CALIBRATION_ALPHA = 0.05
CALIBRATORS = ("platt", "isotonic")
RECALIBRATE = ("always", "when_rejected")
DEFAULT_BOOTSTRAP = 100
MAX_BOOTSTRAP = 2_000
ECE_BINS = 10
HL_GROUPS = 10
SCORE_CLIP = 1e-6  # keeps the logit finite for scores of exactly 0 or 1

ERR_SCORES = "{name} must be one-dimensional scores between 0 and 1, with no missing value."
ERR_LABELS = "reference_labels must hold 0 and 1 only, one per reference score."
ERR_CALIBRATOR = "calibrator must be one of {choices}, got {value!r}."
ERR_RECALIBRATE = "recalibrate must be one of {choices}, got {value!r}."
ERR_BOOTSTRAP = "n_bootstrap must be an integer between 1 and {max}, got {value!r}."
ERR_CONFIDENCE = "confidence must be a number strictly between 0 and 1, got {value!r}."
ERR_GROUPS = "groups must map each sensitive feature to one group label per batch row."
ERR_MIN_GROUP = "min_group_count must be an integer >= 1, got {value!r}."


# ---------------------------------------------------------------- primitives


def expected_calibration_error(scores, labels, *, bins=ECE_BINS):
    """ECE over equal-width bins [0, 1/b), ..., [(b-1)/b, 1]; empty bins count nothing."""
    p = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    gap = np.abs(np.bincount(which, y, minlength=bins) - np.bincount(which, p, minlength=bins))
    return float(gap.sum() / len(p))


def hosmer_lemeshow(scores, labels, *, groups=HL_GROUPS):
    """(statistic, degrees of freedom, p-value) of the external-validation Hosmer-Lemeshow test.

    Rows sorted by score are cut into ``groups`` groups of (nearly) equal size;
    groups whose variance sum p(1 - p) is 0 (all scores 0 or 1) are left out,
    and so is their degree of freedom.
    """
    p = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    order = np.argsort(p, kind="stable")
    statistic, dof = 0.0, 0
    for part in np.array_split(order, min(groups, len(p))):
        variance = float(np.sum(p[part] * (1 - p[part])))
        if variance <= 0:
            continue
        statistic += (float(y[part].sum()) - float(p[part].sum())) ** 2 / variance
        dof += 1
    p_value = float(stats.chi2.sf(statistic, dof)) if dof else 1.0
    return float(statistic), int(dof), p_value


def correct_probability(calibrated, decisions):
    """Probability that each decision is right: c when the model said 1, 1 - c when it said 0."""
    c = np.asarray(calibrated, dtype=float)
    return np.where(np.asarray(decisions) == 1, c, 1.0 - c)


def fit_calibrator(scores, labels, *, method):
    """A function from raw scores to calibrated ones, fitted on (scores, labels) only."""
    p = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    if len(np.unique(y)) < 2:
        # One class only: the best calibrated score is its share, whatever the raw score.
        share = float(y.mean())
        return lambda s: np.full(len(s), share)
    if method == "isotonic":
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return lambda s: model.predict(np.asarray(s, dtype=float))
    # A large C: Platt's two parameters, not shrunk towards an uninformative fit; Newton steps,
    # which two parameters make cheap (the bootstrap refits it a hundred times).
    model = LogisticRegression(C=1e6, solver="newton-cholesky").fit(_logit(p)[:, None], y)
    return lambda s: model.predict_proba(_logit(np.asarray(s, dtype=float))[:, None])[:, 1]


def normal_interval(estimate, variance, *, confidence):
    """Two-sided normal interval at ``confidence``, clipped to [0, 1]."""
    half = float(stats.norm.isf((1 - confidence) / 2)) * float(np.sqrt(variance))
    return max(0.0, estimate - half), min(1.0, estimate + half)


def _logit(p):
    p = np.clip(p, SCORE_CLIP, 1 - SCORE_CLIP)
    return np.log(p / (1 - p))


# ------------------------------------------------------------------ estimate


def performance_estimate(reference_scores, reference_labels, current_scores, *, groups=None,
                         calibrator="platt", recalibrate="always", n_bootstrap=DEFAULT_BOOTSTRAP,
                         confidence=0.95,
                         min_group_count=30, seed=0):
    """Estimated accuracy of a 0/1 classifier on an unlabelled batch, with its interval.

    ``reference_scores``/``reference_labels``: the positive-class scores and true
    labels on the reference (evaluation) data; ``current_scores``: the scores on
    the batch. ``groups`` maps a sensitive feature to one group label per batch
    row; groups with fewer than ``min_group_count`` rows are named, not
    estimated. Returns a JSON-serialisable dict::

        {"estimate": 0.74, "low": 0.69, "high": 0.79, "variance": 0.0006,
         "variance_sampling": 0.0005, "variance_calibration": 0.0001,
         "n": 300, "confidence": 0.95, "selection_rate": 0.71,
         "calibration": {"calibrated": False, "ece": 0.08, "hl_statistic": 31.2,
                         "hl_dof": 10, "hl_p_value": 0.0005, "used": "platt", ...},
         "groups": {"sex": {"groups": [{"group": "male", "n": 200, ...}], "left_out": [...]}},
         "method": "..."}
    """
    ref, y, cur = _check(reference_scores, reference_labels, current_scores, calibrator=calibrator,
                         n_bootstrap=n_bootstrap, confidence=confidence, min_group_count=min_group_count)
    groups = _check_groups(groups, len(cur))
    if recalibrate not in RECALIBRATE:
        raise ValueError(ERR_RECALIBRATE.format(choices=RECALIBRATE, value=recalibrate))
    decisions = (cur >= 0.5).astype(int)
    statistic, dof, p_value = hosmer_lemeshow(ref, y)
    calibrated = p_value >= CALIBRATION_ALPHA
    calibration = {
        "calibrated": bool(calibrated), "ece": expected_calibration_error(ref, y),
        "hl_statistic": statistic, "hl_dof": dof, "hl_p_value": p_value,
        "test_alpha": CALIBRATION_ALPHA, "n_reference": int(len(ref)),
    }
    raw = calibrated and recalibrate == "when_rejected"
    calibration["used"] = "raw scores" if raw else calibrator
    # The whole batch, then each group large enough to estimate: (feature, group name, rows).
    slices = [(None, None, np.ones(len(cur), dtype=bool))]
    left_out = {}
    for feature, labels in groups.items():
        labels = np.asarray([str(v) for v in labels], dtype=object)
        left_out[feature] = []
        for name in sorted(set(labels.tolist()), key=str):
            mask = labels == name
            if mask.sum() < min_group_count:
                left_out[feature].append(name)
            else:
                slices.append((feature, name, mask))
    replicates = [None] * len(slices)
    if raw:
        q = correct_probability(cur, decisions)
    else:
        fitted = fit_calibrator(ref, y, method=calibrator)
        q = correct_probability(fitted(cur), decisions)
        replicates = _bootstrap(ref, y, cur, decisions, [mask for _, _, mask in slices],
                                method=calibrator, n_bootstrap=n_bootstrap, seed=seed)
        # On the rows it was fitted on: how well the calibrator fits, not how well it generalises.
        calibration["ece_after"] = expected_calibration_error(fitted(ref), y)
    out = _summary(q, decisions, slices[0][2], replicates[0], confidence=confidence)
    out.update(confidence=float(confidence), calibration=calibration,
               n_bootstrap=0 if raw else int(n_bootstrap),
               method=("CBPE: mean probability that each decision is right, from "
                       + ("the raw scores" if raw else f"{calibrator}-calibrated scores")
                       + "; interval: normal, variance of the sum of Bernoulli(q_i) / n^2"
                       + ("" if raw else f" plus the calibrator's, from {n_bootstrap} "
                          "refits on resampled reference rows")))
    out["groups"] = {feature: {"groups": [], "left_out": names} for feature, names in left_out.items()}
    for (feature, name, mask), means in zip(slices[1:], replicates[1:]):
        out["groups"][feature]["groups"].append(
            {"group": name, **_summary(q, decisions, mask, means, confidence=confidence)})
    return out


def estimated_drop_check(estimate, *, reference_correct, reference_n, drop_max, level, min_rows):
    """The drift review's check on an unlabelled batch: has accuracy fallen by more than ``drop_max``?

    The lower bound of (reference accuracy - estimated batch accuracy) at
    ``level`` is MOVER's (checks.py): the reference side's one-sided Wilson
    bound, the batch side's one-sided normal bound from the estimate's variance.
    """
    reference = reference_correct / reference_n if reference_n else None
    out = {
        "metric": "estimated_accuracy", "n": int(estimate["n"]),
        "reference_n": None if reference_n is None else int(reference_n), "reference": reference,
        "estimate": estimate["estimate"],
        "drop": None if reference is None else reference - estimate["estimate"],
        "drop_max": float(drop_max), "level": float(level), "drop_lower_bound": None,
        "status": TESTED, "breach": False,
    }
    if reference_n is None or estimate["n"] < min_rows or reference_n < min_rows:
        out["status"] = INSUFFICIENT
        return out
    low, _ = wilson_bounds(reference_correct, reference_n, alpha=level)
    batch_gap = float(stats.norm.isf(level)) * float(np.sqrt(estimate["variance"]))
    lower = out["drop"] - float(np.sqrt((reference - float(low)) ** 2 + batch_gap ** 2))
    out.update(drop_lower_bound=lower, breach=bool(lower > drop_max))
    return out


def _summary(q, decisions, mask, means, *, confidence):
    """Estimate and interval over the rows in ``mask``; ``means``: the bootstrap's estimates there."""
    n = int(mask.sum())
    qm = q[mask]
    estimate = float(qm.mean())
    sampling = float(np.sum(qm * (1 - qm))) / n ** 2
    calibration = 0.0
    if means is not None and len(means) > 1:
        calibration = float(np.var(means, ddof=1))
    low, high = normal_interval(estimate, sampling + calibration, confidence=confidence)
    return {"estimate": estimate, "low": low, "high": high, "variance": sampling + calibration,
            "variance_sampling": sampling, "variance_calibration": calibration, "n": n,
            "selection_rate": float(decisions[mask].mean())}


def _bootstrap(ref, y, cur, decisions, masks, *, method, n_bootstrap, seed):
    """Per mask, the n_bootstrap estimates under calibrators refitted on resampled reference
    rows; only the means are kept, so memory stays at one batch's worth whatever n_bootstrap."""
    rng = np.random.default_rng(seed)
    out = [np.empty(n_bootstrap) for _ in masks]
    for b in range(n_bootstrap):
        rows = rng.integers(0, len(ref), len(ref))
        q = correct_probability(fit_calibrator(ref[rows], y[rows], method=method)(cur), decisions)
        for means, mask in zip(out, masks):
            means[b] = q[mask].mean()
    return out


def _check(reference_scores, reference_labels, current_scores, *, calibrator, n_bootstrap, confidence,
           min_group_count):
    arrays = []
    for name, values in (("reference_scores", reference_scores), ("current_scores", current_scores)):
        a = np.asarray(values, dtype=float) if values is not None else np.array([np.nan])
        if a.ndim != 1 or len(a) == 0 or not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
            raise ValueError(ERR_SCORES.format(name=name))
        arrays.append(a)
    ref, cur = arrays
    y = np.asarray(reference_labels)
    if y.ndim != 1 or len(y) != len(ref) or not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError(ERR_LABELS)
    if calibrator not in CALIBRATORS:
        raise ValueError(ERR_CALIBRATOR.format(choices=CALIBRATORS, value=calibrator))
    if (not isinstance(n_bootstrap, (int, np.integer)) or isinstance(n_bootstrap, bool)
            or not 1 <= n_bootstrap <= MAX_BOOTSTRAP):
        raise ValueError(ERR_BOOTSTRAP.format(max=MAX_BOOTSTRAP, value=n_bootstrap))
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ValueError(ERR_CONFIDENCE.format(value=confidence))
    if (not isinstance(min_group_count, (int, np.integer)) or isinstance(min_group_count, bool)
            or min_group_count < 1):
        raise ValueError(ERR_MIN_GROUP.format(value=min_group_count))
    return ref, y.astype(int), cur


def _check_groups(groups, n):
    if groups is None:
        return {}
    if not isinstance(groups, dict) or any(np.ndim(v) != 1 or len(v) != n for v in groups.values()):
        raise ValueError(ERR_GROUPS)
    return groups
