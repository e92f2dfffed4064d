"""Mitigation outlook: what Fairlearn's post-processing and reductions would do to the disparities and
the accuracy of this model, on copies, with a recommendation."""

from __future__ import annotations

import copy
import warnings
from functools import partial

import numpy as np

from audits.kinds.fairness.probe.audit import fairness_audit
from audits.kinds.fairness.probe.counts import _num
from audits.kinds.fairness.probe.slices import _feature_columns, _slice_labels

OUTLOOK_DISPARITIES = ("demographic_parity_difference", "equalized_odds_difference")
SMALL_SLICES = "slices under the minimum size"

ERR_NO_PREDICT_PROBA = "estimator must be a fitted classifier with predict_proba"

ACCURACY_TOLERANCE = 0.05  # largest accuracy loss the recommendation accepts
MITIGATION_CAVEATS = (
    "ThresholdOptimizer uses the sensitive feature when making each decision, which "
    "some laws forbid (disparate treatment); both methods randomise some decisions; "
    "re-audit any mitigated model before deployment."
)


def mitigation_outlook(
    X_train, y_train, X_test, y_test, *, sensitive_train, sensitive_test, estimator=None, random_state=0,
    bins=None, min_slice_count=20,
) -> dict:
    """What Fairlearn mitigations would trade, on this data, against the baseline.

    Rows: the unmitigated baseline (``estimator``, or a LogisticRegression
    fitted here when None); ThresholdOptimizer (prefit, on a copy of the
    fitted estimator's predict_proba) under "demographic_parity" and
    "equalized_odds"; ExponentiatedGradient with a LogisticRegression base
    learner under DemographicParity and EqualizedOdds. A method that raises
    is reported with its error, not hidden. The given estimator is never
    changed: every method works on a deep copy.

    Groups are the fairness audit's: ``sensitive_test`` and ``sensitive_train``
    are the raw sensitive columns (as for ``fairness_audit``), binned with
    ``bins`` or, for other continuous columns, the test data's quartiles, and
    the training rows are put in the same slices. Each row's disparities are
    ``fairness_audit``'s on the test data with ``min_slice_count`` (slices
    smaller than that are left out), per feature and intersection
    (``by_view``); its ``demographic_parity_difference`` and
    ``equalized_odds_difference`` are the largest over those views, so the
    baseline row agrees with the policy checks on the same audit. The
    mitigators see one sensitive column, the intersection slice, with the
    slices under ``min_slice_count`` rows in the training or the test data
    pooled into one (``SMALL_SLICES``): a per-group threshold fitted on a
    handful of rows means nothing, and ThresholdOptimizer cannot fit a
    slice whose labels are all alike.
    """
    from sklearn.linear_model import LogisticRegression

    if estimator is None:
        estimator = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    elif not hasattr(estimator, "predict_proba"):
        raise TypeError(ERR_NO_PREDICT_PROBA)
    test_columns = _feature_columns(sensitive_test)
    audit_options = {"bins": bins, "min_slice_count": min_slice_count, "intervals": False}
    specs = fairness_audit(y_test, np.zeros(len(y_test), dtype=int), sensitive_features=test_columns,
                           **audit_options)["params"]["features"]
    s_train, s_test = _pool_small_slices(_slice_labels(_feature_columns(sensitive_train), specs),
                                         _slice_labels(test_columns, specs), min_slice_count)
    baseline = copy.deepcopy(estimator)
    test = {"y_true": y_test, "sensitive_features": test_columns, "options": audit_options}
    rows = [_mitigation_row("baseline", None, lambda: baseline.predict(X_test), test)]
    train = (X_train, y_train, s_train)
    for c in ("demographic_parity", "equalized_odds"):
        fit = partial(_threshold_optimizer, copy.deepcopy(estimator), c, train, X_test, s_test, random_state)
        rows.append(_mitigation_row("ThresholdOptimizer", c, fit, test))
    for c in ("demographic_parity", "equalized_odds"):
        fit = partial(_exponentiated_gradient, c, train, X_test, random_state)
        rows.append(_mitigation_row("ExponentiatedGradient", c, fit, test))
    return {"rows": rows, "recommendation": _recommend(rows), "caveats": MITIGATION_CAVEATS,
            "random_state": random_state, "min_slice_count": min_slice_count}


def _pool_small_slices(s_train, s_test, min_slice_count):
    labels, train_counts = np.unique(s_train, return_counts=True)
    big_train = set(labels[train_counts >= min_slice_count])
    labels, test_counts = np.unique(s_test, return_counts=True)
    big = big_train & set(labels[test_counts >= min_slice_count])
    return (np.where(np.isin(s_train, list(big)), s_train, SMALL_SLICES),
            np.where(np.isin(s_test, list(big)), s_test, SMALL_SLICES))


def _threshold_optimizer(estimator, constraint, train, X_test, s_test, random_state):
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=estimator, constraints=constraint, prefit=True, predict_method="predict_proba"
    )
    X_train, y_train, s_train = train
    optimizer.fit(X_train, y_train, sensitive_features=s_train)
    return optimizer.predict(X_test, sensitive_features=s_test, random_state=random_state)


def _exponentiated_gradient(constraint, train, X_test, random_state):
    from fairlearn.reductions import (
        DemographicParity,
        EqualizedOdds,
        ExponentiatedGradient,
    )
    from sklearn.linear_model import LogisticRegression

    moment = DemographicParity() if constraint == "demographic_parity" else EqualizedOdds()
    with warnings.catch_warnings():
        # fairlearn.reductions triggers pandas' Pandas4Warning (a DeprecationWarning)
        # under pandas 3; it is fairlearn's to fix and says nothing about this model.
        warnings.simplefilter("ignore", DeprecationWarning)
        mitigator = ExponentiatedGradient(LogisticRegression(max_iter=1000), constraints=moment)
        X_train, y_train, s_train = train
        mitigator.fit(X_train, y_train, sensitive_features=s_train)
        return mitigator.predict(X_test, random_state=random_state)


def _mitigation_row(method, constraint, predict, test):
    row = {"method": method, "constraint": constraint}
    try:
        y_pred = np.asarray(predict())
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
        return {**row, "status": "failed", "error": str(error), "accuracy": None,
                **{name: None for name in OUTLOOK_DISPARITIES}, "by_view": {}}
    y_true = np.asarray(test["y_true"])
    audit = fairness_audit(y_true, y_pred.astype(int), sensitive_features=test["sensitive_features"],
                           **test["options"])
    views = dict(audit["features"])
    if audit["intersectional"]:
        views[" & ".join(audit["intersectional"]["features"])] = audit["intersectional"]
    by_view = {name: {d: report["disparities"][d]["value"] for d in OUTLOOK_DISPARITIES}
               for name, report in views.items()}
    return {
        **row,
        "status": "ok",
        "accuracy": _num(np.mean(y_true == y_pred)),
        **{d: _largest(v[d] for v in by_view.values()) for d in OUTLOOK_DISPARITIES},
        "by_view": by_view,
    }


def _largest(values):
    defined = [v for v in values if v is not None]
    return max(defined) if defined else None


def _recommend(rows):
    def worst(row):  # an undefined disparity counts as the worst possible
        values = (row["demographic_parity_difference"], row["equalized_odds_difference"])
        return max(np.inf if v is None else v for v in values)

    base = rows[0]
    if base["status"] != "ok":
        return "The baseline could not be scored, so no mitigation can be recommended."
    floor = base["accuracy"] - ACCURACY_TOLERANCE
    candidates = [r for r in rows[1:] if r["status"] == "ok" and r["accuracy"] >= floor]
    if not candidates:
        return (f"No mitigation kept accuracy within {ACCURACY_TOLERANCE:g} of the baseline; "
                "keep the baseline and investigate the data.")
    best = min(candidates, key=worst)
    if worst(best) >= worst(base):
        return ("No mitigation reduced the larger of the two disparities; "
                "keep the baseline and investigate the data.")
    return (
        f"{best['method']} ({best['constraint']}) lowers the larger disparity from {worst(base):.3f} to "
        f"{worst(best):.3f} at an accuracy change of {best['accuracy'] - base['accuracy']:+.3f}; "
        "consider it, and re-audit before deployment."
    )
