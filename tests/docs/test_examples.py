"""The files under docs/examples/ are what make_examples.py writes from the project's own data
and training code, and they fit together as the README uploads them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from governance.demo.datasets import DATA_DIR
from governance.demo.drift import shift_credit_batch
from training.artifacts import load_model
from training.recipes import tabular_mlp_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
_spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
make_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_examples)


def _splits():
    frame = pd.read_csv(DATA_DIR / "german_credit.csv")
    return train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])


def test_the_holdout_is_the_demo_test_split_in_the_schema_columns():
    _, test = _splits()
    schema = json.loads((EXAMPLES / "schema.json").read_text())
    holdout = pd.read_csv(EXAMPLES / "holdout.csv")
    assert list(holdout.columns) == schema["features"] + [schema["label"]]
    assert len(holdout) == 300
    pd.testing.assert_frame_equal(holdout, test[list(holdout.columns)].reset_index(drop=True), check_dtype=False)


def test_the_spec_is_the_training_recipe_fitted_on_the_train_split():
    train, _ = _splits()
    columns = make_examples.NUMERIC + make_examples.CATEGORICAL + [make_examples.LABEL]
    expected = tabular_mlp_spec(train[columns], numeric=make_examples.NUMERIC, categorical=make_examples.CATEGORICAL,
                                classes=[0, 1], training=make_examples.TRAINING)
    assert json.loads((EXAMPLES / "spec.json").read_text()) == json.loads(json.dumps(expected))


def test_the_weights_load_with_the_spec_and_predict_both_classes_on_the_holdout():
    model = load_model((EXAMPLES / "model.safetensors").read_bytes(), spec=(EXAMPLES / "spec.json").read_text())
    predictions = model.predict(pd.read_csv(EXAMPLES / "holdout.csv"))
    assert len(predictions) == 300 and set(predictions.tolist()) == {0, 1}


def test_the_production_batch_is_the_demo_shifted_test_split():
    _, test = _splits()
    batch = pd.read_csv(EXAMPLES / "batch-2026-11-26.csv")
    pd.testing.assert_frame_equal(batch, shift_credit_batch(test), check_dtype=False)
