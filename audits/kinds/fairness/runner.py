"""Fairness slices on the version's evaluation dataset, decided by the system's policy."""

from __future__ import annotations

import numpy as np

from audits.kinds.fairness.probe import (
    default_bins,
    error_budget_words,
    fairness_audit,
    fairness_evaluate,
    mitigation_outlook,
)
from audits.kinds.common import finite_outputs
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome
from governance.policies.services import audit_thresholds, policy_for
from governance.registry.selectors import dataset_frame, version_model
from training.sklearn_wrapper import TorchProbaClassifier

NO_EVAL_DATA = "The version has no evaluation dataset; register one with a label and sensitive features."
NO_SENSITIVE = "The evaluation dataset declares no sensitive features (schema.sensitive)."
NOT_BINARY = "The fairness audit needs a binary classifier; this model has {n} classes."


def run(*, run, progress) -> RunOutcome:
    version = run.version
    dataset = version.eval_dataset
    if dataset is None or not dataset.schema.get("label"):
        raise AuditInputError(NO_EVAL_DATA)
    sensitive = dataset.schema.get("sensitive") or []
    if not sensitive:
        raise AuditInputError(NO_SENSITIVE)
    progress(5, "loading model and data")
    frame = dataset_frame(dataset)
    model = version_model(version)
    if len(model.classes) != 2:
        raise AuditInputError(NOT_BINARY.format(n=len(model.classes)))
    progress(20, "scoring the evaluation data")
    proba = finite_outputs(model.predict_proba(frame))
    classes = list(model.classes)
    positive = classes[1]  # by convention the second class is the favourable outcome
    y_true = (frame[dataset.schema["label"]].to_numpy() == positive).astype(int)
    y_pred = (np.asarray(classes)[proba.argmax(axis=1)] == positive).astype(int)
    params = run.params
    bins = default_bins(sensitive, params.get("bins"))
    progress(40, "computing slices and their exact intervals")
    result = fairness_audit(
        y_true, y_pred, sensitive_features=frame[sensitive], y_score=proba[:, 1], bins=bins,
        min_slice_count=params["min_slice_count"], intervals=params["intervals"], random_state=params["seed"],
    )
    if params.get("mitigation", True):
        progress(70, "mitigation outlook (ThresholdOptimizer, ExponentiatedGradient) on a copy")
        result["mitigation"] = _mitigation(version, model, frame, y_true, sensitive,
                                           bins=bins, min_slice_count=params["min_slice_count"], seed=params["seed"])
    progress(90, "comparing with the policy")
    policy = policy_for(risk_tier=run.system.risk_tier)
    thresholds = audit_thresholds(policy, "fairness")
    checks = fairness_evaluate(result, thresholds=thresholds) if thresholds else []
    outcome = overall_outcome(checks)
    result["policy"] = {"name": policy.name, "risk_tier": policy.risk_tier, "thresholds": thresholds,
                        "error_budget": error_budget_words(checks=len(checks),
                                                           confidence_level=result["params"]["confidence_level"])
                        if checks else None}
    result["positive_label"] = str(positive)
    failed = [c for c in checks if c["outcome"] == "fail"]
    unclear = [c for c in checks if c["outcome"] == "inconclusive"]
    summary = (
        f"Fairness on {dataset.name} ({result['n']} rows, slices by {', '.join(sensitive)}): "
        f"{len(checks) - len(failed) - len(unclear)} of {len(checks)} checks passed"
        + (f", {len(failed)} failed" if failed else "")
        + (f", {len(unclear)} inconclusive" if unclear else "")
        + f" against '{policy.name}'."
    )
    return RunOutcome(outcome=outcome, summary=summary, results=result, checks=checks, seeds={"mitigation": params["seed"]})


NO_MITIGATION = "The mitigation outlook needs a torch tabular model and a labelled training dataset."


def _mitigation(version, model, test_frame, y_test, sensitive, *, bins, min_slice_count, seed) -> dict:
    """Fairlearn mitigations on copies: the registered model is never changed. The groups and the
    minimum slice size are the policy checks', so the baseline row agrees with them."""
    train_ds = version.train_dataset
    if model.module is None or model.spec["input"]["kind"] != "tabular" or train_ds is None:
        return {"rows": [], "recommendation": NO_MITIGATION, "caveats": ""}
    train_frame = dataset_frame(train_ds)
    positive = model.classes[1]
    y_train = (train_frame[train_ds.schema["label"]].to_numpy() == positive).astype(int)
    estimator = TorchProbaClassifier(module=model.module, classes=[0, 1]).fit(None)
    return mitigation_outlook(
        model.encode(train_frame), y_train, model.encode(test_frame), y_test,
        sensitive_train=train_frame[sensitive].reset_index(drop=True),
        sensitive_test=test_frame[sensitive].reset_index(drop=True),
        estimator=estimator, random_state=seed, bins=bins, min_slice_count=min_slice_count,
    )
