"""Writes the files the README's commands upload, from the project's own data and training code.

    .venv/bin/python docs/examples/make_examples.py

- holdout.csv: the German credit test split (30%, seed 0, as the demo splits it), five columns;
- schema.json: its declared schema (features, label, sensitive attributes, categorical columns);
- spec.json, model.safetensors: an MLP trained on the matching 70% train split by
  training/recipes.py, the same recipe the demo uses (safetensors weights + an allowlisted spec);
- batch-2026-11-26.csv: a production batch for the demo's credit-scoring 1.0.0, the demo's own
  shifted slice of the test split (governance/demo/drift.py), so a drift review breaches.

Data: Statlog (German Credit Data), Hans Hofmann, UCI Machine Learning Repository,
https://doi.org/10.24432/C5NC77, CC BY 4.0 (governance/demo/data/SOURCES.md).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NUMERIC = ["age", "credit_amount", "duration"]
CATEGORICAL = ["housing", "sex"]
LABEL = "risk"
SCHEMA = {"features": NUMERIC + CATEGORICAL, "label": LABEL, "sensitive": ["age", "sex"], "categorical": CATEGORICAL}
# Few epochs: the file documents the upload path, it is not meant to be a good model.
TRAINING = {"epochs": 10}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    # The demo's shift lives beside Django models; settings are needed to import it, never a database.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from governance.demo.datasets import DATA_DIR
    from governance.demo.drift import shift_credit_batch
    from training.artifacts import torch_artifact
    from training.recipes import tabular_mlp_spec, train_from_spec

    frame = pd.read_csv(DATA_DIR / "german_credit.csv")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame[LABEL])
    columns = NUMERIC + CATEGORICAL + [LABEL]
    test[columns].to_csv(HERE / "holdout.csv", index=False)
    (HERE / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
    spec = tabular_mlp_spec(train[columns], numeric=NUMERIC, categorical=CATEGORICAL, classes=[0, 1], training=TRAINING)
    model = train_from_spec(spec, train[columns], label_column=LABEL, device="cpu")
    (HERE / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    (HERE / "model.safetensors").write_bytes(torch_artifact(model))
    shift_credit_batch(test).to_csv(HERE / "batch-2026-11-26.csv", index=False)


if __name__ == "__main__":
    main()
