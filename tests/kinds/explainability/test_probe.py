"""Explainability probe: hand-computable cases first, then the credit MLP (CPU, small settings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from audits.kinds.explainability.probe import (
    ERR_LABELS,
    ERR_RANDOM,
    ERR_REPEATS,
    bootstrap_auc,
    deletion_test,
    explainability_probe,
    integrated_gradients,
    local_sentence,
    occlusion_attributions,
    permutation_importances,
    proxy_scan,
    randomization_test,
    randomize_module,
    rank_auc,
    reference_row,
    sensitive_groups,
)
from audits.kinds.explainability.runner import case_fields, case_frame, explainability_checks, interval_outcome
from audits.runs.runner import AuditInputError
from audits.kinds.explainability.thresholds import THRESHOLDS
from training.encoding import encode
from training.recipes import tabular_mlp_spec, train_from_spec
from training.train import predict_proba

CREDIT_NUMERIC = ["credit_amount", "duration", "age"]
CREDIT_CATEGORICAL = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]
FEATURES = CREDIT_NUMERIC + CREDIT_CATEGORICAL
SMALL = {"n_repeats": 5, "n_random": 19, "n_bootstrap": 50, "ig_steps": 16}


def linear_frame():
    return pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [0.0, 10.0, 20.0, 30.0, 40.0]})


def linear_score(frame):
    """score = 0.5 a + 0.1 b: every quantity below can be worked out by hand."""
    return 0.5 * frame["a"].to_numpy() + 0.1 * frame["b"].to_numpy()


# ---------------------------------------------------------------------------
# Hand-computed
# ---------------------------------------------------------------------------


def test_rank_auc_is_scikit_learns_auc_with_ties_counted_half():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    s = np.array([0.1, 0.4, 0.4, 0.8, 0.2, 0.9, 0.3, 0.3])
    assert rank_auc(y, s)[0] == pytest.approx(roc_auc_score(y, s))
    # Positives 0.4, 0.8, 0.9, 0.3 against negatives 0.1, 0.4, 0.2, 0.3: each positive beats
    # 3 (+ a half for the tie), 4, 4 and 2 (+ a half) of them: 14 of 16 pairs.
    assert rank_auc(y, s)[0] == pytest.approx(14 / 16)


def test_the_bootstrap_interval_of_an_auc_contains_it():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = y + rng.normal(0, 1, 200)
    auc, (low, high) = bootstrap_auc(y, s, n_bootstrap=300, level=0.95, rng=rng)
    assert auc == pytest.approx(roc_auc_score(y, s))
    assert low <= auc <= high and high - low < 0.2


def test_the_reference_row_is_the_median_and_the_most_frequent_value():
    frame = pd.DataFrame({"n": [1, 2, 9], "c": ["x", "y", "y"]})
    assert reference_row(frame, ["n", "c"]) == {"n": 2, "c": "y"}


def test_deletion_damage_is_the_mean_absolute_change_of_the_score():
    # Reference: a = 2, b = 20. Removing b moves row scores by 0.1 |b - 20| = [2, 1, 0, 1, 2]
    # (mean 1.2); removing a as well by |0.5 (a - 2) + 0.1 (b - 20)| = [3, 1.5, 0, 1.5, 3] (mean 1.8);
    # removing a alone by 0.5 |a - 2| (mean 0.6).
    frame = linear_frame()
    reference = reference_row(frame, ["a", "b"])
    result = deletion_test(linear_score, frame, ["b", "a"], reference=reference, k=2, n_random=19, seed=0)
    assert result["ranked_curve"] == pytest.approx([1.2, 1.8])
    assert result["ranked_area"] == pytest.approx(1.5)
    reversed_order = deletion_test(linear_score, frame, ["a", "b"], reference=reference, k=2, n_random=19, seed=0)
    assert reversed_order["ranked_curve"] == pytest.approx([0.6, 1.8])
    # Random orders are one of the two: the better one is never beaten, the worse one always.
    assert reversed_order["random_mean_area"] == result["random_mean_area"]
    assert result["gap"] > 0 > reversed_order["gap"]
    assert reversed_order["beaten_by"] == 1.0


def test_a_feature_the_score_ignores_has_exactly_zero_permutation_importance():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=300), "ignored": rng.normal(size=300)})
    y = (frame["x"] + rng.normal(0, 0.5, 300) > 0).astype(int).to_numpy()
    rows = permutation_importances(lambda f: f["x"].to_numpy(), frame, y, features=["x", "ignored"], n_repeats=10)
    x, ignored = rows
    assert ignored["value"] == 0.0 and ignored["ci"] == [0.0, 0.0]
    assert x["value"] > 0.2 and x["ci"][0] <= x["value"] <= x["ci"][1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_repeats": 1}, ERR_REPEATS.format(value=1)),
    ({"y": [0, 0, 0, 0, 0]}, ERR_LABELS.format(values=[0])),
])
def test_bad_permutation_settings_are_refused_with_the_reason(kwargs, message):
    frame = linear_frame()
    with pytest.raises(ValueError) as err:
        permutation_importances(linear_score, frame, kwargs.pop("y", [0, 1, 0, 1, 1]), features=["a", "b"], **kwargs)
    assert str(err.value) == message


def test_too_few_random_orders_are_refused():
    with pytest.raises(ValueError) as err:
        deletion_test(linear_score, linear_frame(), ["a", "b"], reference={"a": 2, "b": 20}, n_random=5)
    assert str(err.value) == ERR_RANDOM.format(value=5)


def test_identical_explanations_have_similarity_one_and_reversed_ones_minus_one():
    real = np.array([[3.0, 1.0, 2.0], [0.5, 0.2, 0.9]])
    assert randomization_test(real, [real.copy()])["similarity"] == pytest.approx(1.0)
    assert randomization_test(real, [-real])["similarity"] == pytest.approx(-1.0)
    assert randomization_test(real[0], [real[0] * 2])["similarity"] == pytest.approx(1.0)


def test_a_numeric_sensitive_column_is_grouped_in_quartiles():
    groups = sensitive_groups(pd.Series(range(20, 40)))
    assert groups.value_counts().to_dict() == {"[20, 24.75)": 5, "[24.75, 29.5)": 5, "[29.5, 34.25)": 5,
                                               "[34.25, inf)": 5}


def test_a_local_explanation_reads_in_plain_words():
    contributions = [{"feature": "duration", "value": "48", "reference": "18", "contribution": -0.21},
                     {"feature": "checking_account", "value": "none", "reference": "little", "contribution": 0.05}]
    assert local_sentence(contributions, score=0.31, reference_score=0.47, outcome="risk = 1") == (
        "Score 0.31 against 0.47 for a typical row: duration of 48 lowered the score for risk = 1 most "
        "(−0.21; a typical row has 18); then checking_account of none raised it (+0.05; a typical row has little).")


def test_occlusion_gives_a_linear_score_its_coefficient_times_the_distance_from_the_typical_row():
    # score = 0.1 + 0.02 * duration - 0.3 * [housing == "rent"]; typical row: duration 18, housing "own".
    def score(f):
        return 0.1 + 0.02 * f["duration"].to_numpy() - 0.3 * (f["housing"] == "rent").to_numpy()

    rows = pd.DataFrame({"duration": [48, 18], "housing": ["rent", "own"]})
    got = occlusion_attributions(score, rows, features=["duration", "housing"],
                                 reference={"duration": 18, "housing": "own"})
    # by hand: 0.02 * (48 - 18) = 0.6 and -0.3 for renting; the typical row itself: nothing.
    assert got == pytest.approx(np.array([[0.6, -0.3], [0.0, 0.0]]))


CASE_EVAL = pd.DataFrame({"duration": [12, 24, 36], "amount": [1.5, 2.0, 3.5], "housing": ["own", "rent", "own"]})
CASE_FEATURES = ["duration", "amount", "housing"]


def test_a_case_is_read_with_the_evaluation_datas_types_and_named():
    frame = case_frame([{"duration": 48, "amount": 2.5, "housing": "rent", "case": "Appeal A-17"},
                        {"duration": 6.0, "amount": 1, "housing": "own"}], CASE_EVAL, CASE_FEATURES)
    assert list(frame.index) == ["Appeal A-17", "case 2"]
    assert frame["duration"].tolist() == [48, 6] and str(frame["duration"].dtype) == str(CASE_EVAL["duration"].dtype)
    assert case_frame(None, CASE_EVAL, CASE_FEATURES) is None
    fields = {f["name"]: f for f in case_fields(CASE_EVAL, CASE_FEATURES)}
    assert fields["duration"] == {"name": "duration", "kind": "whole", "typical": 24}
    assert fields["amount"]["kind"] == "number" and fields["amount"]["typical"] == 2.0
    assert fields["housing"] == {"name": "housing", "kind": "choice", "choices": ["own", "rent"], "typical": "own"}


@pytest.mark.parametrize(("cases", "message"), [
    ({"duration": 1}, "params.cases must be a list of at most 20 rows, each an object of feature: value."),
    ([{"duration": 1, "amount": 1.0, "housing": "own"}] * 21, "params.cases must be a list of at most 20 rows"),
    ([{"duration": 1, "housing": "own", "colour": "red"}],
     "params.cases[0] must give every feature the model reads; missing: amount; not read by the model: colour."),
    ([{"duration": float("nan"), "amount": 1.0, "housing": "own"}], "params.cases[0].duration must be a finite number"),
    ([{"duration": "12", "amount": 1.0, "housing": "own"}], "params.cases[0].duration must be a finite number"),
    ([{"duration": 12.5, "amount": 1.0, "housing": "own"}], "params.cases[0].duration must be a whole number"),
    ([{"duration": 12, "amount": 1.0, "housing": "castle"}],
     "params.cases[0].housing: 'castle' is not a value the evaluation data has (known: own, rent)."),
])
def test_a_bad_case_is_refused_naming_what_is_wrong(cases, message):
    with pytest.raises(AuditInputError) as caught:
        case_frame(cases, CASE_EVAL, CASE_FEATURES)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("value", "ci", "spec", "outcome"), [
    (0.10, [0.05, 0.15], {"min": 0.0}, "pass"),
    (0.02, [-0.01, 0.05], {"min": 0.0}, "inconclusive"),
    (-0.05, [-0.08, -0.02], {"min": 0.0}, "fail"),
    (0.90, [0.85, 0.95], {"max": 0.70}, "fail"),
    (0.68, [0.60, 0.75], {"max": 0.70}, "inconclusive"),
    (0.55, [0.45, 0.65], {"max": 0.70}, "pass"),
    (0.4, None, {"max": 0.5}, "pass"),
    (0.6, None, {"max": 0.5}, "fail"),
    (None, None, {"max": 0.5}, "inconclusive"),
])
def test_a_check_is_decided_on_its_whole_interval(value, ci, spec, outcome):
    assert interval_outcome(value, ci, spec) == outcome


# ---------------------------------------------------------------------------
# The credit MLP
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def credit(credit_frames):
    train, test = credit_frames
    spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                            training={"epochs": 10})
    module = train_from_spec(spec, train, label_column="risk", device=torch.device("cpu"))
    return module, spec, train, test


def scorer(module, spec):
    return lambda f: predict_proba(module, encode(f, spec["input"]))[:, 1]


def randomized(module, spec, n=2):
    return [{"score": scorer(m, spec), "module": m} for m in (randomize_module(module, seed=100 + i) for i in range(n))]


def test_integrated_gradients_add_up_to_the_score_minus_the_typical_rows(credit):
    module, spec, _, test = credit
    rows = test.iloc[:20]
    reference = reference_row(test, FEATURES)
    attributions = integrated_gradients(module, spec["input"], rows, reference=reference, n_steps=128)
    typical = scorer(module, spec)(pd.DataFrame([reference]).astype(test[FEATURES].dtypes.to_dict()))[0]
    assert attributions.shape == (20, len(FEATURES))
    np.testing.assert_allclose(attributions.sum(axis=1), scorer(module, spec)(rows) - typical, atol=5e-3)


def test_randomizing_a_module_changes_every_layer_and_repeats_with_its_seed(credit):
    module = credit[0]
    first, again = randomize_module(module, seed=3), randomize_module(module, seed=3)
    for (name, p), q, r in zip(module.named_parameters(), first.parameters(), again.parameters()):
        assert not torch.equal(p, q), name
        assert torch.equal(q, r), name


def test_the_credit_models_explanations_pass_both_tests(credit):
    module, spec, _, test = credit
    result = explainability_probe(scorer(module, spec), test, test["risk"].to_numpy(), features=FEATURES,
                                  outcome="risk = 1", module=module, spec_input=spec["input"],
                                  randomized=randomized(module, spec), **SMALL)
    checks = explainability_checks(result, THRESHOLDS["high"])
    ig = result["methods"]["integrated_gradients"]
    assert ig["deletion"]["ci"][0] > 0  # the ranking moves the model more than random orders
    assert ig["randomization"]["ci"][1] < 0.5  # and it changes when the model learned nothing
    assert ig["verdict"] == "trustworthy"
    assert {c["outcome"] for c in checks if c["feature"] == ig["label"]} == {"pass"}
    assert len(result["local"]) == 5
    # Local explanations name rows as the dataset does and quote their values.
    for row in result["local"]:
        for c in row["contributions"]:
            assert c["value"] == str(test.loc[row["row"], c["feature"]])


def test_a_reversed_ranking_fails_the_deletion_test(credit):
    module, spec, _, test = credit
    result = explainability_probe(scorer(module, spec), test, test["risk"].to_numpy(), features=FEATURES,
                                  outcome="risk = 1", module=module, spec_input=spec["input"], **SMALL)
    order = result["methods"]["integrated_gradients"]["order"]
    backwards = deletion_test(scorer(module, spec), test.reset_index(drop=True), order[::-1],
                              reference=reference_row(test, FEATURES), k=5, n_random=19)
    assert backwards["ci"][1] < 0


def test_a_broken_explainer_that_ignores_the_model_fails_the_randomization_check(credit):
    """The explainer reports each feature's encoded distance from the typical row: it looks like
    an explanation, but it says the same about any model (Adebayo et al.'s edge detector)."""
    module, spec, _, test = credit
    reference = reference_row(test, FEATURES)
    base = encode(pd.DataFrame([reference]).astype(test[FEATURES].dtypes.to_dict()), spec["input"])
    from audits.kinds.explainability.probe import feature_slices

    def broken(_module, frame):
        deviation = np.abs(encode(frame, spec["input"]) - base)
        return np.stack([deviation[:, s].sum(axis=1) for _, s in feature_slices(spec["input"])], axis=1)

    result = explainability_probe(scorer(module, spec), test, test["risk"].to_numpy(), features=FEATURES,
                                  outcome="risk = 1", module=module, spec_input=spec["input"], attribute=broken,
                                  randomized=randomized(module, spec), **SMALL)
    checks = explainability_checks(result, THRESHOLDS["high"])
    method = result["methods"]["integrated_gradients"]
    assert method["randomization"]["similarity"] == pytest.approx(1.0)
    assert method["verdict"] == "not trustworthy"
    assert [c["outcome"] for c in checks if c["metric"] == "randomization_similarity"
            and c["feature"] == method["label"]] == ["fail"]


# ---------------------------------------------------------------------------
# Proxies
# ---------------------------------------------------------------------------


def planted(frame: pd.DataFrame, rng) -> pd.DataFrame:
    out = frame.copy()
    out["sex_proxy"] = (out["sex"] == "female").astype(float) + rng.normal(0, 0.5, len(out))
    out["noise"] = rng.normal(0, 1, len(out))
    return out


def test_a_planted_proxy_for_sex_is_found_and_pure_noise_is_not(credit_frames):
    """sex plus noise, on the credit data, used by a model that does not see sex.

    So that the model does use it, the recorded outcomes are biased against women (60% of the
    good risks among women relabelled bad), as historical decisions can be: the proxy then
    carries a share of the decisions, which is when it matters."""
    rng = np.random.default_rng(0)
    train, test = (planted(f, rng) for f in credit_frames)
    for f in (train, test):
        women_good = (f["sex"] == "female") & (f["risk"] == 1)
        f.loc[women_good & (rng.random(len(f)) < 0.6), "risk"] = 0
    numeric = ["credit_amount", "duration", "age", "sex_proxy", "noise"]
    categorical = ["job", "housing", "saving_accounts", "checking_account", "purpose"]
    spec = tabular_mlp_spec(train, numeric=numeric, categorical=categorical, classes=[0, 1], training={"epochs": 5})
    module = train_from_spec(spec, train, label_column="risk", device=torch.device("cpu"))
    result = explainability_probe(scorer(module, spec), test, test["risk"].to_numpy(), features=numeric + categorical,
                                  outcome="risk = 1", sensitive=test[["sex"]], proxy_rows=(train, train[["sex"]]),
                                  module=module, spec_input=spec["input"], randomized=randomized(module, spec, 1),
                                  **SMALL)
    explainability_checks(result, THRESHOLDS["high"])
    pairs = {p["feature"]: p for p in result["proxies"]["pairs"]}
    assert pairs["sex_proxy"]["important"] and pairs["sex_proxy"]["ci"][0] > 0.70
    assert [(f["feature"], f["attribute"], f["outcome"]) for f in result["proxy_findings"]] == [
        ("sex_proxy", "sex", "fail")]
    assert pairs["noise"]["ci"][0] < 0.5 < pairs["noise"]["ci"][1]


def test_a_proxy_needs_both_importance_and_predictive_power(credit_frames):
    rng = np.random.default_rng(0)
    train, test = (planted(f, rng) for f in credit_frames)
    scan = proxy_scan(test, features=["sex_proxy", "noise"], sensitive=test[["sex"]], fit_frame=train,
                      fit_sensitive=train[["sex"]], shares={"sex_proxy": 0.05, "noise": 0.95})
    pairs = {p["feature"]: p for p in scan["pairs"]}
    assert pairs["sex_proxy"]["auc"] > 0.85 and not pairs["sex_proxy"]["important"]
    assert pairs["noise"]["important"] and interval_outcome(pairs["noise"]["auc"], pairs["noise"]["ci"],
                                                            {"max": 0.70}) == "pass"
    assert scan["pair_level"] == pytest.approx(1 - 0.05 / 2)


def test_a_local_explanation_leaves_out_contributions_that_round_to_nothing():
    from audits.kinds.explainability.probe import local_explanations

    rows = pd.DataFrame({"duration": [48], "amount": [2445]})
    (row,) = local_explanations(rows, np.array([[-0.15, -0.001]]), features=["duration", "amount"],
                                scores=np.array([0.78]), reference={"duration": 18, "amount": 2445},
                                reference_score=0.93, outcome="risk = 1")
    assert [c["feature"] for c in row["contributions"]] == ["duration"]
    assert row["sentence"] == ("Score 0.78 against 0.93 for a typical row: duration of 48 lowered the score for "
                               "risk = 1 most (−0.15; a typical row has 18).")
