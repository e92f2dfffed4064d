"""Tests for audits/kinds/drift/probe.py.

Reference values: scipy.stats.ks_2samp, scipy.stats.wasserstein_distance,
scipy.spatial.distance.jensenshannon (base 2), scipy.stats.false_discovery_control,
and hand arithmetic written out beside each hand-computed case.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from audits.kinds.drift import probe as drift
from audits.kinds.drift.probe import (
    adjust_pvalues,
    binned_proportions,
    categorical_drift,
    drift_review,
    is_drifted,
    ks_pvalue,
    ks_statistic_sorted,
    psi_band,
    psi_from_proportions,
    quantile_edges,
    wasserstein_sorted,
)


def _samples(case):
    """Random pairs: small (scipy's exact KS path) and large (asymptotic path),
    equal and unequal sizes, continuous and heavily tied values."""
    n, m, decimals, seed = case
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, n)
    b = rng.normal(0.3, 1.5, m)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    return a, b


SAMPLE_CASES = [
    (1, 1, None, 0),
    (5, 7, None, 1),
    (40, 40, 0, 2),  # only a handful of distinct values: ties everywhere
    (300, 117, 1, 3),
    (2_000, 2_000, None, 4),
    (12_000, 15_000, 1, 5),  # above scipy's exact limit of 10,000
    (20_000, 11_000, None, 6),
]


@pytest.mark.parametrize("case", SAMPLE_CASES)
def test_ks_statistic_and_pvalue_equal_scipy(case):
    a, b = _samples(case)
    expected = stats.ks_2samp(a, b)
    statistic = ks_statistic_sorted(np.sort(a), np.sort(b))
    assert statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert ks_pvalue(statistic, np.sort(a), np.sort(b)) == pytest.approx(
        expected.pvalue, abs=1e-9)


@pytest.mark.parametrize("case", SAMPLE_CASES)
def test_wasserstein_equals_scipy(case):
    a, b = _samples(case)
    expected = stats.wasserstein_distance(a, b)
    assert wasserstein_sorted(np.sort(a), np.sort(b)) == pytest.approx(expected, abs=1e-9)


def test_identical_samples_have_zero_ks_and_wasserstein():
    a = np.sort(np.array([1.0, 2.0, 2.0, 3.0]))
    assert ks_statistic_sorted(a, a) == 0.0
    assert wasserstein_sorted(a, a) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_js_distance_equals_scipy_base_2(seed):
    rng = np.random.default_rng(seed)
    ref = pd.Series(rng.choice(list("abcd"), 500, p=[0.4, 0.3, 0.2, 0.1]))
    cur = pd.Series(rng.choice(list("abcde"), 300, p=[0.1, 0.2, 0.3, 0.3, 0.1]))
    names = ["a", "b", "c", "d", "e"]
    p = ref.value_counts().reindex(names, fill_value=0).to_numpy() / len(ref)
    q = cur.value_counts().reindex(names, fill_value=0).to_numpy() / len(cur)
    result = categorical_drift(ref, cur)
    assert result["js_distance"] == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)


def test_psi_hand_computed_on_reference_median_bins():
    # Reference 0..9, psi_bins=2: the one inner edge is the observed median 4
    # (smallest value with ECDF >= 0.5), so the bins are (-inf, 4] and (4, inf)
    # with reference proportions 0.5, 0.5.
    # The batch puts 8 of 10 values in the low bin: 0.8, 0.2. With eps = 1e-4:
    #   (0.8 - 0.5) * ln(0.8001 / 0.5001) = 0.3 * 0.469929 = 0.140979
    #   (0.2 - 0.5) * ln(0.2001 / 0.5001) = -0.3 * -0.915991 = 0.274797
    #   PSI = 0.415776
    reference = pd.DataFrame({"x": np.arange(10.0)})
    current = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 0, 1, 2, 8, 9]})
    result = drift_review(reference, current, numeric=["x"], categorical=[], psi_bins=2)
    feature = result["features"][0]
    assert feature["overlay"]["edges"] == [4.0]
    assert feature["overlay"]["reference"] == [0.5, 0.5]
    assert feature["overlay"]["current"] == [0.8, 0.2]
    assert feature["psi"] == pytest.approx(0.4157758434799172, abs=1e-12)
    assert feature["psi_band"] == "major"


def test_psi_stays_finite_when_a_batch_bin_is_empty():
    # Batch all in the low bin: 1.0, 0.0 against 0.5, 0.5.
    #   0.5 * ln(1.0001 / 0.5001) = 0.5 * 0.693047 = 0.346524
    #   -0.5 * ln(0.0001 / 0.5001) = -0.5 * -8.517393 = 4.258697
    #   PSI = 4.605220
    assert psi_from_proportions([0.5, 0.5], [1.0, 0.0]) == pytest.approx(
        4.6052201834882585, abs=1e-12)


def test_quantile_edges_deduplicate_and_outer_bins_catch_out_of_range_values():
    # A 0/1 feature, 70% zeros: deciles 0.1..0.7 are 0, 0.8..0.9 are 1; two edges remain.
    reference = np.sort(np.array([0.0] * 7 + [1.0] * 3))
    edges = quantile_edges(reference, bins=10)
    assert edges.tolist() == [0.0, 1.0]
    # -5 lands in (-inf, 0], 0.5 in (0, 1], 7 in (1, inf).
    assert binned_proportions(np.array([-5.0, 0.5, 7.0, 7.0]), edges).tolist() == [
        0.25, 0.25, 0.5]


def test_chi2_contingency_hand_computed():
    # Table [[30, 70], [50, 50]]: column totals 80, 120; expected 40, 60 per row.
    # chi2 = 100/40 + 100/60 + 100/40 + 100/60 = 8.3333, dof 1,
    # p = chi2.sf(8.3333, 1) = 0.0038924.
    ref = pd.Series(["a"] * 30 + ["b"] * 70)
    cur = pd.Series(["a"] * 50 + ["b"] * 50)
    result = categorical_drift(ref, cur)
    assert result["chi2_statistic"] == pytest.approx(25 / 3, abs=1e-12)
    assert result["dof"] == 1
    assert result["p_value"] == pytest.approx(0.003892417122778637, abs=1e-12)


def test_unseen_categories_are_reported_by_name():
    reference = pd.DataFrame({"colour": ["red", "blue"] * 50})
    current = pd.DataFrame({"colour": ["red"] * 80 + ["green"] * 15 + ["mauve"] * 5})
    result = drift_review(reference, current, numeric=[], categorical=["colour"])
    feature = result["features"][0]
    assert feature["unseen_categories"] == ["green", "mauve"]
    assert feature["overlay"]["categories"] == ["red", "blue", "green", "mauve"]
    assert feature["overlay"]["current"] == [0.8, 0.0, 0.15, 0.05]
    assert "unseen categories: 'green', 'mauve'" in result["breaches"][0]


def test_category_dtype_ignores_unused_categories_and_names_are_text():
    dtype = pd.CategoricalDtype(["a", "b", "never"])
    ref = pd.Series(["a", "b", "a", "b"], dtype=dtype)
    cur = pd.Series(["a", "a", "a", "b"], dtype=dtype)
    result = categorical_drift(ref, cur)
    assert result["overlay"]["categories"] == ["a", "b"]
    assert result["dof"] == 1
    numbers = categorical_drift(pd.Series([1, 2, 2]), pd.Series([2, 3]))
    assert numbers["unseen_categories"] == ["3"]


def test_overlay_of_many_categories_keeps_the_largest_and_sums_the_rest():
    reference = pd.DataFrame({"id": [f"c{i}" for i in range(100)]})
    result = drift_review(reference, reference, numeric=[], categorical=["id"])
    overlay = result["features"][0]["overlay"]
    assert len(overlay["categories"]) == drift.OVERLAY_MAX_CATEGORIES
    assert overlay["categories"][-1] == drift.OVERLAY_OTHER
    assert sum(overlay["reference"]) == pytest.approx(1.0)
    assert overlay["reference"][-1] == pytest.approx(71 / 100)


def test_benjamini_hochberg_hand_computed_and_equal_to_scipy():
    # p sorted: 0.01, 0.03, 0.04, 0.20 (m = 4); times m / rank:
    # 0.04, 0.06, 0.05333, 0.20; running minimum from the largest rank down:
    # 0.04, 0.05333, 0.05333, 0.20. Back in input order:
    p = [0.01, 0.04, 0.03, 0.20]
    expected = [0.04, 0.16 / 3, 0.16 / 3, 0.20]
    assert adjust_pvalues(p) == pytest.approx(expected, abs=1e-12)
    rng = np.random.default_rng(0)
    many = rng.uniform(0, 0.2, 25)
    assert adjust_pvalues(many) == pytest.approx(
        stats.false_discovery_control(many, method="bh").tolist(), abs=1e-12)


def test_bonferroni_hand_computed_and_capped_at_one():
    # m = 4: 0.01*4, 0.04*4, 0.03*4, min(0.30*4, 1).
    assert adjust_pvalues([0.01, 0.04, 0.03, 0.30], method="bonferroni") == pytest.approx(
        [0.04, 0.16, 0.12, 1.0], abs=1e-12)


@pytest.mark.parametrize(
    ("psi", "p_adjusted", "drifted"),
    [
        (0.05, 1e-9, False),  # significant but stable: a tiny shift in a big batch
        (0.12, 1e-9, True),  # significant and moderate
        (0.12, 0.20, False),  # moderate but not significant
        (0.30, 0.90, True),  # major needs no test
        (None, None, False),  # no batch values: reported elsewhere
    ],
)
def test_decision_rule(psi, p_adjusted, drifted):
    assert is_drifted(psi, p_adjusted, alpha=0.05, psi_bands=(0.1, 0.25)) is drifted


@pytest.mark.parametrize(("psi", "band"), [(0.0, "stable"), (0.1, "moderate"),
                                           (0.2499, "moderate"), (0.25, "major")])
def test_psi_bands(psi, band):
    assert psi_band(psi) == band


def _mixed_frame(rng, n, *, shift):
    return pd.DataFrame({
        "age": np.round(rng.normal(40 + 8 * shift, 12, n)),
        "income": rng.lognormal(10 + shift, 0.5, n),
        "score": rng.uniform(0, 1, n),
        "region": rng.choice(["north", "south", "east", "west"], n,
                             p=[0.4 - 0.3 * shift, 0.3, 0.2, 0.1 + 0.3 * shift]),
    })


def test_shifted_batch_breaches_and_identical_batch_does_not():
    rng = np.random.default_rng(42)
    reference = _mixed_frame(rng, 5_000, shift=0.0)
    same = _mixed_frame(rng, 3_000, shift=0.0)
    shifted = _mixed_frame(rng, 3_000, shift=1.0)
    options = {"numeric": ["age", "income", "score"], "categorical": ["region"]}

    calm = drift_review(reference, same, **options)
    assert calm["breach"] is False and calm["breaches"] == []
    assert [f["psi_band"] for f in calm["features"]] == ["stable"] * 4

    moved = drift_review(reference, shifted, **options)
    assert moved["breach"] is True
    assert {f["name"]: f["drifted"] for f in moved["features"]} == {
        "age": True, "income": True, "score": False, "region": True}
    json.dumps(moved, allow_nan=False)


def test_review_reports_raw_and_adjusted_pvalues():
    rng = np.random.default_rng(1)
    reference = _mixed_frame(rng, 500, shift=0.0)
    current = _mixed_frame(rng, 400, shift=0.2)
    options = {"numeric": ["age", "income", "score"], "categorical": ["region"]}
    for correction in drift.CORRECTIONS:
        result = drift_review(reference, current, correction=correction, **options)
        raw = [f["p_value"] for f in result["features"]]
        assert [f["p_value_adjusted"] for f in result["features"]] == pytest.approx(
            adjust_pvalues(raw, method=correction))
        assert result["params"]["correction"] == correction


def test_missing_values_are_left_out_and_an_empty_batch_column_breaches():
    reference = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", None, "b", "a"]})
    current = pd.DataFrame({"x": [np.nan, np.inf, np.nan, np.nan], "c": ["a", "b", "b", None]})
    result = drift_review(reference, current, numeric=["x"], categorical=["c"])
    x, c = result["features"]
    assert (x["n_reference"], x["missing_reference"]) == (3, 0.25)
    assert (x["n_current"], x["missing_current"]) == (0, 1.0)
    assert x["psi"] is None and x["p_value_adjusted"] is None and x["drifted"] is False
    assert (c["n_current"], c["missing_current"]) == (3, 0.25)
    assert result["breaches"][0] == "Feature 'x' has no values in the batch."
    json.dumps(result, allow_nan=False)


def test_prediction_drift_uses_numeric_path_for_probabilities_and_categorical_for_labels():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=200)})
    scores = drift_review(frame, frame, numeric=["x"], categorical=[],
                          reference_predictions=rng.uniform(size=200),
                          current_predictions=rng.uniform(size=200) ** 3)
    assert scores["prediction"]["kind"] == "numeric"
    assert scores["prediction"]["drifted"] is True
    assert scores["breaches"][0].startswith("Predictions drifted: PSI ")
    labels = drift_review(frame, frame, numeric=["x"], categorical=[],
                          reference_predictions=np.array([0, 1] * 100),
                          current_predictions=np.array([0, 1] * 100))
    assert labels["prediction"]["kind"] == "categorical"
    assert labels["prediction"]["psi"] == 0.0 and labels["breach"] is False


def test_performance_decay_thresholds_probabilities_and_flags_the_drop():
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    # Probabilities >= 0.5 predict 1: predictions 1, 0, 1, 1 against labels 1, 0, 0, 0
    # give accuracy 2/4 = 0.5; the audited 0.8 minus 0.5 is a 0.3 drop > 0.05.
    result = drift_review(frame, frame, numeric=["x"], categorical=[],
                          current_predictions=np.array([0.9, 0.2, 0.5, 0.7]),
                          current_labels=[1, 0, 0, 0], reference_accuracy=0.8)
    assert result["performance"] == {
        "metric": "accuracy", "n": 4, "reference": 0.8, "current": 0.5,
        "drop": pytest.approx(0.3), "drop_max": 0.05, "breach": True}
    assert result["breaches"] == [
        "Accuracy fell from 0.800 to 0.500 (drop 0.300 > allowed 0.050)."]


def test_fairness_drift_reports_change_per_metric():
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    result = drift_review(frame, frame, numeric=["x"], categorical=[], fairness_drift={
        "audited": {"demographic_parity_difference": 0.02, "equalized_odds_difference": 0.10},
        "current": {"demographic_parity_difference": 0.09, "equalized_odds_difference": 0.11},
        "max_increase": 0.05,
    })
    dpd, eod = result["fairness"]["metrics"]
    assert dpd["change"] == pytest.approx(0.07) and dpd["breach"] is True
    assert eod["change"] == pytest.approx(0.01) and eod["breach"] is False
    assert result["breaches"] == [
        "Fairness metric 'demographic_parity_difference' rose from 0.020 to 0.090 "
        "(+0.070 > allowed 0.050)."]


FRAME = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"], "s": ["u", "v"]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numeric": [], "categorical": []}, drift.ERR_NO_FEATURES),
        ({"numeric": ["nope"], "categorical": []},
         drift.ERR_MISSING_COLUMN.format(column="nope", name="reference")),
        ({"numeric": ["x"], "categorical": ["x"]}, drift.ERR_OVERLAP.format(columns="x")),
        ({"numeric": ["x", "x"], "categorical": []},
         drift.ERR_DUPLICATE_COLUMN.format(column="x")),
        ({"numeric": ["s"], "categorical": []}, drift.ERR_NOT_NUMERIC.format(column="s")),
        ({"psi_bins": 1}, drift.ERR_PSI_BINS.format(value=1)),
        ({"alpha": 1.0}, drift.ERR_ALPHA.format(value=1.0)),
        ({"correction": "holm"},
         drift.ERR_CORRECTION.format(choices=drift.CORRECTIONS, value="holm")),
        ({"psi_bands": (0.3, 0.2)}, drift.ERR_PSI_BANDS.format(value=(0.3, 0.2))),
        ({"performance_drop_max": -1}, drift.ERR_DROP_MAX.format(value=-1)),
        ({"reference_predictions": [0.1, 0.2]}, drift.ERR_PREDICTIONS_PAIR),
        ({"current_predictions": [[0.1], [0.2]]},
         drift.ERR_PREDICTIONS_1D.format(name="current_predictions")),
        ({"current_labels": [1, 0]}, drift.ERR_LABELS_NEED_PREDICTIONS),
        ({"current_labels": [1], "current_predictions": [1, 0]},
         drift.ERR_LABELS_LENGTH.format(n_labels=1, n_predictions=2)),
        ({"reference_accuracy": 1.5}, drift.ERR_REFERENCE_ACCURACY.format(value=1.5)),
        ({"fairness_drift": {"audited": {"dpd": "high"}, "current": {}}}, drift.ERR_FAIRNESS),
    ],
)
def test_bad_options_raise_with_a_message_naming_the_option(kwargs, message):
    options = {"numeric": ["x"], "categorical": ["c"], **kwargs}
    with pytest.raises(ValueError) as excinfo:
        drift_review(FRAME, FRAME, **options)
    assert str(excinfo.value) == message


def test_a_reference_column_without_values_is_refused():
    reference = pd.DataFrame({"x": [np.nan, np.nan]})
    current = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError) as excinfo:
        drift_review(reference, current, numeric=["x"], categorical=[])
    assert str(excinfo.value) == drift.ERR_EMPTY_REFERENCE.format(column="x")


def test_non_dataframe_input_is_refused():
    with pytest.raises(TypeError, match="^reference must be a pandas DataFrame.$"):
        drift_review([[1.0]], FRAME, numeric=["x"], categorical=[])


def test_results_are_plain_python_types():
    rng = np.random.default_rng(7)
    reference = _mixed_frame(rng, 300, shift=0.0)
    current = _mixed_frame(rng, 200, shift=0.5)
    result = drift_review(reference, current, numeric=["age", "income", "score"],
                          categorical=["region"], reference_predictions=rng.uniform(size=300),
                          current_predictions=rng.uniform(size=200),
                          current_labels=rng.integers(0, 2, 200), reference_accuracy=0.7)
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    assert math.isfinite(result["features"][0]["psi"])
