"""Drift review of a production batch against the reference data, decided by the policy's rule.

Data
    batch      params["batch"] (a production Dataset of the system); else the latest one.
    reference  the system's latest dataset with role "reference" when there is one, else the
               version's training dataset (what the model learned from), else its evaluation
               dataset. Which one, and why, is in results["reference_dataset"].
    columns    the reference's declared schema: features not declared categorical are numeric.

Beyond the features
    predictions  the model's outputs on the reference against the batch: the positive-class
                 probability for a 0/1 classifier (numeric tests), the predicted class otherwise.
    performance  when the batch carries labels: its accuracy against the accuracy on the
                 version's evaluation dataset (the audited figure).
    estimate     for a 0/1 classifier with a labelled evaluation dataset: accuracy estimated from
                 the model's scores (CBPE, audits/kinds/drift/cbpe.py), their calibration checked,
                 and if need be fitted, on the evaluation data; overall and per sensitive group
                 (the schema's sensitive columns, binned as every audit bins them). Without
                 labels the estimated drop is a check against the same performance limit; with
                 labels it is recorded beside the realized accuracy.
    fairness     when the version has a succeeded fairness audit: confusion counts per group of each
                 audited sensitive feature, on the version's evaluation dataset (what the audit judged)
                 and on the batch, sliced alike (the audit's bins; quartile edges taken from the
                 evaluation data for both). Demographic parity difference, and equalized odds
                 difference with labels, are judged with uncertainty on both sides. Without labels
                 the batch's own predictions stand in for y_true; selection rates do not use it.

Decision rule (audits/kinds/drift/probe.py, `drift_review`): one error budget, alpha (default 0.01),
split evenly over the review's checks (Bonferroni), so that a batch drawn from the reference
distribution breaches at most alpha of the time; a batch under min_batch_rows rows, and a fairness
gap over groups under min_group_count, are "insufficient data". Each setting comes from the run's
params when given (not null), else from the policy's `audit_requirements["drift"]["rule"]`, else
RULE_DEFAULTS; results["rule_sources"] says which. A run may make the review more demanding (a
smaller alpha, larger minimums), never less: a weaker setting fails the run with a message naming
it. The run's outcome is "fail" on a breach (which
fails the drift evidence), "inconclusive" when the batch is too small to decide, else "pass".
"""

from __future__ import annotations

import numpy as np

from audits.drift.services import drift_breach_handle
from audits.kinds.drift.cbpe import performance_estimate
from audits.kinds.drift.checks import FAIRNESS_METRICS
from audits.kinds.drift.probe import DEFAULT_ALPHA, MIN_BATCH_ROWS, MIN_GROUP_COUNT, drift_review
from audits.kinds.drift.rule import ESTIMATE_BOOTSTRAP
from audits.kinds.fairness.probe import default_bins, fairness_audit, group_labels
from audits.runs.models import AuditRun, RunStatus
from audits.runs.params import POLICY_KEY
from audits.runs.runner import AuditInputError, RunOutcome
from governance.policies.services import policy_for
from governance.registry.models import Dataset, DatasetRole
from governance.registry.selectors import dataset_frame, version_model

RULE_DEFAULTS = {
    "psi_bins": 10,
    "alpha": DEFAULT_ALPHA,
    "correction": "bonferroni",
    "psi_bands": [0.1, 0.25],
    "min_batch_rows": MIN_BATCH_ROWS,
    "min_group_count": MIN_GROUP_COUNT,
    "seed": 0,
    "performance_drop_max": 0.05,
    "fairness_max_increase": 0.05,
    "estimate_calibrator": "platt",
    "estimate_bootstrap": ESTIMATE_BOOTSTRAP,
}

NO_BATCH = "There is no production batch to review; upload one first (POST /api/v1/batches/)."
BAD_BATCH = "params.batch: {batch} is not a production batch of this system."
BAD_LABELS = "The batch's label column '{label}' must hold the model's classes 0 and 1; found {found}."
NO_REFERENCE = "The version has no training or evaluation dataset to compare the batch with."
WEAKER = ("params.{key}: {value!r} would make the review less demanding than the policy; it must be {bound} "
          "{policy!r}. A request may ask for more evidence, never less.")


def run(*, run: AuditRun, progress) -> RunOutcome:
    version = run.version
    batch = _batch(run)
    reference_ds, why = _reference(version)
    schema = reference_ds.schema
    categorical = [c for c in schema["features"] if c in (schema.get("categorical") or [])]
    numeric = [c for c in schema["features"] if c not in categorical]
    rule, sources = _rule(run)
    progress(5, "loading the reference and the batch")
    reference = dataset_frame(reference_ds)
    current = dataset_frame(batch)
    label = batch.schema.get("label")
    progress(20, "scoring the reference and the batch")
    model = version_model(version)
    scored = _scored(version, model, reference, current, label)
    progress(45, "comparing distributions feature by feature")
    review = drift_review(
        reference, current, numeric=numeric, categorical=categorical, psi_bins=rule["psi_bins"],
        alpha=rule["alpha"], correction=rule["correction"], psi_bands=tuple(rule["psi_bands"]),
        min_batch_rows=rule["min_batch_rows"], min_group_count=rule["min_group_count"], seed=rule["seed"],
        reference_predictions=scored.get("reference_predictions"),
        current_predictions=scored.get("current_predictions"),
        current_labels=scored.get("current_labels"), reference_accuracy=scored.get("reference_accuracy"),
        reference_accuracy_rows=scored.get("reference_accuracy_rows"),
        performance_drop_max=rule["performance_drop_max"],
        fairness_drift=_fairness_drift(version, current, scored, rule["fairness_max_increase"], model),
        performance_estimate=_estimate(scored, current, rule),
    )
    review["batch"] = _describe(batch)
    review["reference_dataset"] = {**_describe(reference_ds), "role": reference_ds.role, "why": why}
    review["rule_sources"] = sources
    review["notes"] = scored.get("notes", [])
    if review["breach"]:
        progress(92, "breach: recording the retraining recommendation and alerting")
        drift_breach_handle(run=run, review=review)
    drifted = [f["name"] for f in review["features"] if f["drifted"]]
    too_small = review["status"] == "insufficient_data"
    summary = (
        f"Drift review of {batch.name} ({batch.n_rows} rows) against {reference_ds.name}: "
        + (f"insufficient data: the batch has fewer than {rule['min_batch_rows']} rows, so it cannot breach."
           if too_small else
           f"{len(drifted)} of {len(review['features'])} features drifted"
           + (f" ({', '.join(drifted[:6])}{', ...' if len(drifted) > 6 else ''})" if drifted else "")
           + _estimate_clause(review.get("performance_estimate"))
           + (". BREACH: " + " ".join(review["breaches"][:3]) if review["breach"] else "; no breach."))
    )
    outcome = "fail" if review["breach"] else "inconclusive" if too_small else "pass"
    return RunOutcome(outcome=outcome, summary=summary[:2000], results=review)


def _estimate_clause(estimate: dict | None) -> str:
    """The label-free accuracy estimate in the summary that exports and the evidence carry."""
    if not estimate:
        return ""
    said = (f"; accuracy estimated without labels {estimate['estimate']:.3f} "
            f"({estimate['confidence']:.0%} interval {estimate['low']:.3f} to {estimate['high']:.3f})")
    if estimate.get("realized") is not None:
        said += f", realized {estimate['realized']:.3f} from the batch's labels"
    return said


def _batch(run) -> Dataset:
    batches = Dataset.objects.filter(system=run.system, role=DatasetRole.PRODUCTION)
    batch_id = run.params.get("batch")
    if batch_id:
        batch = batches.filter(pk=batch_id).first()
        if batch is None:
            raise AuditInputError(BAD_BATCH.format(batch=batch_id))
        return batch
    batch = batches.order_by("-created_at").first()
    if batch is None:
        raise AuditInputError(NO_BATCH)
    return batch


def _reference(version):
    declared = Dataset.objects.filter(system=version.system, role=DatasetRole.REFERENCE).order_by("-created_at").first()
    if declared is not None:
        return declared, "the system's declared reference dataset"
    if version.train_dataset is not None:
        return version.train_dataset, "the version's training data (no reference dataset declared)"
    if version.eval_dataset is not None:
        return version.eval_dataset, "the version's evaluation data (no reference or training dataset)"
    raise AuditInputError(NO_REFERENCE)


def _rule(run) -> tuple[dict, dict]:
    policy = policy_for(risk_tier=run.system.risk_tier)
    from_policy = (policy.audit_requirements.get("drift") or {}).get("rule") or {}
    rule, sources = {}, {}
    # The values the run was stored with from its policy (audits/runs/services.py) read as the policy's.
    by_policy = set((run.params.get(POLICY_KEY) or {}).get("params") or ())
    for key, default in RULE_DEFAULTS.items():
        floor = from_policy[key] if from_policy.get(key) is not None else default
        if run.params.get(key) is not None:
            _check_not_weaker(key, run.params[key], floor)
            rule[key] = run.params[key]
            sources[key] = f"policy '{policy.name}'" if key in by_policy else "run parameters"
        elif from_policy.get(key) is not None:
            rule[key], sources[key] = from_policy[key], f"policy '{policy.name}'"
        else:
            rule[key], sources[key] = default, "default"
    return rule, sources


def _check_not_weaker(key, value, policy_value) -> None:
    """A request may ask for more evidence or a smaller error budget, never less or a larger one."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, policy_value))
    if not numbers:
        return  # a malformed value is the probe's to refuse, with its own message
    if key == "alpha" and value > policy_value:
        raise AuditInputError(WEAKER.format(key=key, value=value, bound="at most", policy=policy_value))
    if key in ("min_batch_rows", "min_group_count", "estimate_bootstrap") and value < policy_value:
        raise AuditInputError(WEAKER.format(key=key, value=value, bound="at least", policy=policy_value))


def _describe(dataset: Dataset) -> dict:
    return {"id": str(dataset.pk), "name": dataset.name, "n_rows": dataset.n_rows, "sha256": dataset.sha256,
            "created_at": dataset.created_at.isoformat()}


def _scored(version, model, reference, current, label) -> dict:
    """Predictions on both sides, batch labels and the audited accuracy, in the probe's terms."""
    classes = list(model.classes)
    zero_one = len(classes) == 2 and {str(c) for c in classes} == {"0", "1"}
    out = {"notes": []}

    def predict(frame):
        proba = model.predict_proba(frame)
        hard = np.asarray(classes)[proba.argmax(axis=1)]
        return (proba[:, [str(c) for c in classes].index("1")] if zero_one else hard.astype(str)), hard

    out["reference_predictions"], _ = predict(reference)
    out["current_predictions"], out["current_hard"] = predict(current)
    out["zero_one"] = zero_one
    evaluation = version.eval_dataset
    labelled_evaluation = evaluation is not None and evaluation.schema.get("label")
    if labelled_evaluation:
        frame = dataset_frame(evaluation)
        scores, predicted = predict(frame)
        truth = frame[evaluation.schema["label"]].to_numpy()
        out["reference_accuracy"] = float(np.mean(predicted.astype(str) == truth.astype(str)))
        out["reference_accuracy_rows"] = int(len(truth))
        if zero_one:
            out["evaluation_scores"] = scores
            out["evaluation_labels"] = np.isin(truth.astype(str), ["1", "1.0"]).astype(int)
            out["sensitive"] = [c for c in (evaluation.schema.get("sensitive") or []) if c in current.columns]
    if label is None:
        out["notes"].append(
            "The batch has no labels: accuracy was not measured; it was estimated from the model's scores."
            if labelled_evaluation and zero_one else
            "The batch has no labels: performance decay was not measured.")
        return out
    labels = current[label].to_numpy()
    if zero_one and not {str(v) for v in np.unique(labels)} <= {"0", "1", "0.0", "1.0"}:
        found = ", ".join(map(str, np.unique(labels)[:5]))
        raise AuditInputError(BAD_LABELS.format(label=label, found=found))
    out["current_labels"] = labels.astype(int) if zero_one else labels.astype(str)
    if not labelled_evaluation:
        out["notes"].append("No labelled evaluation dataset: the batch accuracy has nothing to compare with.")
    return out


def _estimate(scored, current, rule) -> dict | None:
    """CBPE on the batch: calibration checked (and fitted if need be) on the evaluation data."""
    if "evaluation_scores" not in scored:
        scored["notes"].append("Accuracy was not estimated from scores: that needs a 0/1 classifier and a "
                               "labelled evaluation dataset to check the scores' calibration on.")
        return None
    bins = default_bins(scored["sensitive"])
    groups = {c: group_labels(current[c], bins.get(c)) for c in scored["sensitive"]}
    estimate = performance_estimate(
        scored["evaluation_scores"], scored["evaluation_labels"], scored["current_predictions"], groups=groups,
        calibrator=rule["estimate_calibrator"], n_bootstrap=rule["estimate_bootstrap"],
        min_group_count=rule["min_group_count"], seed=rule["seed"])
    if not estimate["calibration"]["calibrated"]:
        scored["notes"].append(
            "The model's scores are not calibrated on the evaluation data (Hosmer-Lemeshow p = "
            f"{estimate['calibration']['hl_p_value']:.2g}); the accuracy estimate corrects them, as it does "
            f"every estimate, with {rule['estimate_calibrator']} scaling fitted on the evaluation data.")
    return estimate


def _fairness_drift(version, current, scored, max_increase, model) -> dict | None:
    """Confusion counts per group of each audited sensitive feature, on the evaluation data the
    fairness audit judged and on the batch, sliced the same way (the probe needs the counts, not
    the point values, to allow for the uncertainty on both sides)."""
    audit = (
        AuditRun.objects.filter(version=version, kind="fairness", status=RunStatus.SUCCEEDED)
        .order_by("-finished_at").first()
    )
    evaluation = version.eval_dataset
    audited_features = (audit.results.get("features") or {}) if audit else {}
    # In the schema's order: a stored dict's key order is not kept (PostgreSQL's jsonb sorts keys).
    declared = list((evaluation.schema.get("sensitive") if evaluation else None) or [])
    order = {c: i for i, c in enumerate(declared)}
    sensitive = sorted((c for c in audited_features if c in current.columns),
                       key=lambda c: (order.get(c, len(order)), c))
    if audit is None or not scored["zero_one"]:
        scored["notes"].append(
            "Fairness drift was not measured: it needs a succeeded fairness audit of this version "
            "and a 0/1 classifier.")
        return None
    if evaluation is None or not evaluation.schema.get("label"):
        scored["notes"].append("Fairness drift was not measured: the version has no labelled evaluation dataset.")
        return None
    frame = dataset_frame(evaluation)
    sensitive = [c for c in sensitive if c in frame.columns]
    if not sensitive:
        scored["notes"].append("Fairness drift was not measured: the batch lacks the audited sensitive columns.")
        return None
    classes = list(model.classes)
    eval_pred = (np.asarray(classes)[model.predict_proba(frame).argmax(axis=1)].astype(str) == "1").astype(int)
    eval_true = (frame[evaluation.schema["label"]].astype(str).isin(["1", "1.0"])).to_numpy().astype(int)
    y_pred = (scored["current_hard"].astype(str) == "1").astype(int)
    labels = scored.get("current_labels")
    # Without labels the batch's predictions stand in for y_true: only selection rates are read then.
    y_true = labels if labels is not None else y_pred
    bins = default_bins(sensitive, {k: v for k, v in (audit.params.get("bins") or {}).items() if k in sensitive})
    audited = _cells(eval_true, eval_pred, frame[sensitive], bins)
    # Quartile bins come from the data: take the evaluation data's edges for both sides.
    bins.update({name: spec["bins"] for name, spec in audited["params"]["features"].items()
                 if spec.get("type") == "continuous" and name not in bins})
    audited = _cells(eval_true, eval_pred, frame[sensitive], bins)
    on_batch = _cells(y_true, y_pred, current[sensitive], bins)
    metrics = list(FAIRNESS_METRICS) if labels is not None else list(FAIRNESS_METRICS[:1])
    return {"audited": _by_group(audited, sensitive), "current": _by_group(on_batch, sensitive),
            "metrics": metrics, "max_increase": max_increase}


def _cells(y_true, y_pred, sensitive, bins) -> dict:
    return fairness_audit(np.asarray(y_true), np.asarray(y_pred), sensitive_features=sensitive.reset_index(drop=True),
                          bins=bins, intervals=False, intersectional=False)


def _by_group(result, sensitive) -> dict:
    return {feature: {g["group"]: dict(g["confusion"]) for g in result["features"][feature]["groups"]}
            for feature in sensitive}
