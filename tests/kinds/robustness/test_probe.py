"""Evasion robustness probe: hand-computable models first, then the demo models (CPU, tiny settings)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audits.kinds.robustness.probe import (
    ERR_ATTACKS,
    ERR_EPSILONS,
    ERR_LABELS,
    ERR_LENGTH,
    ERR_MAX_SAMPLES,
    ERR_NOT_NUMERIC,
    ERR_PGD_BACKEND,
    ERR_PGD_STEPS,
    blackbox_robustness_probe,
    craft_adversarial,
    input_bounds,
    robustness_probe,
)
from training.architectures import build_model
from training.encoding import encode, feature_layout
from training.recipes import digits_cnn_spec, digits_frame, labels_to_index, tabular_mlp_spec, train_from_spec

CPU = torch.device("cpu")
CREDIT_NUMERIC = ["credit_amount", "duration", "age"]
CREDIT_CATEGORICAL = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]
GRID = (0.0, 0.05, 0.1, 0.2, 0.3)


# ---------------------------------------------------------------------------
# A model whose minimal adversarial perturbation is known exactly
# ---------------------------------------------------------------------------


def sign_model():
    """One numeric input x; class 1 iff x > 0.

    hidden = (relu(x), relu(-x)) and the head reads logit_0 = relu(-x), logit_1 = relu(x),
    so the smallest L-inf perturbation that flips a row is |x|: it must cross 0.
    """
    spec = {
        "architecture": "mlp",
        "params": {"in_features": 1, "hidden": [2], "n_classes": 2},
        "input": {"kind": "tabular", "numeric": [{"name": "x", "mean": 0.0, "std": 1.0, "min": -1.0, "max": 1.0}],
                  "categorical": []},
        "classes": [0, 1],
    }
    module = build_model(spec)
    with torch.no_grad():
        module.body[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        module.body[0].bias.zero_()
        module.head.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        module.head.bias.zero_()
    return module.eval(), spec


# |x| in encoded units; each row is broken exactly at the first epsilon above |x|.
MAGNITUDES = [0.03, 0.08, 0.17, 0.26, 0.4]


@pytest.fixture
def sign_case():
    module, spec = sign_model()
    x = np.array(MAGNITUDES + [-m for m in MAGNITUDES])
    frame = pd.DataFrame({"x": x})
    return module, spec, frame, (x > 0).astype(int)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_robust_accuracy_matches_the_hand_computed_curve(sign_case, attack):
    # Robust at eps iff |x| > eps: 10/10, 8/10 (0.03 falls), 6/10, 4/10, 2/10.
    module, spec, frame, y = sign_case
    result = robustness_probe(module, spec, frame, y, epsilons=GRID, attacks=[attack], device="cpu")
    curve = result["curves"][attack]
    assert result["clean_accuracy"] == 1.0
    assert [p["epsilon"] for p in curve] == list(GRID)
    assert [p["robust_accuracy"] for p in curve] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    assert [p["attack_success_rate"] for p in curve] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    # Both attacks move a flipped row by the whole budget of the epsilon that broke it,
    # and a row keeps the example from the smallest such epsilon: at 0.1 the flipped rows
    # moved 0.05 (|x| = 0.03) and 0.1 (|x| = 0.08).
    assert curve[0]["mean_linf"] is None
    assert curve[1]["mean_linf"] == pytest.approx(0.05, abs=1e-6)
    assert curve[2]["mean_linf"] == pytest.approx(0.075, abs=1e-6)
    assert curve[4]["mean_linf"] == pytest.approx((0.05 + 0.1 + 0.2 + 0.3) / 4, abs=1e-6)
    # One feature: the L2 norm equals the L-inf norm.
    assert curve[4]["mean_l2"] == pytest.approx(curve[4]["mean_linf"], abs=1e-6)


def test_robustness_per_group_and_the_largest_gap(sign_case):
    # Group "near" holds |x| in {0.03, 0.08}, "far" the rest. At eps 0.1 "near" is all
    # broken (0/4) and "far" untouched (6/6): the gap is 1.0.
    module, spec, frame, y = sign_case
    near = np.abs(frame["x"].to_numpy()) < 0.1
    sensitive = {"distance": np.where(near, "near", "far")}
    result = robustness_probe(module, spec, frame, y, epsilons=GRID, attacks=["pgd"], sensitive=sensitive,
                              device="cpu")
    table = result["group_robustness"]["distance"]
    assert [p["robust_accuracy"] for p in table["near"]] == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.0])
    assert [p["robust_accuracy"] for p in table["far"]] == pytest.approx([1.0, 1.0, 1.0, 4 / 6, 2 / 6])
    assert {p["count"] for p in table["near"]} == {4} and {p["count"] for p in table["far"]} == {6}
    assert result["max_group_gap"] == pytest.approx(1.0)
    assert result["params"]["group_attack"] == "pgd"


def test_numeric_sensitive_columns_with_few_values_are_kept_as_groups(sign_case):
    # Ten distinct ages: below the 11 that trigger quartile bins (the German credit test
    # below covers binning).
    module, spec, frame, y = sign_case
    result = robustness_probe(module, spec, frame, y, epsilons=(0.1,), attacks=["fgsm"],
                              sensitive=pd.DataFrame({"age": np.arange(20, 30)}), device="cpu")
    groups = result["group_robustness"]["age"]
    assert sorted(groups) == [str(a) for a in range(20, 30)]
    assert {points[0]["count"] for points in groups.values()} == {1}
    assert result["params"]["group_attack"] == "fgsm"  # PGD was not run


def test_the_result_is_plain_json(sign_case):
    module, spec, frame, y = sign_case
    result = robustness_probe(module, spec, frame, y, sensitive={"g": ["a", "b"] * 5}, device="cpu")
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_progress_runs_from_0_to_100(sign_case):
    module, spec, frame, y = sign_case
    seen = []
    robustness_probe(module, spec, frame, y, epsilons=GRID, device="cpu", progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)


def test_the_module_goes_back_to_eval_mode_on_its_device(sign_case):
    module, spec, frame, y = sign_case
    module.train()
    robustness_probe(module, spec, frame, y, device="cpu")
    assert module.training and next(module.parameters()).device == CPU


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epsilons": []}, ERR_EPSILONS),
        ({"epsilons": [0.1, -0.1]}, ERR_EPSILONS),
        ({"epsilons": [float("nan")]}, ERR_EPSILONS),
        ({"attacks": ["cw"]}, ERR_ATTACKS.format(accepted=["fgsm", "pgd"], got=["cw"])),
        ({"attacks": []}, ERR_ATTACKS.format(accepted=["fgsm", "pgd"], got=[])),
        ({"pgd_steps": 0}, ERR_PGD_STEPS),
        ({"max_samples": 0}, ERR_MAX_SAMPLES),
        ({"pgd_backend": "foolbox"}, ERR_PGD_BACKEND.format(accepted=["native", "art"], got="foolbox")),
    ],
)
def test_bad_options_are_refused_with_a_message(sign_case, options, message):
    module, spec, frame, y = sign_case
    with pytest.raises(ValueError) as err:
        robustness_probe(module, spec, frame, y, **options)
    assert str(err.value) == message


def test_labels_must_match_the_rows_and_the_classes(sign_case):
    module, spec, frame, y = sign_case
    with pytest.raises(ValueError) as err:
        robustness_probe(module, spec, frame, y[:3])
    assert str(err.value) == ERR_LENGTH.format(n=10, name="y", m=3)
    with pytest.raises(ValueError) as err:
        robustness_probe(module, spec, frame, np.full(10, 7))
    assert str(err.value) == ERR_LABELS.format(unknown=["7"], classes=[0, 1])


# ---------------------------------------------------------------------------
# Digits CNN (images) and the German credit MLP (tabular)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    frame = digits_frame()
    train, test = frame.iloc[:1400], frame.iloc[1400:]
    spec = digits_cnn_spec(training={"epochs": 3})
    return train_from_spec(spec, train, label_column="label", device=CPU), spec, test


@pytest.fixture(scope="module")
def credit():
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(Path(__file__).resolve().parents[3] / "governance" / "demo" / "data" / "german_credit.csv")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
    spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                            training={"epochs": 10})
    return train_from_spec(spec, train, label_column="risk", device=CPU), spec, train, test


def test_digits_robust_accuracy_falls_as_epsilon_grows(digits):
    module, spec, test = digits
    result = robustness_probe(module, spec, test, test["label"], max_samples=150, device="cpu")
    assert result["n_samples"] == 150 and result["device"] == "cpu"
    assert result["attackable_features"] == ["pixels"] and result["fixed_features"] == []
    assert "pixel intensity" in result["params"]["epsilon_units"]
    for attack in ("fgsm", "pgd"):
        accuracies = [p["robust_accuracy"] for p in result["curves"][attack]]
        assert accuracies[0] == result["clean_accuracy"]
        assert all(later <= earlier for earlier, later in zip(accuracies, accuracies[1:]))
        assert accuracies[-1] < result["clean_accuracy"]


def test_the_same_seed_gives_the_same_result(digits):
    module, spec, test = digits
    first = robustness_probe(module, spec, test, test["label"], max_samples=40, epsilons=(0.1,), device="cpu")
    again = robustness_probe(module, spec, test, test["label"], max_samples=40, epsilons=(0.1,), device="cpu")
    assert first == again


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
@pytest.mark.parametrize("epsilon", [0.05, 0.3])
def test_adversarial_images_stay_within_epsilon_and_the_pixel_range(digits, attack, epsilon):
    module, spec, test = digits
    x = encode(test.iloc[:64], spec["input"])
    y = labels_to_index(test["label"].iloc[:64], spec["classes"])
    adv = craft_adversarial(module, spec, x, y, attack=attack, epsilon=epsilon, pgd_steps=5, device="cpu")
    assert adv.shape == x.shape
    assert np.abs(adv - x).max() <= epsilon + 1e-6
    assert adv.min() >= 0.0 and adv.max() <= 1.0
    assert np.abs(adv - x).max() > 0  # the attack did move something


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_tabular_attacks_keep_categories_valid_and_numbers_in_the_training_range(credit, attack):
    module, spec, _, test = credit
    eps = 0.5
    x = encode(test, spec["input"])
    y = labels_to_index(test["risk"], spec["classes"])
    adv = craft_adversarial(module, spec, x, y, attack=attack, epsilon=eps, device="cpu")
    layout = feature_layout(spec["input"])
    for f in layout:
        cols = slice(f["start"], f["stop"])
        if f["kind"] == "categorical":
            # Untouched, so every one-hot group is still one category (or all-zero for an unseen one).
            assert np.array_equal(adv[:, cols], x[:, cols])
            assert set(np.unique(adv[:, cols])) <= {0.0, 1.0}
            assert adv[:, cols].sum(axis=1).max() <= 1.0
        else:
            assert adv[:, cols].min() >= f["min"] - 1e-6 and adv[:, cols].max() <= f["max"] + 1e-6
            inside = np.clip(x[:, cols], f["min"], f["max"])
            assert np.abs(adv[:, cols] - inside).max() <= eps + 1e-6
    numeric = [f["start"] for f in layout if f["kind"] == "numeric"]
    assert np.abs(adv[:, numeric] - x[:, numeric]).max() > 0


def test_tabular_probe_names_attackable_and_fixed_features(credit):
    module, spec, _, test = credit
    result = robustness_probe(module, spec, test, test["risk"], sensitive=test[["sex", "age"]], device="cpu")
    assert result["attackable_features"] == CREDIT_NUMERIC
    assert result["fixed_features"] == CREDIT_CATEGORICAL
    assert "standard deviations" in result["params"]["epsilon_units"]
    assert set(result["group_robustness"]["sex"]) == {"female", "male"}
    assert len(result["group_robustness"]["age"]) == 4
    pgd = result["curves"]["pgd"]
    assert pgd[-1]["robust_accuracy"] < result["clean_accuracy"]


def test_input_bounds_hold_one_hot_columns_fixed(credit):
    _, spec, _, _ = credit
    low, high, attackable = input_bounds(spec)
    layout = feature_layout(spec["input"])
    assert attackable.tolist() == [1.0] * 3 + [0.0] * (layout[-1]["stop"] - 3)
    assert low[0] == pytest.approx(layout[0]["min"]) and high[0] == pytest.approx(layout[0]["max"])


# The native PGD (training/attacks.py) and ART's ProjectedGradientDescentPyTorch are the same
# algorithm with the same mask, bounds and step: the same rows survive. The one difference
# allowed is float rounding in the projection (ART adds the clipped difference back to the
# clean input, the native PGD clamps the example), which could flip a row in a rare tie: at
# most one row per epsilon, and norms equal to 1e-5. On these models they agree exactly.
ONE_ROW = 1


def assert_same_pgd_curve(native: dict, art: dict) -> None:
    assert native["params"]["pgd_implementation"].startswith("training.attacks")
    assert art["params"]["pgd_implementation"] == "ART ProjectedGradientDescentPyTorch"
    n = native["n_samples"]
    for ours, theirs in zip(native["curves"]["pgd"], art["curves"]["pgd"], strict=True):
        assert ours["epsilon"] == theirs["epsilon"]
        assert abs(ours["robust_count"] - theirs["robust_count"]) <= ONE_ROW
        assert ours["robust_accuracy"] == pytest.approx(theirs["robust_accuracy"], abs=ONE_ROW / n)
        for norm in ("mean_linf", "mean_l2"):
            if ours["robust_count"] == theirs["robust_count"]:
                assert (ours[norm] is None) == (theirs[norm] is None)
                if ours[norm] is not None:
                    assert ours[norm] == pytest.approx(theirs[norm], abs=1e-5)


def test_on_the_credit_mlp_with_its_feature_mask_the_native_pgd_curve_is_art_s(credit):
    module, spec, _, test = credit
    options = {"epsilons": (0.0, 0.1, 0.5, 1.0, 2.0), "attacks": ["pgd"], "pgd_steps": 5, "max_samples": 200,
               "sensitive": test[["sex"]], "device": "cpu"}
    native = robustness_probe(module, spec, test, test["risk"], **options)
    art = robustness_probe(module, spec, test, test["risk"], pgd_backend="art", **options)
    assert native["fixed_features"] == CREDIT_CATEGORICAL  # the one-hot groups are masked
    assert_same_pgd_curve(native, art)
    assert native["curves"]["pgd"][-1]["robust_accuracy"] < native["clean_accuracy"]
    assert native["group_robustness"] == art["group_robustness"]


def test_on_the_digits_cnn_the_native_pgd_curve_is_art_s_in_any_batch_size(digits):
    module, spec, test = digits
    options = {"epsilons": GRID, "attacks": ["pgd"], "pgd_steps": 4, "max_samples": 120, "device": "cpu"}
    art = robustness_probe(module, spec, test, test["label"], pgd_backend="art", **options)
    for batch_size in (37, 4096):
        native = robustness_probe(module, spec, test, test["label"], batch_size=batch_size, **options)
        assert_same_pgd_curve(native, art)


def test_the_native_pgd_reports_progress_within_its_curve(digits):
    module, spec, test = digits
    seen = []
    robustness_probe(module, spec, test, test["label"], epsilons=GRID, attacks=["fgsm", "pgd"], pgd_steps=5,
                     max_samples=60, batch_size=20, device="cpu", progress=seen.append)
    # 9 ticks in all (4 FGSM epsilons, 4 PGD epsilons, the end): PGD's 4 come as 60 steps, so
    # the bar moves between FGSM's end (44%) and the end without waiting for the whole curve.
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
    assert len({pct for pct in seen if 44 < pct < 88}) > 4


@pytest.mark.gpu
def test_the_probe_runs_on_cuda_and_matches_the_cpu(digits):
    module, spec, test = digits
    options = {"max_samples": 100, "epsilons": (0.0, 0.1, 0.2)}
    on_gpu = robustness_probe(module, spec, test, test["label"], device="cuda", **options)
    on_cpu = robustness_probe(module, spec, test, test["label"], device="cpu", **options)
    assert on_gpu["device"].startswith("cuda")
    assert next(module.parameters()).device == CPU
    for attack in ("fgsm", "pgd"):
        for g, c in zip(on_gpu["curves"][attack], on_cpu["curves"][attack]):
            assert g["robust_accuracy"] == pytest.approx(c["robust_accuracy"], abs=0.03)


# ---------------------------------------------------------------------------
# Black box: HopSkipJump on scikit-learn
# ---------------------------------------------------------------------------


@pytest.fixture
def linear_case():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    y = (frame["a"] + 0.5 * frame["b"] > 0).astype(int)
    return LogisticRegression().fit(frame, y), frame, y


def test_hopskipjump_on_a_logistic_regression_is_sane(linear_case):
    model, frame, y = linear_case
    result = blackbox_robustness_probe(model, frame, y, max_samples=10, max_iter=10, seed=0)
    sample = frame.iloc[np.sort(np.random.default_rng(0).choice(40, 10, replace=False))]
    # The smallest L2 change that flips a linear model is the distance to its hyperplane,
    # |w.x + b| / ||w||: HopSkipJump can approach it but never beat it.
    w, b = model.coef_[0], model.intercept_[0]
    margins = np.abs(sample.to_numpy() @ w + b) / np.linalg.norm(w)
    correct = model.predict(sample) == y.loc[sample.index]
    assert result["clean_accuracy"] == correct.mean()
    assert result["attack_success_rate"] == 1.0  # unbounded, every correct row flips
    assert result["robust_accuracy"] == 0.0
    assert margins[correct].mean() - 1e-6 <= result["mean_l2"] <= 2 * margins[correct].mean()
    accuracies = [p["robust_accuracy"] for p in result["curves"]["hopskipjump"]]
    assert all(later <= earlier for earlier, later in zip(accuracies, accuracies[1:]))
    assert result["attackable_features"] == ["a", "b"] and result["fixed_features"] == []
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_hopskipjump_is_reproducible_with_a_seed(linear_case):
    model, frame, y = linear_case
    options = {"max_samples": 5, "max_iter": 3, "max_eval": 200, "seed": 1}
    first = blackbox_robustness_probe(model, frame, y, **options)
    assert blackbox_robustness_probe(model, frame, y, **options) == first


def test_hopskipjump_on_a_pipeline_holds_one_hot_columns_fixed(credit):
    _, _, train, test = credit
    pipe = make_pipeline(
        make_column_transformer((StandardScaler(), CREDIT_NUMERIC), (OneHotEncoder(handle_unknown="ignore"),
                                                                     CREDIT_CATEGORICAL)),
        LogisticRegression(max_iter=1000),
    ).fit(train, train["risk"])
    columns = CREDIT_NUMERIC + CREDIT_CATEGORICAL
    result = blackbox_robustness_probe(pipe, test[columns], test["risk"], max_samples=8, max_iter=3, max_eval=200)
    assert result["attackable_features"] == [f"standardscaler__{name}" for name in CREDIT_NUMERIC]
    assert all(name.startswith("onehotencoder__") for name in result["fixed_features"])
    assert 0.0 <= result["robust_accuracy"] <= result["clean_accuracy"] <= 1.0


def test_a_bare_estimator_needs_numeric_columns(linear_case):
    model, frame, y = linear_case
    with pytest.raises(ValueError) as err:
        blackbox_robustness_probe(model, frame.assign(c="x"), y)
    assert str(err.value) == ERR_NOT_NUMERIC.format(columns="c")


# ---------------------------------------------------------------------------
# A model that outputs NaN is never robust
# ---------------------------------------------------------------------------


def test_a_model_that_outputs_nan_stops_the_probe_instead_of_reading_robust(sign_case):
    # argmax of a NaN row is 0: with every label 0 such a model read clean accuracy 1.0, and,
    # its gradients NaN too, robust accuracy 1.0 at every budget.
    module, spec, frame, _ = sign_case
    with torch.no_grad():
        module.head.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="^the model's outputs are not finite .* on 10 of 10 unperturbed rows"):
        robustness_probe(module, spec, frame, np.zeros(len(frame), dtype=int), epsilons=GRID, attacks=["pgd"],
                         device="cpu")


def test_a_perturbed_row_the_model_answers_with_nan_counts_as_broken():
    from audits.kinds.robustness.probe import _predicted

    class Scores:
        def predict(self, x, batch_size=None):
            return np.array([[0.2, 0.8], [np.nan, np.nan], [np.inf, 0.0]])

    assert _predicted(Scores(), np.zeros((3, 1)), clean=False).tolist() == [1, -1, -1]
    with pytest.raises(ValueError, match="on 2 of 3 unperturbed rows"):
        _predicted(Scores(), np.zeros((3, 1)), clean=True)


def test_a_scikit_learn_model_that_outputs_nan_stops_the_black_box_probe():
    class NaNModel:
        classes_ = np.array([0, 1])

        def predict_proba(self, frame):
            return np.full((len(frame), 2), np.nan)

    frame = pd.DataFrame({"a": np.linspace(0, 1, 20), "b": np.linspace(1, 2, 20)})
    with pytest.raises(ValueError, match="^the model's outputs are not finite"):
        blackbox_robustness_probe(NaNModel(), frame, np.zeros(20, dtype=int), max_samples=20, seed=0)
