"""Tests for audits/kinds/drift/cbpe.py: the estimate, its interval, the calibration test
and the drop check by hand-computed cases; the calibrator against a known miscalibration;
coverage under covariate shift by a small seeded simulation; and the check inside the
review's error budget."""

import math

import numpy as np
import pandas as pd
import pytest

from audits.kinds.drift.cbpe import (
    ERR_BOOTSTRAP,
    ERR_CALIBRATOR,
    ERR_GROUPS,
    ERR_LABELS,
    ERR_RECALIBRATE,
    ERR_SCORES,
    correct_probability,
    estimated_drop_check,
    expected_calibration_error,
    fit_calibrator,
    hosmer_lemeshow,
    performance_estimate,
)
from audits.kinds.drift.checks import wilson_bounds
from audits.kinds.drift.probe import drift_review


def _calibrated_reference():
    """100 rows whose observed share equals the score in every block of 10 rows (H = 0):
    50 at 0.2 with 2 positives per 10, 50 at 0.6 with 6 positives per 10."""
    scores = np.repeat([0.2, 0.6], 50)
    block_02 = [1, 1] + [0] * 8
    block_06 = [1] * 6 + [0] * 4
    labels = np.array(block_02 * 5 + block_06 * 5)
    return scores, labels


def test_expected_calibration_error_hand_computed():
    # Bins of width 0.1: {0.1, 0.15} observed 1/2 against 0.125 -> |1 - 0.25| = 0.75 in sums;
    # {0.85}: |1 - 0.85| = 0.15; {0.95}: |1 - 0.95| = 0.05. ECE = (0.75 + 0.15 + 0.05) / 4.
    ece = expected_calibration_error([0.1, 0.15, 0.85, 0.95], [0, 1, 1, 1])
    assert ece == pytest.approx(0.2375)


def test_hosmer_lemeshow_hand_computed():
    # Two groups: {0.2, 0.2} with 1 positive: (1 - 0.4)^2 / 0.32 = 1.125;
    # {0.8, 0.8} with 2: (2 - 1.6)^2 / 0.32 = 0.5. H = 1.625 on 2 df: p = exp(-1.625 / 2).
    statistic, dof, p_value = hosmer_lemeshow([0.2, 0.8, 0.2, 0.8], [1, 1, 0, 1], groups=2)
    assert (statistic, dof) == (pytest.approx(1.625), 2)
    assert p_value == pytest.approx(math.exp(-1.625 / 2))


def test_the_probability_a_decision_is_right_is_the_score_for_a_one_and_its_complement_for_a_zero():
    assert correct_probability([0.9, 0.2, 0.6], [1, 0, 0]).tolist() == pytest.approx([0.9, 0.8, 0.4])


def test_calibrated_scores_are_still_passed_through_platt_scaling_by_default_which_is_near_the_identity():
    ref, y = _calibrated_reference()
    out = performance_estimate(ref, y, [0.9, 0.2, 0.6, 0.5], n_bootstrap=20)
    assert out["calibration"]["calibrated"] is True and out["calibration"]["used"] == "platt"
    # The reference's two scores are matched exactly, so the fit maps 0.2 -> 0.2 and 0.6 -> 0.6.
    assert fit_calibrator(ref, y, method="platt")(np.array([0.2, 0.6])) == pytest.approx([0.2, 0.6], abs=1e-4)
    assert out["variance_calibration"] > 0 and out["n_bootstrap"] == 20


def test_calibrated_scores_give_the_mean_of_max_p_one_minus_p_with_the_bernoulli_variance():
    ref, y = _calibrated_reference()
    # Decisions 1, 0, 1, 1; right with 0.9, 0.8, 0.6, 0.5: mean 0.7.
    # Variance of the realized accuracy: (0.09 + 0.16 + 0.24 + 0.25) / 4^2 = 0.04625.
    out = performance_estimate(ref, y, [0.9, 0.2, 0.6, 0.5], min_group_count=2, recalibrate="when_rejected",
                               groups={"sex": ["f", "f", "m", "m"]})
    assert out["calibration"]["calibrated"] is True
    assert out["calibration"]["hl_statistic"] == pytest.approx(0.0)
    assert out["calibration"]["used"] == "raw scores" and out["n_bootstrap"] == 0
    assert out["estimate"] == pytest.approx(0.7)
    assert out["variance"] == pytest.approx(0.04625) and out["variance_calibration"] == 0.0
    half = 1.959963984540054 * math.sqrt(0.04625)
    assert (out["low"], out["high"]) == (pytest.approx(0.7 - half), 1.0)  # 0.7 + half > 1: clipped
    assert out["selection_rate"] == pytest.approx(0.75)
    female, male = out["groups"]["sex"]["groups"]
    assert (female["group"], female["estimate"], female["selection_rate"]) == ("f", pytest.approx(0.85), 0.5)
    assert female["variance"] == pytest.approx((0.09 + 0.16) / 4)
    assert (male["group"], male["estimate"], male["selection_rate"]) == ("m", pytest.approx(0.55), 1.0)


def test_groups_under_the_minimum_count_are_named_not_estimated():
    ref, y = _calibrated_reference()
    out = performance_estimate(ref, y, [0.9] * 30 + [0.1] * 5, groups={"sex": ["f"] * 30 + ["m"] * 5},
                               min_group_count=30)
    assert [g["group"] for g in out["groups"]["sex"]["groups"]] == ["f"]
    assert out["groups"]["sex"]["left_out"] == ["m"]


def test_miscalibrated_scores_are_said_so_and_platt_scaling_recovers_the_true_probabilities():
    rng = np.random.default_rng(7)
    true = 1 / (1 + np.exp(-rng.normal(0, 1.5, 4000)))
    labels = (rng.random(4000) < true).astype(int)
    # Overconfident: the logit tripled. Platt's fit must find the slope 1/3 again.
    sharpen = lambda p: 1 / (1 + np.exp(-3 * np.log(p / (1 - p))))  # noqa: E731
    batch_true = 1 / (1 + np.exp(-rng.normal(0.5, 1.5, 2000)))
    out = performance_estimate(sharpen(true), labels, sharpen(batch_true), n_bootstrap=20, seed=1)
    assert out["calibration"]["calibrated"] is False and out["calibration"]["hl_p_value"] < 1e-6
    assert out["calibration"]["used"] == "platt" and out["calibration"]["ece_after"] < 0.03
    ideal = float(np.mean(np.maximum(batch_true, 1 - batch_true)))
    assert out["estimate"] == pytest.approx(ideal, abs=0.01)
    assert out["variance_calibration"] > 0 and out["n_bootstrap"] == 20
    # The raw scores would have claimed far more.
    raw = float(np.mean(np.maximum(sharpen(batch_true), 1 - sharpen(batch_true))))
    assert raw - out["estimate"] > 0.05


def test_isotonic_calibration_is_fitted_on_the_reference_only():
    scores = np.array([0.1, 0.4, 0.6, 0.9])
    calibrate = fit_calibrator(scores, np.array([0, 0, 1, 1]), method="isotonic")
    assert calibrate(np.array([0.1, 0.95])).tolist() == [0.0, 1.0]


def test_the_interval_covers_the_realized_accuracy_under_covariate_shift():
    # P(y | x) unchanged, inputs shifted: CBPE is unbiased, and the 95% interval should cover
    # the realized accuracy about 95% of the time (200 draws: binomial noise +-3 points).
    # A reference the calibration test accepts (at seed 20261202 it rejects, p = 0.049: the test
    # has its size), so the raw scores are used and the interval is the Bernoulli one alone.
    rng = np.random.default_rng(1)
    x_ref = rng.normal(0, 1, 2000)
    p_ref = 1 / (1 + np.exp(-1.5 * x_ref))
    y_ref = (rng.random(2000) < p_ref).astype(int)
    covered = 0
    for _ in range(200):
        x = rng.normal(0.8, 0.6, 400)
        p = 1 / (1 + np.exp(-1.5 * x))
        y = (rng.random(400) < p).astype(int)
        out = performance_estimate(p_ref, y_ref, p, recalibrate="when_rejected")
        assert out["calibration"]["calibrated"] is True
        covered += out["low"] <= np.mean((p >= 0.5) == y) <= out["high"]
    assert 0.90 <= covered / 200 <= 0.99


def test_the_estimated_drop_check_hand_computed():
    estimate = {"estimate": 0.60, "variance": 0.0004, "n": 400}
    check = estimated_drop_check(estimate, reference_correct=240, reference_n=300, drop_max=0.05,
                                 level=0.05, min_rows=50)
    low, _ = wilson_bounds(240, 300, alpha=0.05)
    # MOVER: 0.2 - sqrt((0.8 - low)^2 + (1.6449 * 0.02)^2).
    expected = 0.2 - math.sqrt((0.8 - float(low)) ** 2 + (1.6448536269514722 * 0.02) ** 2)
    assert check["drop_lower_bound"] == pytest.approx(expected)
    assert check["status"] == "tested" and check["breach"] is True
    small = estimated_drop_check({**estimate, "n": 40}, reference_correct=240, reference_n=300,
                                 drop_max=0.05, level=0.05, min_rows=50)
    assert small["status"] == "insufficient_data" and small["breach"] is False


def _frames(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n)}), pd.DataFrame({"x": rng.normal(size=n)})


def test_without_labels_the_estimated_drop_joins_the_reviews_budget_and_can_breach():
    reference, current = _frames()
    estimate = {"estimate": 0.60, "low": 0.56, "high": 0.64, "variance": 0.0004, "n": 200}
    review = drift_review(reference, current, numeric=["x"], categorical=[], reference_accuracy=0.8,
                          reference_accuracy_rows=300, performance_estimate=estimate)
    assert review["checks"] == 2  # the feature and the estimated accuracy
    check = review["performance_estimate"]["check"]
    assert check["level"] == pytest.approx(0.01 / 2) and check["breach"] is True
    assert review["breach"] is True and review["breaches"][-1].startswith(
        "Estimated accuracy (no labels; from the model's calibrated scores) fell from 0.800 (300 rows) "
        "to 0.600 (200 rows)")
    assert review["performance"] is None


def test_with_labels_the_estimate_is_recorded_beside_the_realized_accuracy_and_is_no_check():
    reference, current = _frames()
    labels = np.array([1, 0] * 100)
    predictions = np.where(np.arange(200) < 150, labels, 1 - labels).astype(float)  # 150 of 200 right
    estimate = {"estimate": 0.70, "low": 0.64, "high": 0.76, "variance": 0.001, "n": 200}
    review = drift_review(reference, current, numeric=["x"], categorical=[], current_predictions=predictions,
                          current_labels=labels, reference_accuracy=0.8, reference_accuracy_rows=300,
                          performance_estimate=estimate)
    recorded = review["performance_estimate"]
    assert recorded["realized"] == pytest.approx(0.75) and recorded["within_interval"] is True
    assert recorded["check"] is None and review["checks"] == 2  # the feature and the labelled accuracy


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reference_scores": [0.2, 1.2]}, ERR_SCORES.format(name="reference_scores")),
    ({"current_scores": [np.nan]}, ERR_SCORES.format(name="current_scores")),
    ({"reference_labels": [0, 2]}, ERR_LABELS),
    ({"calibrator": "beta"}, ERR_CALIBRATOR.format(choices=("platt", "isotonic"), value="beta")),
    ({"n_bootstrap": 0}, ERR_BOOTSTRAP.format(max=2000, value=0)),
    ({"recalibrate": "never"}, ERR_RECALIBRATE.format(choices=("always", "when_rejected"), value="never")),
    ({"groups": {"sex": ["f"]}}, ERR_GROUPS),
])
def test_bad_inputs_are_refused_with_a_message(kwargs, message):
    args = {"reference_scores": [0.2, 0.8], "reference_labels": [0, 1], "current_scores": [0.3, 0.7]}
    args.update(kwargs)
    with pytest.raises(ValueError) as excinfo:
        performance_estimate(args.pop("reference_scores"), args.pop("reference_labels"),
                             args.pop("current_scores"), **args)
    assert str(excinfo.value) == message
