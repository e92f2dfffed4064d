"""Privacy probes: attack metrics on hand-computed vectors, then tiny seeded models (CPU)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from audits.kinds.intervals import clopper_pearson
from audits.kinds.privacy import probe as privacy
from audits.kinds.privacy.probe import (
    attack_metrics,
    class_mean_images,
    downsample_curve,
    dp_comparison,
    image_similarity,
    membership_inference,
    model_inversion,
    sensitive_groups,
    tpr_at_fpr,
)
from training.dp import dp_retrain
from training.recipes import digits_cnn_spec, digits_frame, tabular_mlp_spec, train_from_spec

CPU = torch.device("cpu")
FEATURES = [f"f{i}" for i in range(8)]


def as_json(result) -> dict:
    """Results must survive strict JSON (no NaN, no numpy types)."""
    return json.loads(json.dumps(result, allow_nan=False))


# ---------------------------------------------------------------------------
# Metrics on hand-computed vectors
# ---------------------------------------------------------------------------

# 5 members, 100 non-members. Two non-members score high (0.98, 0.55), 98 score 0.1.
MEMBER_SCORES = [0.99, 0.97, 0.6, 0.5, 0.2]
NON_MEMBER_SCORES = [0.98, 0.55] + [0.1] * 98
IS_MEMBER = np.array([1] * 5 + [0] * 100)
SCORES = np.array(MEMBER_SCORES + NON_MEMBER_SCORES)


def test_attack_metrics_by_hand():
    """AUC = P(member score > non-member score) = (100 + 99 + 99 + 98 + 98) / 500 = 0.988.
    Threshold 0.5: TPR 4/5, TNR 98/100, balanced accuracy (0.8 + 0.98) / 2 = 0.89.
    TPR at FPR <= 1% (Carlini et al. 2022: the best TPR among thresholds whose FPR is at most
    the target): thresholds down to 0.6 admit one false positive (0.98), and reach 3 members.
    With 100 non-members the smallest measurable FPR is 1%, so 0.1% is insufficient data.
    """
    result = attack_metrics(IS_MEMBER, SCORES)
    assert result["auc"] == pytest.approx(0.988)
    assert result["balanced_accuracy"] == pytest.approx(0.89)
    at_1, at_01 = result["tpr_at_low_fpr"]
    assert at_1 == {"fpr": 0.01, "tpr": pytest.approx(0.6), "status": "ok", "min_resolvable_fpr": 0.01,
                    "found": 3, "n_positives": 5, "tpr_ci": pytest.approx(clopper_pearson(3, 5))}
    assert at_1["tpr_ci"] == pytest.approx([0.1466, 0.9473], abs=1e-4)  # 3 of 5, Clopper-Pearson
    assert at_01 == {"fpr": 0.001, "tpr": None, "status": "insufficient_data", "min_resolvable_fpr": 0.01}
    assert result["roc"]["fpr"][0] == 0.0 and result["roc"]["tpr"][-1] == 1.0
    as_json(result)


def test_tpr_at_one_in_a_thousand_needs_a_thousand_non_members():
    # One false positive out of 1000 at the top score: FPR 0.001 exactly, the member at 0.99 is found.
    fpr = np.array([0.0, 0.001, 0.002, 1.0])
    tpr = np.array([0.0, 0.4, 0.6, 1.0])
    assert tpr_at_fpr(fpr, tpr, target_fpr=0.001, n_negatives=1000)["tpr"] == pytest.approx(0.4)
    assert tpr_at_fpr(fpr, tpr, target_fpr=0.001, n_negatives=999)["status"] == "insufficient_data"
    assert tpr_at_fpr(fpr, tpr, target_fpr=0.01, n_negatives=1000)["tpr"] == pytest.approx(0.6)


def test_attack_decisions_when_given_override_the_half_threshold():
    decisions = (SCORES > 0.9).astype(int)  # members 0.99, 0.97; non-member 0.98
    result = attack_metrics(IS_MEMBER, SCORES, decisions)
    assert result["balanced_accuracy"] == pytest.approx((2 / 5 + 99 / 100) / 2)


@pytest.mark.parametrize(
    "is_member, scores",
    [([1, 1, 1], [0.1, 0.2, 0.3]), ([1, 0], [0.5]), ([[1, 0]], [[0.1, 0.2]])],
)
def test_scores_must_line_up_with_both_kinds_of_row(is_member, scores):
    with pytest.raises(ValueError) as info:
        attack_metrics(is_member, scores)
    assert str(info.value) == privacy.SCORES_MISMATCH


def test_curves_are_downsampled_to_200_points_keeping_both_ends():
    x = np.linspace(0, 1, 1001)
    out = downsample_curve(x, x**2)
    assert len(out["fpr"]) == 200 and out["fpr"][0] == 0.0 and out["fpr"][-1] == 1.0
    assert out["tpr"] == [round(v * v, 6) for v in out["fpr"]]
    assert downsample_curve([0, 0.5, 1], [0, 0.7, 1]) == {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.7, 1.0]}


def test_image_similarity_by_hand():
    """r = [0, 1, 0, 1], t = [0, 1, 1, 1]: MSE 1/4; cosine 2 / (sqrt 2 * sqrt 3) = 0.8165;
    centred r = [-.5, .5, -.5, .5], t = [-.75, .25, .25, .25]: correlation 0.5 / (1 * sqrt .75) = 1/sqrt 3."""
    out = image_similarity(np.array([0, 1, 0, 1]), np.array([0, 1, 1, 1]))
    assert out == {"mse": 0.25, "cosine": pytest.approx(2 / np.sqrt(6)), "correlation": pytest.approx(1 / np.sqrt(3))}
    assert image_similarity(np.ones(4), np.array([0, 1, 1, 1]))["correlation"] is None  # a flat image has none


def test_sensitive_groups_bin_many_valued_numbers_into_quartiles_as_the_fairness_audit_does():
    """1..20: quartile edges 1, 5.75, 10.5, 15.25, 20 (numpy linear interpolation), five values each;
    the fairness tables' labels (half-open bins, the top one closed)."""
    groups = sensitive_groups(pd.Series(range(1, 21), name="score"))
    assert groups.value_counts().to_dict() == {"[1, 5.75)": 5, "[5.75, 10.5)": 5, "[10.5, 15.25)": 5, "[15.25, 20]": 5}
    assert sensitive_groups(pd.Series(["a", None, "b"], name="g")).tolist() == ["a", "missing", "b"]
    assert sensitive_groups(pd.Series([0, 1, 1], name="g")).tolist() == ["0", "1", "1"]
    # Age, as everywhere: the life-stage bins.
    assert sensitive_groups(pd.Series([19, 30, 70], name="age")).tolist() == ["[18, 25)", "[25, 35)", "[65, 120)"]


# ---------------------------------------------------------------------------
# Membership inference on a deliberately overfit model
# ---------------------------------------------------------------------------


def random_rows(n: int, seed: int) -> pd.DataFrame:
    """Noise features and coin-flip labels: whatever a model gets right beyond 50% it memorised."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    frame["label"] = rng.integers(0, 2, n)
    return frame


@pytest.fixture(scope="module")
def overfit():
    members = random_rows(80, seed=1)
    spec = tabular_mlp_spec(members, numeric=FEATURES, categorical=[], classes=[0, 1], hidden=[64, 64],
                            training={"epochs": 300, "batch_size": 40, "lr": 1e-2})
    return spec, train_from_spec(spec, members, label_column="label", device=CPU), members


def test_membership_inference_finds_the_members_of_an_overfit_model(overfit):
    spec, module, members = overfit
    seen = []
    result = membership_inference(module, spec, members, random_rows(80, seed=2), label_column="label",
                                  device=CPU, progress=seen.append)
    assert result["target_model"]["member_accuracy"] == 1.0
    assert result["attack_eval"] == {"members": 40, "non_members": 40}
    black_box, rule = result["attacks"]["black_box"], result["attacks"]["rule_based"]
    assert black_box["auc"] > 0.6
    # Members all correct, non-members right about half the time: the rule scores about 0.75.
    assert rule["balanced_accuracy"] > 0.6 and rule["auc"] == rule["balanced_accuracy"]
    # 40 evaluated non-members cannot resolve an FPR below 1/40.
    for attack in (black_box, rule):
        assert [p["status"] for p in attack["tpr_at_low_fpr"]] == ["insufficient_data", "insufficient_data"]
        assert attack["tpr_at_low_fpr"][0]["min_resolvable_fpr"] == pytest.approx(1 / 40)
        assert len(attack["roc"]["fpr"]) <= 200
    assert seen[-1] == 100
    as_json(result)


def test_with_a_thousand_evaluated_non_members_both_low_fprs_are_measured(overfit):
    spec, module, members = overfit
    result = membership_inference(module, spec, members, random_rows(2000, seed=3), label_column="label", device=CPU)
    assert result["min_resolvable_fpr"] == pytest.approx(0.001)
    statuses = [p["status"] for p in result["attacks"]["black_box"]["tpr_at_low_fpr"]]
    assert statuses == ["ok", "ok"]


def test_the_same_seed_gives_the_same_attack(overfit):
    spec, module, members = overfit
    non_members = random_rows(80, seed=2)
    runs = [membership_inference(module, spec, members, non_members, label_column="label", device=CPU)
            for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"attack_train_fraction": 1.0}, privacy.BAD_FRACTION.format(value=1.0)),
        ({"attack_train_fraction": True}, privacy.BAD_FRACTION.format(value=True)),
        ({"attack_model_type": "svm"}, privacy.BAD_ATTACK_MODEL.format(value="svm", allowed="'rf', 'gb', 'lr', 'nn'")),
        ({"label_column": "y"}, privacy.MISSING_COLUMN.format(which="members", column="y")),
    ],
)
def test_bad_attack_options_are_refused(overfit, options, message):
    spec, module, members = overfit
    kwargs = {"label_column": "label", **options}
    with pytest.raises(ValueError) as info:
        membership_inference(module, spec, members, random_rows(80, seed=2), device=CPU, **kwargs)
    assert str(info.value) == message


def test_too_few_rows_for_two_halves_are_refused(overfit):
    spec, module, members = overfit
    with pytest.raises(ValueError) as info:
        membership_inference(module, spec, members, random_rows(9, seed=2), label_column="label", device=CPU)
    assert str(info.value) == privacy.TOO_FEW_ROWS.format(which="non_members", n=9, needed=10, minimum=5)


def test_labels_the_model_does_not_know_are_refused(overfit):
    spec, module, members = overfit
    non_members = random_rows(80, seed=2).assign(label=5)
    with pytest.raises(ValueError) as info:
        membership_inference(module, spec, members, non_members, label_column="label", device=CPU)
    assert str(info.value) == privacy.UNKNOWN_LABELS.format(column="label", values=["5"], classes=[0, 1])


# ---------------------------------------------------------------------------
# Model inversion (MIFace) on the digits CNN
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    frame = digits_frame().iloc[:400]
    spec = digits_cnn_spec(training={"epochs": 3})
    return spec, train_from_spec(spec, frame, label_column="label", device=CPU), frame


def test_model_inversion_reconstructs_one_image_per_class(digits):
    spec, module, frame = digits
    means = class_mean_images(spec, frame, label_column="label")
    result = as_json(model_inversion(module, spec, class_means=means, max_iter=5, device=CPU))
    assert [row["class"] for row in result["classes"]] == list(range(10))
    for row in result["classes"]:
        image = np.array(row["image"])
        assert image.shape == (1, 8, 8) and image.min() >= 0.0 and image.max() <= 1.0
        assert np.isfinite([row["similarity"][key] for key in ("mse", "cosine", "correlation")]).all()
        assert 0.0 <= row["model_confidence"] <= 1.0
    assert 0.0 <= result["identified_fraction"] <= 1.0


def test_model_inversion_accepts_flat_means_keyed_as_json_and_a_subset_of_classes(digits):
    spec, module, frame = digits
    means = class_mean_images(spec, frame, label_column="label")
    means = {str(label): np.ravel(image) for label, image in means.items()}  # as if read back from JSON
    result = model_inversion(module, spec, class_means=means, classes=[3, 7], max_iter=2, device=CPU)
    assert [row["class"] for row in result["classes"]] == [3, 7]


def test_model_inversion_needs_an_image_model(overfit):
    spec, module, _ = overfit
    with pytest.raises(ValueError) as info:
        model_inversion(module, spec, class_means={})
    assert str(info.value) == privacy.NOT_AN_IMAGE_MODEL.format(kind="tabular")


@pytest.mark.parametrize(
    "classes, means, message",
    [
        ([3, 11], {3: np.zeros(64)}, privacy.UNKNOWN_CLASSES.format(classes=[11], known=list(range(10)))),
        ([3, 4], {3: np.zeros(64)}, privacy.MISSING_CLASS_MEANS.format(classes=[4])),
        ([3], {3: np.zeros(63)}, privacy.BAD_CLASS_MEAN.format(label=3, size=63, expected=64, shape=[1, 8, 8])),
    ],
)
def test_model_inversion_checks_classes_and_means(digits, classes, means, message):
    spec, module, _ = digits
    with pytest.raises(ValueError) as info:
        model_inversion(module, spec, class_means=means, classes=classes, max_iter=1, device=CPU)
    assert str(info.value) == message


# ---------------------------------------------------------------------------
# Before / after DP retraining
# ---------------------------------------------------------------------------


def test_dp_comparison_reports_utility_exposure_and_groups():
    frame = pd.read_csv("governance/demo/data/german_credit.csv").sample(n=300, random_state=0).reset_index(drop=True)
    train, test = frame.iloc[:200], frame.iloc[200:]
    spec = tabular_mlp_spec(train, numeric=["credit_amount", "duration", "age"], categorical=["sex", "housing"],
                            classes=[0, 1], training={"epochs": 3})
    before = train_from_spec(spec, train, label_column="risk", device=CPU)
    after, _ = dp_retrain(spec, train, label_column="risk", target_epsilon=2.0, accountant="rdp", device=CPU)
    result = as_json(dp_comparison(before, after, spec, train_frame=train, test_frame=test, label_column="risk",
                                   sensitive_columns=["sex", "age"], device=CPU))
    assert set(result["utility"]["test_accuracy"]) == {"before", "after", "change"}
    assert set(result["membership_inference"]) == {"before", "after", "auc_change"}
    assert result["membership_inference"]["before"]["members"] == 200
    assert result["positive_class"] == 1
    for column in ("sex", "age"):
        rows = result["groups"][column]["groups"]
        assert sum(row["n"] for row in rows) == len(test)
        for row in rows:
            assert row["accuracy_change"] == pytest.approx(row["accuracy_after"] - row["accuracy_before"])
            assert 0.0 <= row["selection_rate_after"] <= 1.0
    assert len(result["groups"]["age"]["groups"]) == 5  # the life-stage bins of the fairness audit
    assert any("Bagdasaryan" in ref for ref in result["references"])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"sensitive_columns": ["sex"]}, privacy.MISSING_COLUMN.format(which="test", column="sex")),
        ({"positive_class": 3}, privacy.UNKNOWN_CLASSES.format(classes=[3], known=[0, 1])),
    ],
)
def test_dp_comparison_refuses_unknown_columns_and_classes(overfit, options, message):
    spec, module, members = overfit
    kwargs = {"sensitive_columns": [], **options}
    with pytest.raises(ValueError) as info:
        dp_comparison(module, module, spec, train_frame=members, test_frame=random_rows(20, 4), label_column="label",
                      device=CPU, **kwargs)
    assert str(info.value) == message


@pytest.mark.gpu
def test_membership_inference_on_cuda_matches_the_cpu_result(overfit):
    spec, module, members = overfit
    non_members = random_rows(80, seed=2)
    on_cpu = membership_inference(module, spec, members, non_members, label_column="label", device=CPU)
    on_gpu = membership_inference(module, spec, members, non_members, label_column="label", device="cuda")
    assert on_gpu["attacks"]["rule_based"] == on_cpu["attacks"]["rule_based"]
    assert on_gpu["attacks"]["black_box"]["auc"] == pytest.approx(on_cpu["attacks"]["black_box"]["auc"], abs=0.05)
