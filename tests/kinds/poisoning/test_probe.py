"""Poisoning probes: trigger and implant primitives by hand, then the planted digits backdoor
(the detector's acceptance bar) and small retraining runs (CPU, seeded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from art.attacks.poisoning.perturbations import add_pattern_bd

from audits.kinds.poisoning.probe import (
    ERR_LABEL_COLUMN,
    ERR_METHOD,
    ERR_NO_TRIGGER,
    ERR_POISON_ROWS,
    ERR_RATES,
    ERR_TARGET,
    METHODS,
    _flip_labels,
    backdoor_susceptibility,
    backdoor_trigger,
    detect_poison,
    implant_backdoor,
    retrain_on_arrays,
)
from training.encoding import encode, feature_layout
from training.recipes import digits_cnn_spec, digits_frame, labels_to_index, tabular_mlp_spec, train_from_spec

CPU = torch.device("cpu")
PIXELS = [f"pixel_{i}" for i in range(64)]
CREDIT_NUMERIC = ["credit_amount", "duration", "age"]
CREDIT_CATEGORICAL = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]


@pytest.fixture(scope="module")
def credit():
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(Path(__file__).resolve().parents[3] / "governance" / "demo" / "data" / "german_credit.csv")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
    spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                            training={"epochs": 10})
    return spec, train, test


# ---------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------


def test_the_image_trigger_is_arts_four_pixel_pattern():
    # add_pattern_bd with distance 2 on an 8x8 image sets (6,6), (5,5), (6,4) and (4,6).
    stamp, description = backdoor_trigger(digits_cnn_spec())
    stamped = stamp(np.zeros((2, 1, 8, 8), dtype=np.float32))
    rows, cols = np.nonzero(stamped[0, 0])
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(4, 6), (5, 5), (6, 4), (6, 6)]
    assert stamped.max() == 1.0 and np.array_equal(stamped[0], stamped[1])
    assert description["kind"] == "pixel-pattern"


def test_the_tabular_trigger_sets_two_numeric_features_to_their_training_maximum(credit):
    spec, train, _ = credit
    stamp, description = backdoor_trigger(spec)
    x = encode(train.iloc[:5], spec["input"])
    stamped = stamp(x)
    layout = feature_layout(spec["input"])
    assert description["features"] == ["credit_amount", "duration"]
    assert stamped[:, 0].tolist() == [pytest.approx(layout[0]["max"])] * 5
    assert stamped[:, 1].tolist() == [pytest.approx(layout[1]["max"])] * 5
    assert np.array_equal(stamped[:, 2:], x[:, 2:])  # age and every one-hot group untouched
    # The training maximum of credit_amount, back in raw units.
    assert layout[0]["max"] * spec["input"]["numeric"][0]["std"] + spec["input"]["numeric"][0]["mean"] == (
        pytest.approx(train["credit_amount"].max()))


def test_a_tabular_trigger_needs_a_numeric_feature(credit):
    _, train, _ = credit
    spec = tabular_mlp_spec(train, numeric=[], categorical=["sex"], classes=[0, 1])
    with pytest.raises(ValueError) as err:
        backdoor_trigger(spec)
    assert str(err.value) == ERR_NO_TRIGGER.format(reason="the input has no numeric feature with a training range")


def test_implant_poisons_the_rate_of_rows_from_other_classes_only():
    x = np.zeros((20, 1, 8, 8), dtype=np.float32)
    y = np.array([0] * 10 + [1] * 10)
    stamp, _ = backdoor_trigger(digits_cnn_spec())
    x_p, y_p, rows = implant_backdoor(x, y, trigger=stamp, rate=0.25, target=0, seed=0)
    assert len(rows) == 5 and (y[rows] == 1).all()  # round(0.25 * 20) rows, none already of the target
    assert (y_p[rows] == 0).all() and np.array_equal(np.delete(y_p, rows), np.delete(y, rows))
    assert np.array_equal(x_p[rows], add_pattern_bd(x[rows], pixel_value=1.0, channels_first=True))
    assert np.array_equal(np.delete(x_p, rows, axis=0), np.delete(x, rows, axis=0))
    assert x.max() == 0.0  # the input is not modified


def test_flipping_two_classes_swaps_exactly_the_rate_of_labels():
    y = np.array([0, 1] * 50)
    flipped, n = _flip_labels(y, 2, rate=0.1, seed=0)
    assert n == 10 and int((flipped != y).sum()) == 10
    assert ((flipped == 1 - y) | (flipped == y)).all()


def test_retraining_on_arrays_is_the_versions_own_recipe(credit):
    spec, train, _ = credit
    spec = {**spec, "training": {**spec["training"], "epochs": 1}}
    x, y = encode(train, spec["input"]), labels_to_index(train["risk"], spec["classes"])
    ours = retrain_on_arrays(spec, x, y, device="cpu").state_dict()
    recipe = train_from_spec(spec, train, label_column="risk", device=CPU).state_dict()
    assert all(torch.equal(ours[k], recipe[k]) for k in recipe)


# ---------------------------------------------------------------------------
# Detection: the planted digits backdoor
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted():
    """All 1797 digits; 10% of the rows (never 0s) get the pixel pattern and the label 0."""
    frame = digits_frame()
    rng = np.random.default_rng(0)
    candidates = np.flatnonzero(frame["label"].to_numpy() != 0)
    poison = np.sort(rng.choice(candidates, size=int(0.1 * len(frame)), replace=False))
    images = frame.loc[poison, PIXELS].to_numpy().reshape(-1, 8, 8)
    frame.loc[poison, PIXELS] = add_pattern_bd(images, pixel_value=16).reshape(-1, 64)  # 16 = full intensity
    frame.loc[poison, "label"] = 0
    frame.index = frame.index + 1000  # rows are reported by index label, not position
    spec = digits_cnn_spec()
    module = train_from_spec(spec, frame, label_column="label", device=CPU)
    return module, spec, frame, frame.index[poison]


def test_the_detector_finds_the_planted_backdoor(planted):
    module, spec, frame, poison = planted
    result = detect_poison(module, spec, frame, frame["label"], seed=0, device="cpu", poison_rows=poison)
    assert result["method"] == "raw-strip"
    assert result["recall"] >= 0.9
    assert result["precision"] >= 0.8
    # Precision and recall agree with the listed rows.
    flagged = {s["row"] for s in result["suspicious"]}
    assert len(flagged) == result["n_flagged"]
    assert len(flagged & set(poison)) / len(flagged) == pytest.approx(result["precision"])
    assert len(flagged & set(poison)) / len(poison) == pytest.approx(result["recall"])
    scores = [s["score"] for s in result["suspicious"]]
    assert scores == sorted(scores, reverse=True)
    assert result["per_class"]["0"]["n_flagged"] == result["n_flagged"]
    assert json.loads(json.dumps(result, allow_nan=False)) == result


@pytest.mark.parametrize("method", ["activation-distance", "spectral"])
def test_arts_detectors_run_on_penultimate_activations(planted, method):
    module, spec, frame, poison = planted
    result = detect_poison(module, spec, frame, frame["label"], method=method, device="cpu", poison_rows=poison)
    assert result["method"] == method and result["params"]["features"] == "penultimate activations"
    assert result["n_flagged"] == len(result["suspicious"])
    assert sum(c["n_flagged"] for c in result["per_class"].values()) == result["n_flagged"]
    assert 0.0 <= result["precision"] <= 1.0 and 0.0 <= result["recall"] <= 1.0


@pytest.mark.gpu
def test_the_detector_clears_the_bar_on_cuda_too(planted):
    module, spec, frame, poison = planted
    result = detect_poison(module, spec, frame, frame["label"], device="cuda", poison_rows=poison)
    assert result["recall"] >= 0.9 and result["precision"] >= 0.8
    assert next(module.parameters()).device == CPU


def test_tabular_detection_superimposes_numbers_and_keeps_categories(credit):
    # Not validated against a planted tabular backdoor (see the module docstring); this
    # checks the tabular path end to end on a clean model.
    spec, train, _ = credit
    module = train_from_spec(spec, train, label_column="risk", device=CPU)
    result = detect_poison(module, spec, train, train["risk"], device="cpu")
    assert set(result["per_class"]) == {"0", "1"}
    assert result["n_flagged"] == len(result["suspicious"])
    assert "precision" not in result
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_detection_options_are_checked(planted):
    module, spec, frame, _ = planted
    with pytest.raises(ValueError) as err:
        detect_poison(module, spec, frame, frame["label"], method="relative-size")
    assert str(err.value) == ERR_METHOD.format(accepted=list(METHODS), got="relative-size")
    with pytest.raises(ValueError) as err:
        detect_poison(module, spec, frame, frame["label"], poison_rows=[0])
    assert str(err.value) == ERR_POISON_ROWS.format(unknown=["0"])


# ---------------------------------------------------------------------------
# Susceptibility: retraining on poisoned copies
# ---------------------------------------------------------------------------


def test_tabular_backdoor_success_rises_with_the_rate(credit):
    spec, train, test = credit
    seen = []
    result = backdoor_susceptibility(spec, train, test, label_column="risk", rates=(0.10, 0.01), device="cpu",
                                     progress=seen.append)
    assert result["target_class"] == 1  # the last class by default
    assert result["trigger"]["features"] == ["credit_amount", "duration"]
    low, high = result["backdoor"]
    assert (low["rate"], high["rate"]) == (0.01, 0.10)
    assert (low["n_poisoned"], high["n_poisoned"]) == (7, 70)  # round(rate * 700)
    assert high["attack_success_rate"] > low["attack_success_rate"]
    flips = result["label_flip"]
    assert [f["n_flipped"] for f in flips] == [7, 70]
    for f in flips:
        assert f["accuracy_drop"] == pytest.approx(result["baseline"]["clean_accuracy"] - f["clean_accuracy"])
    assert seen[0] == 0 and seen[-1] == 100
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_image_backdoor_success_rises_with_the_rate():
    frame = digits_frame()
    train, test = frame.iloc[:1400], frame.iloc[1400:]
    spec = digits_cnn_spec(training={"epochs": 5})
    result = backdoor_susceptibility(spec, train, test, label_column="label", rates=(0.01, 0.10), target_class=0,
                                     device="cpu")
    low, high = result["backdoor"]
    assert high["attack_success_rate"] > low["attack_success_rate"]
    assert result["label_flip"] is None
    assert result["trigger"]["kind"] == "pixel-pattern"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rates": []}, ERR_RATES),
        ({"rates": [0.0]}, ERR_RATES),
        ({"rates": [1.0]}, ERR_RATES),
        ({"target_class": 2}, ERR_TARGET.format(target=2, classes=[0, 1])),
        ({"label_column": "label"}, ERR_LABEL_COLUMN.format(name="label", frame="train_frame")),
    ],
)
def test_susceptibility_options_are_checked(credit, options, message):
    spec, train, test = credit
    with pytest.raises(ValueError) as err:
        backdoor_susceptibility(spec, train, test, **{"label_column": "risk", **options})
    assert str(err.value) == message
