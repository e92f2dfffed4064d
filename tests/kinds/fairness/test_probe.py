"""Tests for audits/kinds/fairness/probe/: hand-computed vectors, Fairlearn's
published example, parity with fairlearn.metrics.MetricFrame, and the policy check."""

import copy
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
from sklearn.linear_model import LogisticRegression
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, precision_score

from audits.kinds.fairness.probe import (
    DEFAULT_AGE_BINS,
    DEFAULT_THRESHOLDS,
    ERR_BINS_EDGES,
    ERR_BINS_FEATURE,
    ERR_BINS_NOT_NUMERIC,
    ERR_CONFIDENCE_LEVEL,
    ERR_FEATURES_TYPE,
    ERR_LABELS,
    ERR_LENGTH,
    ERR_MIN_SLICE_COUNT,
    ERR_INTERVALS,
    ERR_NO_FEATURES,
    ERR_RULE,
    ERR_SCORE,
    ERR_THRESHOLD_METRIC,
    ERR_THRESHOLD_SPEC,
    FOUR_FIFTHS_CITATION,
    fairness_audit,
    fairness_evaluate,
    mitigation_outlook,
)
from audits.kinds.fairness.probe.verdicts import _outcome


def group(report, label):
    return next(g for g in report["groups"] if g["group"] == label)


def values(report, label):
    return {name: m["value"] for name, m in group(report, label)["metrics"].items()}


def random_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({
        "sex": rng.choice(["female", "male"], n),
        "race": rng.choice(["asian", "black", "white"], n, p=[0.2, 0.3, 0.5]),
    })
    return rng.integers(0, 2, n), rng.integers(0, 2, n), features


# ---------------------------------------------------------------- published values

# Fairlearn user guide, "Common fairness metrics"
# (https://fairlearn.org/main/user_guide/assessment/common_fairness_metrics.html):
# demographic_parity_difference 0.25, demographic_parity_ratio 0.66666...,
# equalized_odds_difference 1.0, equalized_odds_ratio 0.0 on these arrays.
GUIDE_Y_TRUE = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
GUIDE_Y_PRED = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
GUIDE_SF = ["b", "b", "a", "b", "b", "c", "c", "c", "a", "a", "c", "a", "b", "c", "c", "b", "c", "c"]


def test_fairlearn_user_guide_example_gives_the_published_disparities():
    # Groups have 4, 6 and 8 rows, so min_slice_count=1 keeps all three in the comparison.
    result = fairness_audit(GUIDE_Y_TRUE, GUIDE_Y_PRED, sensitive_features={"sf": GUIDE_SF},
                            min_slice_count=1, intervals=False)
    disparities = result["features"]["sf"]["disparities"]
    assert disparities["demographic_parity_difference"]["value"] == pytest.approx(0.25)
    assert disparities["demographic_parity_ratio"]["value"] == pytest.approx(2 / 3)
    assert disparities["equalized_odds_difference"]["value"] == pytest.approx(1.0)
    assert disparities["equalized_odds_ratio"]["value"] == pytest.approx(0.0)
    assert disparities["demographic_parity_difference"]["ci"] is None  # intervals=False


# ---------------------------------------------------------------- parity with MetricFrame

FAIRLEARN_METRICS = {
    "count": count,
    "accuracy": accuracy_score,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "precision": precision_score,
}


def test_per_group_values_equal_metricframe_for_single_features_and_the_intersection():
    y_true, y_pred, features = random_data()
    result = fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False)
    views = [("sex", "sex"), ("race", "race"), (["sex", "race"], None)]
    for columns, name in views:
        frame = MetricFrame(metrics=FAIRLEARN_METRICS, y_true=y_true, y_pred=y_pred,
                            sensitive_features=features[columns])
        report = result["features"][name] if name else result["intersectional"]
        assert len(report["groups"]) == len(frame.by_group)
        for key, expected in frame.by_group.iterrows():
            label = key if name else f"sex={key[0]} | race={key[1]}"
            entry = group(report, label)
            assert entry["count"] == expected["count"]
            for metric in FAIRLEARN_METRICS.keys() - {"count"}:
                assert entry["metrics"][metric]["value"] == pytest.approx(expected[metric], abs=1e-12)


def test_disparities_equal_metricframe_difference_and_ratio():
    y_true, y_pred, features = random_data(seed=3)
    result = fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False)
    frame = MetricFrame(metrics=FAIRLEARN_METRICS, y_true=y_true, y_pred=y_pred,
                        sensitive_features=features["race"])
    disparities = result["features"]["race"]["disparities"]
    for metric in FAIRLEARN_METRICS.keys() - {"count"}:
        assert disparities[metric]["difference"]["value"] == pytest.approx(frame.difference()[metric], abs=1e-12)
        assert disparities[metric]["ratio"]["value"] == pytest.approx(frame.ratio()[metric], abs=1e-12)


# ---------------------------------------------------------------- hand-computed slices


def test_hand_computed_vector_with_a_tiny_slice():
    # A: y_true 1 1 1 0 0 0, y_pred 1 1 0 1 0 0 -> TP 2, FN 1, FP 1, TN 2
    #    accuracy 4/6, selection 3/6, tpr 2/3, fpr 1/3, precision 2/3
    # B: y_true 1 1 0 0 0 0, y_pred 1 0 0 0 0 0 -> TP 1, FN 1, FP 0, TN 4
    #    accuracy 5/6, selection 1/6, tpr 1/2, fpr 0, precision 1
    # C: y_true 1 0, y_pred 1 1 -> 2 rows < min_slice_count 5: insufficient
    # Disparities over A, B only: DP diff 1/2 - 1/6 = 1/3, DP ratio (1/6)/(1/2) = 1/3,
    # tpr diff 1/6, fpr diff 1/3 -> EO diff 1/3; tpr ratio 3/4, fpr ratio 0 -> EO ratio 0;
    # accuracy diff 1/6, ratio (4/6)/(5/6) = 0.8. With C (selection 1) DP diff would be 5/6.
    y_true = [1, 1, 1, 0, 0, 0] + [1, 1, 0, 0, 0, 0] + [1, 0]
    y_pred = [1, 1, 0, 1, 0, 0] + [1, 0, 0, 0, 0, 0] + [1, 1]
    sf = ["A"] * 6 + ["B"] * 6 + ["C"] * 2
    result = fairness_audit(y_true, y_pred, sensitive_features={"g": sf}, min_slice_count=5, intervals=False)
    report = result["features"]["g"]
    assert values(report, "A") == pytest.approx(
        {"accuracy": 4 / 6, "selection_rate": 0.5, "tpr": 2 / 3, "fpr": 1 / 3, "precision": 2 / 3})
    assert values(report, "B") == pytest.approx(
        {"accuracy": 5 / 6, "selection_rate": 1 / 6, "tpr": 0.5, "fpr": 0.0, "precision": 1.0})
    tiny = group(report, "C")
    assert tiny["status"] == "insufficient_data"
    assert tiny["confusion"] == {"tn": 0, "fp": 1, "fn": 0, "tp": 1}
    assert tiny["metrics"]["selection_rate"]["value"] == 1.0  # shown, though not compared
    d = report["disparities"]
    assert d["demographic_parity_difference"]["value"] == pytest.approx(1 / 3)
    assert d["demographic_parity_ratio"]["value"] == pytest.approx(1 / 3)
    assert d["equalized_odds_difference"]["value"] == pytest.approx(1 / 3)
    assert d["equalized_odds_ratio"]["value"] == pytest.approx(0.0)
    assert d["tpr"]["ratio"]["value"] == pytest.approx(0.75)
    assert d["accuracy"]["difference"]["value"] == pytest.approx(1 / 6)
    assert d["accuracy"]["ratio"]["value"] == pytest.approx(0.8)
    assert report["excluded_from_disparities"] == ["C"]
    assert result["insufficient_slices"] == [{"feature": "g", "group": "C", "count": 2}]


def test_undefined_rates_are_none_and_disparities_need_two_sufficient_groups():
    # A has no actual negatives (fpr 0/0) and B no positive predictions (precision 0/0).
    result = fairness_audit([1, 1, 0, 1], [1, 0, 0, 0], sensitive_features={"g": ["A", "A", "B", "B"]},
                            min_slice_count=1, intervals=False)
    report = result["features"]["g"]
    assert values(report, "A")["fpr"] is None
    assert values(report, "B")["precision"] is None
    assert report["disparities"]["fpr"]["difference"]["value"] is None  # only B defined
    json.dumps(result, allow_nan=False)


def test_intersection_is_omitted_for_one_feature_or_when_turned_off():
    y_true, y_pred, features = random_data(n=100)
    assert fairness_audit(y_true, y_pred, sensitive_features=features[["sex"]], intervals=False)["intersectional"] is None
    assert fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False,
                          intersectional=False)["intersectional"] is None


def test_tiny_intersection_slices_are_listed_not_dropped():
    y_true, y_pred, features = random_data(n=300)
    features.loc[:2, "race"] = "pacific"  # 3 rows: insufficient alone and in every intersection
    result = fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False)
    listed = {(s["feature"], s["group"]) for s in result["insufficient_slices"]}
    assert ("race", "pacific") in listed
    tiny = [g for g in result["intersectional"]["groups"] if g["levels"]["race"] == "pacific"]
    assert tiny and all(("sex & race", g["group"]) in listed for g in tiny)
    assert sum(g["count"] for g in result["intersectional"]["groups"]) == 300


# ---------------------------------------------------------------- binning


def test_given_age_bins_keep_out_of_range_and_missing_values_in_their_own_slices():
    age = [16, 18, 24.9, 25, 34, 35, 49, 50, 64, 65, 119, 120, 130, np.nan]
    result = fairness_audit([0] * 14, [0] * 14, sensitive_features={"age": age},
                            bins={"age": DEFAULT_AGE_BINS}, min_slice_count=1, intervals=False)
    report = result["features"]["age"]
    assert [(g["group"], g["count"]) for g in report["groups"]] == [
        ("(-inf, 18)", 1), ("[18, 25)", 2), ("[25, 35)", 2), ("[35, 50)", 2), ("[50, 65)", 2),
        ("[65, 120)", 2), ("[120, inf)", 2), ("missing", 1),
    ]
    assert result["params"]["features"]["age"] == {"type": "continuous", "binning": "given",
                                                   "bins": [18.0, 25.0, 35.0, 50.0, 65.0, 120.0]}


def test_continuous_column_defaults_to_quartile_bins_with_closed_last_interval():
    # 0..99: quartiles at 24.75, 49.5, 74.25 (numpy linear interpolation), 25 values per bin.
    x = np.arange(100)
    result = fairness_audit(np.zeros(100, int), np.zeros(100, int), sensitive_features={"x": x}, intervals=False)
    groups = result["features"]["x"]["groups"]
    assert [(g["group"], g["count"]) for g in groups] == [
        ("[0, 24.75)", 25), ("[24.75, 49.5)", 25), ("[49.5, 74.25)", 25), ("[74.25, 99]", 25)]
    assert result["params"]["features"]["x"]["binning"] == "quartiles"


def test_numeric_column_with_ten_values_stays_categorical():
    x = np.arange(100) % 10
    result = fairness_audit(np.zeros(100, int), np.zeros(100, int), sensitive_features={"x": x}, intervals=False)
    assert [g["group"] for g in result["features"]["x"]["groups"]] == [str(i) for i in range(10)]
    assert result["params"]["features"]["x"] == {"type": "categorical"}


# ---------------------------------------------------------------- four-fifths


def test_four_fifths_flags_groups_below_eighty_percent_of_the_top_rate():
    # Selection rates: X 5/10 = 0.5 (reference), Y 4/10 = 0.4 -> 0.8 exactly, not below;
    # Z 39/100 = 0.39 -> 0.78, flagged; T 0/3 -> 0.0 but only 3 rows: not judged.
    y_pred = [1] * 5 + [0] * 5 + [1] * 4 + [0] * 6 + [1] * 39 + [0] * 61 + [0] * 3
    sf = ["X"] * 10 + ["Y"] * 10 + ["Z"] * 100 + ["T"] * 3
    result = fairness_audit(np.zeros(123, int), y_pred, sensitive_features={"g": sf},
                            min_slice_count=10, intervals=False)
    ff = result["features"]["g"]["four_fifths"]
    assert ff["reference_group"] == "X"
    by = {g["group"]: g for g in ff["groups"]}
    assert by["Y"]["impact_ratio"]["value"] == pytest.approx(0.8) and by["Y"]["flagged"] is False
    assert by["Z"]["impact_ratio"]["value"] == pytest.approx(0.78) and by["Z"]["flagged"] is True
    assert by["T"]["flagged"] is None and by["T"]["status"] == "insufficient_data"
    assert ff["flagged_groups"] == ["Z"]
    assert ff["citation"] == FOUR_FIFTHS_CITATION == "29 CFR 1607.4(D)"
    assert "not a statistical test" in ff["caveats"] and "not a legal determination" in ff["caveats"]


# ---------------------------------------------------------------- calibration


def test_ece_and_reliability_points_on_a_hand_computed_case():
    # Group P: scores 0.2 0.2 0.8 0.8, labels 0 1 1 1.
    #   bin [0.2, 0.3): mean score 0.2, positives 1/2 -> gap 0.3, weight 2/4
    #   bin [0.8, 0.9): mean score 0.8, positives 2/2 -> gap 0.2, weight 2/4
    #   ECE = 0.5 * 0.3 + 0.5 * 0.2 = 0.25 (Guo et al. 2017, eq. 3, positive-class form)
    # Group Q: scores 0.3 and 1.0, labels 0 and 1: p = 0.3 falls in [0.3, 0.4), p = 1.0 in
    #   the closed last bin; ECE = 0.5 * 0.3 + 0.5 * 0 = 0.15.
    result = fairness_audit([0, 1, 1, 1, 0, 1], [0, 0, 1, 1, 0, 1], y_score=[0.2, 0.2, 0.8, 0.8, 0.3, 1.0],
                            sensitive_features={"g": ["P"] * 4 + ["Q"] * 2}, min_slice_count=1, intervals=False)
    report = result["features"]["g"]
    assert values(report, "P")["ece"] == pytest.approx(0.25)
    assert values(report, "Q")["ece"] == pytest.approx(0.15)
    assert group(report, "P")["reliability"] == [
        {"bin": "[0.2, 0.3)", "count": 2, "mean_score": pytest.approx(0.2), "fraction_positive": 0.5},
        {"bin": "[0.8, 0.9)", "count": 2, "mean_score": pytest.approx(0.8), "fraction_positive": 1.0},
    ]
    assert [p["bin"] for p in group(report, "Q")["reliability"]] == ["[0.3, 0.4)", "[0.9, 1.0]"]
    assert report["disparities"]["ece"]["difference"]["value"] == pytest.approx(0.1)


# ---------------------------------------------------------------- intervals


def test_intervals_contain_the_point_estimates_and_do_not_depend_on_the_seed():
    y_true, y_pred, features = random_data(n=800, seed=5)
    score = np.random.default_rng(5).random(800)
    kwargs = {"sensitive_features": features, "y_score": score}
    first = fairness_audit(y_true, y_pred, random_state=7, **kwargs)
    second = fairness_audit(y_true, y_pred, random_state=8, **kwargs)
    assert first["features"] == second["features"] and first["intersectional"] == second["intersectional"]
    for report in [*first["features"].values(), first["intersectional"]]:
        for g in report["groups"]:
            for metric in ("accuracy", "selection_rate", "tpr", "fpr", "precision", "ece"):
                low, high = g["metrics"][metric]["ci"]
                assert 0 <= low <= g["metrics"][metric]["value"] <= high <= 1
    json.dumps(first, allow_nan=False)


def test_a_group_rate_interval_is_the_clopper_pearson_interval():
    # scipy's binomtest(...).proportion_ci(method="exact") is the Clopper-Pearson interval,
    # computed independently of ours.
    y_pred = np.array([1] * 300 + [0] * 700)
    result = fairness_audit(np.zeros(1000, int), y_pred, sensitive_features={"g": ["a"] * 1000})
    expected = binomtest(300, 1000).proportion_ci(confidence_level=0.95, method="exact")
    ci = group(result["features"]["g"], "a")["metrics"]["selection_rate"]["ci"]
    assert ci == pytest.approx([expected.low, expected.high], abs=1e-12)


def test_equal_groups_get_a_difference_interval_from_zero_and_a_ratio_interval_to_one():
    # Two groups with the same selection rate: the estimate is 0 (difference) and 1 (ratio),
    # and the intervals start from the boundary, where percentile bootstraps of max - min did not.
    y_pred = ([1] * 40 + [0] * 60) * 2
    result = fairness_audit(np.zeros(200, int), y_pred, sensitive_features={"g": ["a"] * 100 + ["b"] * 100})
    d = result["features"]["g"]["disparities"]
    assert d["demographic_parity_difference"]["value"] == 0.0 and d["demographic_parity_difference"]["ci"][0] == 0.0
    assert d["demographic_parity_ratio"]["value"] == 1.0 and d["demographic_parity_ratio"]["ci"][1] == 1.0


def test_disparity_interval_is_built_from_bonferroni_clopper_pearson_bounds_by_hand():
    # a: 60/100 selected, b: 35/100. Difference 0.25 at 95% (2.5% per side):
    # upper = U_a - L_b at one-sided 1.25% each (only the top's U or the bottom's L can miss);
    # lower = max(0, L_a - U_b) at 2.5% / (2 * 2 groups) = 0.625% each (any of the four can).
    y_pred = [1] * 60 + [0] * 40 + [1] * 35 + [0] * 65
    result = fairness_audit(np.zeros(200, int), y_pred, sensitive_features={"g": ["a"] * 100 + ["b"] * 100})
    ci = result["features"]["g"]["disparities"]["demographic_parity_difference"]["ci"]

    def exact(x, level):
        interval = binomtest(x, 100).proportion_ci(confidence_level=level, method="exact")
        return interval.low, interval.high

    (low_a, _), (_, high_b) = exact(60, 1 - 2 * 0.025 / 4), exact(35, 1 - 2 * 0.025 / 4)
    (_, high_a), (low_b, _) = exact(60, 1 - 2 * 0.025 / 2), exact(35, 1 - 2 * 0.025 / 2)
    assert ci == pytest.approx([max(0.0, low_a - high_b), high_a - low_b], abs=1e-12)


def test_intervals_false_turns_intervals_off():
    y_true, y_pred, features = random_data(n=200)
    result = fairness_audit(y_true, y_pred, sensitive_features=features, intervals=False)
    assert result["params"]["interval"] is None
    assert result["features"]["sex"]["disparities"]["demographic_parity_difference"]["ci"] is None
    assert all(g["metrics"]["accuracy"]["ci"] is None for g in result["features"]["sex"]["groups"])


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize("y_true, y_pred, name, found", [
    ([0, 2, 1], [0, 1, 1], "y_true", "2"),
    ([0, 1, 1], ["no", "yes", "yes"], "y_pred", "'no', 'yes'"),
    ([0, 1, np.nan], [0, 1, 1], "y_true", "nan"),
])
def test_non_binary_labels_are_rejected(y_true, y_pred, name, found):
    with pytest.raises(ValueError, match=re.escape(ERR_LABELS.format(name=name, found=found))):
        fairness_audit(y_true, y_pred, sensitive_features={"g": ["a", "b", "c"]})


@pytest.mark.parametrize("kwargs, message", [
    ({"y_pred": [0, 1]}, ERR_LENGTH.format(n=3, name="y_pred", m=2)),
    ({"sensitive_features": {"g": ["a", "b"]}}, ERR_LENGTH.format(n=3, name="sensitive feature 'g'", m=2)),
    ({"y_score": [0.1, 0.2]}, ERR_LENGTH.format(n=3, name="y_score", m=2)),
    ({"y_score": [0.1, 1.2, 0.3]}, ERR_SCORE),
    ({"y_score": [0.1, np.nan, 0.3]}, ERR_SCORE),
    ({"sensitive_features": {}}, ERR_NO_FEATURES),
    ({"bins": {"age": [18, 30]}}, ERR_BINS_FEATURE.format(name="age", names="g")),
    ({"bins": {"g": [18, 30]}}, ERR_BINS_NOT_NUMERIC.format(name="g")),
    ({"sensitive_features": {"g": [20, 30, 40]}, "bins": {"g": [30, 18]}}, ERR_BINS_EDGES.format(name="g")),
    ({"min_slice_count": 0}, ERR_MIN_SLICE_COUNT),
    ({"intervals": 1}, ERR_INTERVALS),
    ({"confidence_level": 1.0}, ERR_CONFIDENCE_LEVEL),
])
def test_bad_inputs_raise_with_the_message_constants(kwargs, message):
    args = {"y_pred": [0, 1, 1], "sensitive_features": {"g": ["a", "b", "c"]}, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        fairness_audit([0, 1, 0], args.pop("y_pred"), **args)


def test_sensitive_features_of_an_unknown_type_are_rejected():
    with pytest.raises(TypeError, match=re.escape(ERR_FEATURES_TYPE)):
        fairness_audit([0, 1], [0, 1], sensitive_features=["a", "b"])


# ---------------------------------------------------------------- policy check


def crafted_result(value, ci):
    entry = {"value": value, "ci": ci}
    disparities = {name: entry for name in DEFAULT_THRESHOLDS}
    return {"features": {"sex": {"disparities": disparities}}, "intersectional": None,
            "params": {"confidence_level": 0.95}}


@pytest.mark.parametrize("operator, value, ci, outcome", [
    ("<=", 0.05, [0.02, 0.08], "pass"),
    ("<=", 0.08, [0.05, 0.10], "pass"),  # upper bound on the limit
    ("<=", 0.15, [0.12, 0.20], "fail"),
    ("<=", 0.09, [0.05, 0.15], "inconclusive"),
    ("<=", 0.10, [0.10, 0.15], "inconclusive"),  # lower bound on the limit: not above it
    (">=", 0.90, [0.85, 0.95], "pass"),
    (">=", 0.70, [0.60, 0.75], "fail"),
    (">=", 0.82, [0.70, 0.90], "inconclusive"),
    (">=", None, None, "inconclusive"),
])
def test_interval_rule_outcomes(operator, value, ci, outcome):
    # The decision rule alone, on given intervals; the intervals themselves are tested in test_intervals.py.
    threshold = 0.1 if operator == "<=" else 0.8
    assert _outcome(value, ci, operator, threshold, "interval") == outcome


def test_interval_rule_checks_name_their_interval_and_explain_it_in_one_sentence():
    y_true, y_pred, features = random_data(n=600, seed=4)
    checks = fairness_evaluate(fairness_audit(y_true, y_pred, sensitive_features=features),
                               thresholds=DEFAULT_THRESHOLDS)
    for check in checks:
        low, high = check["ci"]
        assert low <= check["value"] <= high
        assert check["operator"] == ("<=" if "max" in DEFAULT_THRESHOLDS[check["metric"]] else ">=")
        assert check["explanation"].endswith(".") and check["explanation"].count(". ") == 0
        assert "over its 9 checks" in check["explanation"]


@pytest.mark.parametrize("value, outcome", [(0.09, "pass"), (0.11, "fail")])
def test_point_rule_ignores_the_interval(value, outcome):
    checks = fairness_evaluate(crafted_result(value, [0.0, 0.5]),
                               thresholds={"demographic_parity_difference": {"max": 0.1}}, rule="point")
    assert checks[0]["outcome"] == outcome


def test_interval_rule_without_an_interval_is_inconclusive():
    checks = fairness_evaluate(crafted_result(0.01, None), thresholds={"equalized_odds_difference": {"max": 0.2}})
    assert checks[0]["outcome"] == "inconclusive"
    assert "no confidence interval" in checks[0]["explanation"]


def test_evaluate_covers_each_feature_and_the_intersection():
    y_true, y_pred, features = random_data(n=300)
    result = fairness_audit(y_true, y_pred, sensitive_features=features, intervals=True)
    checks = fairness_evaluate(result, thresholds=DEFAULT_THRESHOLDS)
    assert {(c["metric"], c["feature"]) for c in checks} == {
        (m, f) for m in DEFAULT_THRESHOLDS for f in ("sex", "race", "sex & race")}
    json.dumps(checks, allow_nan=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "mean"}, ERR_RULE),
    ({"thresholds": {"dp": {"max": 0.1}}}, ERR_THRESHOLD_METRIC.format(metric="dp", accepted="")[:-1]),
    ({"thresholds": {"demographic_parity_ratio": {"max": 1, "min": 0.8}}},
     ERR_THRESHOLD_SPEC.format(metric="demographic_parity_ratio")),
    ({"thresholds": {"demographic_parity_ratio": {"above": 0.8}}},
     ERR_THRESHOLD_SPEC.format(metric="demographic_parity_ratio")),
])
def test_bad_policies_raise_with_the_message_constants(kwargs, message):
    args = {"thresholds": DEFAULT_THRESHOLDS, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        fairness_evaluate(crafted_result(0.05, [0.0, 0.1]), **args)


# ---------------------------------------------------------------- mitigation outlook


def test_mitigation_outlook_reports_every_method_and_leaves_the_estimator_alone():
    rng = np.random.default_rng(0)
    n = 240
    sex = rng.choice(["female", "male"], n)
    X = np.c_[rng.normal(size=n) + (sex == "male"), rng.normal(size=n)]
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    estimator = LogisticRegression().fit(X[:120], y[:120])
    before = copy.deepcopy(estimator)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outlook = mitigation_outlook(X[:120], y[:120], X[120:], y[120:], sensitive_train={"sex": sex[:120]},
                                     sensitive_test={"sex": sex[120:]}, estimator=estimator)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert [(r["method"], r["constraint"]) for r in outlook["rows"]] == [
        ("baseline", None),
        ("ThresholdOptimizer", "demographic_parity"), ("ThresholdOptimizer", "equalized_odds"),
        ("ExponentiatedGradient", "demographic_parity"), ("ExponentiatedGradient", "equalized_odds"),
    ]
    for row in outlook["rows"]:
        assert row["status"] == "ok" and 0 <= row["accuracy"] <= 1
        assert 0 <= row["demographic_parity_difference"] <= 1 and 0 <= row["equalized_odds_difference"] <= 1
    assert isinstance(outlook["recommendation"], str) and outlook["recommendation"]
    np.testing.assert_array_equal(estimator.coef_, before.coef_)
    np.testing.assert_array_equal(estimator.intercept_, before.intercept_)
    assert estimator.get_params() == before.get_params()
    json.dumps(outlook, allow_nan=False)


def test_mitigation_outlook_baseline_uses_the_policy_checks_groups_and_minimum_size():
    # A continuous column (age, 40 distinct values) and a 3-row group: counted per distinct
    # value and without a minimum (the old outlook), nearly every slice held one row and the
    # disparities came out 1.000. Binned like the audit and without the tiny group, the
    # baseline equals fairness_audit's disparities on the same predictions.
    rng = np.random.default_rng(3)
    n = 400
    sensitive = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "age": rng.integers(20, 60, n)})
    sensitive.loc[:2, "sex"] = "other"
    X = np.c_[rng.normal(size=n) + (sensitive["sex"] == "male"), rng.normal(size=n)]
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    train, test = slice(0, 200), slice(200, n)
    estimator = LogisticRegression().fit(X[train], y[train])
    bins = {"age": DEFAULT_AGE_BINS}
    outlook = mitigation_outlook(X[train], y[train], X[test], y[test], estimator=estimator, bins=bins,
                                 sensitive_train=sensitive[train].reset_index(drop=True),
                                 sensitive_test=sensitive[test].reset_index(drop=True))
    audit = fairness_audit(y[test], estimator.predict(X[test]), sensitive_features=sensitive[test], bins=bins)
    baseline = outlook["rows"][0]
    for view, report in [*audit["features"].items(), ("sex & age", audit["intersectional"])]:
        for metric in ("demographic_parity_difference", "equalized_odds_difference"):
            assert baseline["by_view"][view][metric] == report["disparities"][metric]["value"]
    assert baseline["equalized_odds_difference"] == max(
        v["equalized_odds_difference"] for v in baseline["by_view"].values() if v["equalized_odds_difference"] is not None)
    assert baseline["demographic_parity_difference"] < 0.5
    # The 3-row group is pooled with the other small slices, so ThresholdOptimizer can fit.
    assert [r["status"] for r in outlook["rows"]] == ["ok"] * 5
    json.dumps(outlook, allow_nan=False)
