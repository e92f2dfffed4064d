"""Tests for audits/kinds/data_quality/probe.py.

Hand-made frames for the counting checks; planted duplicates, a planted
label-copy feature and planted flipped labels for the search checks. The
label-error rule is Northcutt, Jiang & Chuang, "Confident Learning", JAIR 70
(2021), section 3 (per-class thresholds = mean self-confidence).
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits.kinds.data_quality import probe as dq
from audits.kinds.data_quality.probe import (
    check_class_imbalance,
    check_constant_columns,
    check_duplicate_rows,
    check_label_errors,
    check_missing_values,
    check_representation,
    check_single_feature_leakage,
    check_split_leakage,
    confident_learning,
    data_quality_report,
)

CHECK_NAMES = ["missing_values", "constant_columns", "duplicate_rows", "class_imbalance",
               "representation", "split_leakage", "single_feature_leakage", "label_errors"]

TINY = pd.DataFrame({
    "a": [1.0, 2.0, np.nan, 4.0, 1.0],
    "b": [7, 7, 7, 7, 7],
    "c": ["x", "y", "y", None, "x"],
    "y": [0, 1, 1, 0, 0],
})


def test_missing_values_count_and_fraction_per_column():
    check = check_missing_values(TINY, None, columns=["a", "b", "c", "y"], label_column="y")
    # a and c each miss 1 of 5 values: 0.2; below the 0.5 fail share, so a warning.
    assert check["status"] == "warn" and check["count"] == 2
    assert check["detail"]["train"]["a"] == {"count": 1, "fraction": 0.2}
    assert check["detail"]["train"]["b"] == {"count": 0, "fraction": 0.0}
    assert [e["column"] for e in check["examples"]] == ["a", "c"]


def test_missing_labels_fail():
    frame = TINY.assign(y=[0, None, 1, 0, 0])
    check = check_missing_values(frame, None, columns=["a", "y"], label_column="y")
    assert check["status"] == "fail"
    assert check["explanation"] == "2 column(s) have missing values, including 1 missing label(s)."


def test_constant_columns_are_named():
    check = check_constant_columns(TINY, columns=["a", "b", "c"])
    assert (check["status"], check["count"], check["examples"]) == ("warn", 1, ["b"])


def test_duplicate_rows_give_first_and_repeated_positions():
    # Rows 0 and 4 are equal in every column (1.0, 7, "x", 0).
    frame = TINY.set_index(pd.Index([10, 11, 12, 13, 14]))  # positions, not labels
    check = check_duplicate_rows(frame, columns=["a", "b", "c", "y"], label_column="y")
    assert check["status"] == "warn" and check["count"] == 1
    assert check["examples"] == [[0, 4]]
    assert check["detail"]["conflicting_label_groups"] == 0


def test_equal_features_with_different_labels_are_counted_as_conflicts():
    frame = pd.DataFrame({"a": [1, 1, 2], "y": [0, 1, 0]})
    check = check_duplicate_rows(frame, columns=["a", "y"], label_column="y")
    assert check["count"] == 0 and check["detail"]["conflicting_label_groups"] == 1
    assert check["status"] == "warn"


def test_class_imbalance_hand_computed():
    # 90 of class 0, 10 of class 1: minority share 0.1, ratio 9 > 4 warns.
    check = check_class_imbalance(pd.Series([0] * 90 + [1] * 10))
    assert check["detail"] == {"counts": {"0": 90, "1": 10}, "minority_share": 0.1,
                               "imbalance_ratio": 9.0}
    assert check["status"] == "warn"
    assert check_class_imbalance(pd.Series(["a"] * 5))["status"] == "fail"


def test_representation_against_declared_shares_hand_computed():
    # 30 female, 70 male against 0.5 / 0.5: expected 50 each,
    # chi2 = (30-50)^2/50 + (70-50)^2/50 = 8 + 8 = 16, dof 1, p = chi2.sf(16, 1) = 6.334e-5.
    # Gaps -0.2 / +0.2 >= 0.05 and p < 0.05: warn; 0.3 >= half of 0.5, so not a fail.
    train = pd.DataFrame({"sex": ["female"] * 30 + ["male"] * 70})
    check = check_representation(train, columns=["sex"],
                                 population_shares={"sex": {"female": 0.5, "male": 0.5}})
    sex = check["detail"]["sex"]
    assert sex["chi2_statistic"] == pytest.approx(16.0, abs=1e-12)
    assert sex["p_value"] == pytest.approx(6.334248366623988e-05, rel=1e-9)
    assert check["status"] == "warn" and check["count"] == 2
    assert check["examples"][0]["group"] == "female"
    assert check["examples"][0]["difference"] == pytest.approx(-0.2)


def test_representation_fails_when_a_group_has_under_half_its_share():
    # 20% female against a reference with 50%: 0.2 < 0.5 * 0.5.
    train = pd.DataFrame({"sex": ["female"] * 20 + ["male"] * 80})
    reference = pd.DataFrame({"sex": ["female", "male"] * 50})
    check = check_representation(train, columns=["sex"], reference=reference)
    assert check["status"] == "fail"
    assert check["detail"]["sex"]["groups"][0]["under_represented"] is True


def test_representation_names_groups_and_columns_the_shares_leave_out():
    train = pd.DataFrame({"sex": ["female", "male", "other", "male"],
                          "age_band": ["young", "old", "old", "old"]})
    check = check_representation(train, columns=["sex", "age_band"],
                                 population_shares={"sex": {"female": 0.5, "male": 0.5}})
    assert check["detail"]["sex"]["undeclared_groups"] == ["other"]
    assert check["detail"]["age_band"]["skipped"] == "no expected shares"
    assert check["status"] == "warn"


def test_representation_without_yardstick_warns_and_without_columns_is_skipped():
    train = pd.DataFrame({"sex": ["female", "male", "male", "male"]})
    check = check_representation(train, columns=["sex"])
    assert check["status"] == "warn"
    assert check["detail"]["observed"] == {"sex": {"male": 0.75, "female": 0.25}}
    skipped = check_representation(train, columns=[])
    assert skipped["status"] == "pass" and skipped["detail"] == {"skipped": "no sensitive columns"}


def _blobs(n, seed, *, separation=4.0):
    """Two well-separated Gaussian blobs in 3-d plus a noise category."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 3)) + separation * y[:, None]
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2],
                         "colour": rng.choice(["red", "green", "blue"], n), "y": y})


def test_planted_exact_and_near_duplicates_across_splits_are_found():
    train = _blobs(200, 0)
    test = _blobs(60, 1)
    features = ["x0", "x1", "x2", "colour"]
    # Exact copies of train rows 3 and 50 become test rows 0 and 1.
    test.iloc[0], test.iloc[1] = train.iloc[3], train.iloc[50]
    # Train row 7 nudged by 1e-9 (well inside tol 1e-6 after standardising): test row 2.
    test.iloc[2] = train.iloc[7]
    test.loc[2, "x0"] += 1e-9
    # Same numbers as train row 9 but a different colour: not a duplicate.
    test.iloc[3] = train.iloc[9]
    test.loc[3, "colour"] = "purple"
    check = check_split_leakage(train, test, columns=features, tol=1e-6)
    assert check["detail"]["exact"] == 2 and check["detail"]["near"] == 1
    assert check["examples"] == [
        {"kind": "exact", "train_row": 3, "test_row": 0},
        {"kind": "exact", "train_row": 50, "test_row": 1},
        {"kind": "near", "train_row": 7, "test_row": 2},
    ]
    assert check["status"] == "fail"  # 3 of 60 test rows is above the 1% fail share


def test_missing_values_match_only_missing_values_in_near_duplicate_search():
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    test = pd.DataFrame({"x": [np.nan, 5.0]})
    check = check_split_leakage(train, test, columns=["x"], tol=0.5)
    assert check["count"] == 0 and check["status"] == "pass"


def test_a_label_copy_feature_is_flagged_as_single_feature_leakage():
    train = _blobs(200, 2, separation=0.5)
    train["copy"] = np.where(train["y"] == 1, "approved", "declined")
    train["noisy_copy"] = train["y"] + np.random.default_rng(0).normal(0, 0.01, 200)
    check = check_single_feature_leakage(
        train, columns=["x0", "x1", "colour", "copy", "noisy_copy"], label_column="y")
    assert check["status"] == "fail"
    assert sorted(e["feature"] for e in check["examples"]) == ["copy", "noisy_copy"]
    assert check["detail"]["auc"]["copy"] == 1.0
    assert check["detail"]["auc"]["x0"] < 0.98


def test_confident_learning_hand_computed():
    # P(class 1) per row; labels 0,0,0,1,1,1.
    # t0 = mean(0.9, 0.8, 0.1) = 0.6, t1 = mean(0.8, 0.7, 0.3) = 0.6.
    # Row 2 (label 0): 0.1 < t0 and P1 = 0.9 >= t1 -> candidate, suggest 1.
    # Row 5 (label 1): 0.3 < t1 and P0 = 0.7 >= t0 -> candidate, suggest 0.
    # Ranked by self-confidence: row 2 (0.1) before row 5 (0.3).
    p1 = np.array([0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
    proba = np.column_stack((1 - p1, p1))
    thresholds, ranked = confident_learning(np.array(["0", "0", "0", "1", "1", "1"]), proba,
                                            np.array(["0", "1"]))
    assert thresholds.tolist() == pytest.approx([0.6, 0.6])
    assert [(r[0], r[1], r[2]) for r in ranked] == [(2, 0, 1), (5, 1, 0)]
    assert [r[3] for r in ranked] == pytest.approx([0.1, 0.3])


def test_planted_flipped_labels_are_mostly_recovered():
    """20 labels flipped in a separable 400-row set: confident learning recovers
    at least 70% of them. Measured here: recall 0.75, precision 1.0 (15 candidates,
    all planted flips); over data seeds 0-5 recall ranged 0.75-0.85, precision 1.0.
    The misses sit near their blob's edge, where the out-of-fold probability of
    the true class (0.81-0.86) stays under its class threshold (0.89)."""
    train = _blobs(400, 3)
    flipped = np.random.default_rng(4).choice(400, 20, replace=False)
    train.loc[flipped, "y"] = 1 - train.loc[flipped, "y"]
    check = check_label_errors(train, columns=["x0", "x1", "x2", "colour"], label_column="y")
    found = {c["row"] for c in check["detail"]["candidates"]}
    recall = len(found & set(flipped.tolist())) / 20
    precision = len(found & set(flipped.tolist())) / max(len(found), 1)
    assert recall >= 0.7
    assert precision >= 0.7
    assert check["status"] == "warn"
    scores = [c["self_confidence"] for c in check["detail"]["candidates"]]
    assert scores == sorted(scores)
    assert check["examples"] == check["detail"]["candidates"][:5]


def test_report_runs_every_check_in_order_and_is_plain_json():
    train = _blobs(120, 5)
    train["sex"] = np.where(np.arange(120) % 3 == 0, "female", "male")
    test = _blobs(40, 6)
    test["sex"] = "female"
    report = data_quality_report(train, test, feature_columns=["x0", "x1", "x2", "colour"],
                                 label_column="y", sensitive_columns=["sex"],
                                 population_shares={"sex": {"female": 0.5, "male": 0.5}})
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    assert report["n_rows"] == {"train": 120, "test": 40}
    for check in report["checks"]:
        assert set(check) == {"name", "status", "count", "examples", "detail", "explanation"}
        assert check["status"] in ("pass", "warn", "fail")
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_checks_that_do_not_apply_say_so():
    report = data_quality_report(_blobs(30, 7), feature_columns=["x0", "colour"],
                                 label_column="y")
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["split_leakage"]["detail"] == {"skipped": "no test split"}
    assert by_name["representation"]["detail"] == {"skipped": "no sensitive columns"}
    assert report["n_rows"]["test"] is None


FRAME = _blobs(20, 8).assign(sex=["female", "male"] * 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature_columns": []}, dq.ERR_NO_FEATURES),
        ({"feature_columns": ["x0", "y"]}, dq.ERR_LABEL_IS_FEATURE.format(column="y")),
        ({"feature_columns": ["nope"]}, dq.ERR_MISSING_COLUMN.format(column="nope", name="train")),
        ({"n_folds": 1}, dq.ERR_N_FOLDS.format(value=1)),
        ({"leakage_auc": 0.4}, dq.ERR_LEAKAGE_AUC.format(value=0.4)),
        ({"near_duplicate_tol": -1.0}, dq.ERR_TOLERANCE.format(value=-1.0)),
        ({"max_examples": -1}, dq.ERR_MAX_EXAMPLES.format(value=-1)),
        ({"random_state": None}, dq.ERR_RANDOM_STATE.format(value=None)),
        ({"population_shares": {"sex": {"female": 0.7, "male": 0.7}}},
         dq.ERR_SHARES.format(column="sex")),
        ({"population_shares": {"age": {"old": 1.0}}}, dq.ERR_SHARES_COLUMN.format(column="age")),
        ({"population_shares": {"sex": {"female": 1.0}}, "reference": FRAME},
         dq.ERR_REFERENCE_AND_SHARES),
    ],
)
def test_bad_options_raise_with_a_message_naming_the_option(kwargs, message):
    options = {"feature_columns": ["x0", "colour"], "label_column": "y",
               "sensitive_columns": ["sex"], **kwargs}
    with pytest.raises(ValueError) as excinfo:
        data_quality_report(FRAME, **options)
    assert str(excinfo.value) == message


def test_test_split_must_hold_the_features():
    with pytest.raises(ValueError, match="^Column 'colour' is missing from test.$"):
        data_quality_report(FRAME, FRAME[["x0", "y"]], feature_columns=["x0", "colour"],
                            label_column="y")


def test_chi_square_reference_value():
    # Guard the hand-computed p-value above against a scipy change.
    assert stats.chi2.sf(16, 1) == pytest.approx(6.334248366623988e-05, rel=1e-12)
