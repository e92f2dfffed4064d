"""Data quality of the version's training and test datasets (audits/kinds/data_quality/probe.py).

Train is the version's training dataset (its evaluation dataset when it has none); test is
the evaluation dataset. Columns come from the training data's declared schema.

Representation is measured per sensitive column against params["population_shares"] when
given, else against the system's latest "reference" dataset, else not compared (the check
then warns that there is no yardstick). A numeric sensitive column with more than 10 distinct
values (age) is compared in bins, the fairness audit's ([18, 25, 35, 50, 65, 120], open at
both ends) unless params["bins"] names others; shares for it are keyed by the bin label,
e.g. {"age": {"[25.0, 35.0)": 0.3, ...}}. The binned copy only feeds representation: the
other checks see the column as it is.

Outcome: any failed check -> "fail"; else any warning -> stored "inconclusive", which the gate
and the controls treat as undecided (a person should look; a compliance officer settles the
control after review), and which every page, report and API answer calls a "warning" with its
own explanation (words.py OUTCOMES), never the confidence-interval sentence; else "pass".
"""

from __future__ import annotations

import json
import math

import pandas as pd

from audits.kinds.data_quality.probe import data_quality_report
from audits.kinds.fairness.probe import CONTINUOUS_MIN_DISTINCT, default_bins
from audits.runs.runner import AuditInputError, RunOutcome
from governance.registry.models import Dataset, DatasetRole
from governance.registry.selectors import dataset_frame

NO_DATA = "The version has no labelled dataset; register a training or evaluation dataset with schema.label."
BAD_SHARES = "params.population_shares must map sensitive columns ({columns}) to {{group: share}} objects."
BINNED = "{column} (binned)"
# Checks whose rows are worth showing as data, not only as row numbers.
ROW_EXAMPLES = {"duplicate_rows", "label_errors", "split_leakage"}


def run(*, run, progress) -> RunOutcome:
    version = run.version
    train_ds = version.train_dataset or version.eval_dataset
    test_ds = version.eval_dataset if version.train_dataset is not None else None
    if train_ds is None or not train_ds.schema.get("label"):
        raise AuditInputError(NO_DATA)
    schema, params = train_ds.schema, run.params
    progress(5, "loading the datasets")
    train = dataset_frame(train_ds).reset_index(drop=True)
    test = dataset_frame(test_ds).reset_index(drop=True) if test_ds is not None else None
    sensitive = list(schema.get("sensitive") or [])
    shares = params.get("population_shares")
    if shares is not None and (not isinstance(shares, dict) or set(shares) - set(sensitive)):
        raise AuditInputError(BAD_SHARES.format(columns=", ".join(sensitive) or "none declared"))
    reference_ds = None
    if shares is None and sensitive:
        reference_ds = (Dataset.objects.filter(system=run.system, role=DatasetRole.REFERENCE)
                        .order_by("-created_at").first())
    reference = dataset_frame(reference_ds) if reference_ds is not None else None
    bins = default_bins(sensitive, params.get("bins"))
    train_in, reference_in, compared = _binned(train, reference, sensitive, bins)
    if shares is not None:
        # JSON objects lose their key order in PostgreSQL (jsonb): list bins in their own order.
        shares = {compared[c]: _bin_order(v, bins[c]) if c in bins and isinstance(v, dict) else v
                  for c, v in shares.items()}
    progress(15, "running the checks (the model-based ones cross-validate, which takes longest)")
    report = data_quality_report(
        train_in, test, feature_columns=schema["features"], label_column=schema["label"],
        sensitive_columns=[compared[c] for c in sensitive], population_shares=shares, reference=reference_in,
        near_duplicate_tol=params["near_duplicate_tol"], leakage_auc=params["leakage_auc"],
        n_folds=params["n_folds"], random_state=params["seed"], max_examples=params["max_examples"],
    )
    progress(90, "collecting examples")
    report["datasets"] = {
        "train": {"id": str(train_ds.pk), "name": train_ds.name},
        "test": None if test_ds is None else {"id": str(test_ds.pk), "name": test_ds.name},
        "reference": None if reference_ds is None else {"id": str(reference_ds.pk), "name": reference_ds.name},
    }
    report["bins"] = {c: list(map(float, e)) for c, e in bins.items() if c in compared and compared[c] != c}
    report["row_examples"] = _row_examples(report, train, test, schema)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    failed = [n for n, s in statuses.items() if s == "fail"]
    warned = [n for n, s in statuses.items() if s == "warn"]
    outcome = "fail" if failed else "inconclusive" if warned else "pass"
    summary = (
        f"Data quality of {train_ds.name} ({len(train)} rows)"
        + (f" and {test_ds.name} ({len(test)} rows)" if test_ds is not None else "")
        + f": {len(statuses) - len(failed) - len(warned)} of {len(statuses)} checks passed"
        + (f", failed: {', '.join(failed)}" if failed else "")
        + (f", to review: {', '.join(warned)}" if warned else "")
        + "."
    )
    return RunOutcome(outcome=outcome, summary=summary, results=report, seeds={"cross_validation": params["seed"]})


def _bin_labels(edges) -> list[str]:
    full = [-math.inf, *map(float, edges), math.inf]
    return [f"[{a}, {b})" for a, b in zip(full, full[1:])]


def _binned(train, reference, sensitive, bins):
    """Copies with a binned column beside each continuous sensitive column; the name map."""
    compared = {c: c for c in sensitive}
    train, reference = train.copy(), None if reference is None else reference.copy()
    for column in sensitive:
        values = train[column]
        continuous = (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                      and (column in bins or values.nunique() >= CONTINUOUS_MIN_DISTINCT))
        if not continuous:
            continue
        edges = bins.get(column) or sorted(values.quantile([0.25, 0.5, 0.75]).unique().tolist())
        bins[column] = edges
        full = [-math.inf, *map(float, edges), math.inf]
        name = BINNED.format(column=column)
        for frame in (train, reference):
            if frame is not None and column in frame.columns:
                frame[name] = pd.cut(frame[column], full, right=False, labels=_bin_labels(edges)).astype(object)
        compared[column] = name
    return train, reference, compared


def _bin_order(groups: dict, edges) -> dict:
    labels = _bin_labels(edges)
    return dict(sorted(groups.items(), key=lambda kv: labels.index(kv[0]) if kv[0] in labels else len(labels)))


def _row_examples(report, train, test, schema) -> dict:
    """The example rows' values, so a reviewer sees the data and not only row numbers."""
    columns = list(dict.fromkeys(schema["features"] + [schema["label"]]))
    out = {}
    for check in report["checks"]:
        if check["name"] not in ROW_EXAMPLES or not check["examples"]:
            continue
        rows = []
        for example in check["examples"]:
            if check["name"] == "duplicate_rows":
                rows += [("train", example[0], "first"), ("train", example[1], f"repeats row {example[0]}")]
            elif check["name"] == "label_errors":
                rows.append(("train", example["row"], f"given {example['given']}, suggested {example['suggested']} "
                                                      f"(self-confidence {example['self_confidence']:.2f})"))
            else:
                copy = f"{example['kind']} copy of training row {example['train_row']}"
                rows += [("train", example["train_row"], "training row"), ("test", example["test_row"], copy)]
        out[check["name"]] = [
            {"split": split, "row": int(row), "note": note,
             "values": _json_row(_frame(train, test, split), columns, row)}
            for split, row, note in rows
        ]
    return out


def _frame(train, test, split):
    return train if split == "train" else test


def _json_row(frame: pd.DataFrame, columns: list[str], row) -> dict:
    present = [c for c in columns if c in frame.columns]
    return json.loads(frame[present].iloc[int(row)].to_json(default_handler=str))
