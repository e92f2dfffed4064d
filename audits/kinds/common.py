"""What the robustness, poisoning, privacy and DP-retraining runners share.

The device (AUDIT_DEVICE, recorded on the run), the labelled frames of a version, the
torch-only guard, and policy checks of the form {"min": x} / {"max": x}: decided on a point
value (`check`), or, for the proportions robustness and privacy decide on (robust accuracy,
an attack's true positive rate), on their Clopper-Pearson interval with a minimum sample
below which the check is "insufficient data" (`interval_check`, audits/kinds/intervals.py).
An attack that succeeds is a proof, one that fails is not, so a "pass" reads "no attack in
this budget succeeded often enough".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.conf import settings

from audits.kinds.intervals import decide
from audits.runs.runner import AuditInputError
from governance.policies.services import audit_thresholds, policy_for
from governance.registry.selectors import dataset_frame, version_model
from training.train import resolve_device

NO_LABELLED = "The version has no {role} dataset with a label; register one with schema.label."
TORCH_ONLY = "The {kind} audit retrains or differentiates the model, so it needs a torch model (safetensors + spec); " \
             "this version is a {fmt} model."
BAD_DEVICE = "The worker's AUDIT_DEVICE setting cannot be used: {problem}"
NON_FINITE = ("The model's outputs are not finite (NaN or infinite) on {n} of {m} {rows}; no audit can judge a model "
              "whose outputs are not numbers (argmax would read them as its first class). Check its weights: a "
              "training run that diverged leaves NaN.")


def pick_device(model=None):
    """AUDIT_DEVICE=auto|cpu|cuda (settings, from the environment); 'cuda' without a GPU fails the run.
    An int8 copy (`model.quantized`) runs on the CPU whatever the setting: its kernels exist only there."""
    if getattr(model, "quantized", False):
        import torch

        return torch.device("cpu")
    try:
        return resolve_device(settings.AUDIT_DEVICE)
    except (RuntimeError, ValueError) as exc:
        raise AuditInputError(BAD_DEVICE.format(problem=exc)) from None


def device_label(device) -> str:
    """'cuda (NVIDIA H100 80GB HBM3)' or 'cpu': what the run record shows."""
    import torch

    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"[:64]
    return "cpu"


def labelled_frame(dataset, *, role: str) -> tuple[pd.DataFrame, str]:
    """A dataset's rows (original index kept, so rows are reported by their position in the file) and label."""
    if dataset is None or not dataset.schema.get("label"):
        raise AuditInputError(NO_LABELLED.format(role=role))
    return dataset_frame(dataset), dataset.schema["label"]


def train_and_eval_frames(version) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The version's training and evaluation rows, with the evaluation label renamed to the
    training label's name so both frames feed the same probe."""
    train, label = labelled_frame(version.train_dataset, role="training")
    test, test_label = labelled_frame(version.eval_dataset, role="evaluation")
    if test_label != label:
        test = test.rename(columns={test_label: label})
    return train, test, label


def torch_model(version, kind: str):
    model = version_model(version)
    if model.module is None:
        raise AuditInputError(TORCH_ONLY.format(kind=kind, fmt=model.format))
    return model


def finite_outputs(scores, *, rows: str = "evaluation rows") -> np.ndarray:
    """The model's scores, or AuditInputError when any row's are NaN or infinite: such a model would
    otherwise "predict" its first class everywhere, and read fair, robust or private."""
    scores = np.asarray(scores, dtype=float)
    bad = ~np.isfinite(scores.reshape(len(scores), -1)).all(axis=1)
    if bad.any():
        raise AuditInputError(NON_FINITE.format(n=int(bad.sum()), m=len(scores), rows=rows))
    return scores


def model_outputs_check(model, frame: pd.DataFrame, *, rows: str = "evaluation rows") -> None:
    """finite_outputs on the model's scores for `frame` (a loaded ModelHandle)."""
    finite_outputs(model.predict_proba(frame), rows=rows)


def policy_thresholds(run, kind: str) -> tuple[dict, dict]:
    """(thresholds, the policy block stored in results) for the run's system."""
    policy = policy_for(risk_tier=run.system.risk_tier)
    thresholds = audit_thresholds(policy, kind)
    return thresholds, {"name": policy.name, "risk_tier": policy.risk_tier, "thresholds": thresholds}


def limit(spec: dict) -> tuple[str, float]:
    """{"max": 0.6, ...} -> ("<=", 0.6); other keys (epsilon, rate) qualify the measurement."""
    if "max" in spec:
        return "<=", float(spec["max"])
    return ">=", float(spec["min"])


def check(metric: str, value, spec: dict, *, feature: str = "", explanation: str = "",
          below_bar: str = "fail") -> dict:
    """One policy check. A value that could not be measured is inconclusive.

    `below_bar` is the outcome when the value misses the threshold: "inconclusive" for
    checks on the audit's own validity (a detector that misses a planted backdoor cannot
    vouch for a clean scan, but it has not found anything wrong either).
    """
    operator, threshold = limit(spec)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        outcome = "inconclusive"
    else:
        ok = value <= threshold if operator == "<=" else value >= threshold
        outcome = "pass" if ok else below_bar
    return {"metric": metric, "feature": feature, "value": None if value is None else float(value), "ci": None,
            "threshold": threshold, "operator": operator, "outcome": outcome, "explanation": explanation}


INSUFFICIENT = ("Insufficient data: {n} {unit}, fewer than the {minimum} the policy needs to decide this check, so "
                "it neither passes nor fails. ")


def interval_check(metric: str, value, ci, spec: dict, *, n: int, unit: str = "rows", feature: str = "",
                   explanation: str = "", judged_at: dict | None = None) -> dict:
    """One policy check decided on a 95% interval, with the policy's minimum sample.

    `spec` is {"min"|"max": x, "min_rows": m, ...}: with fewer than m (`n`) the check is
    inconclusive with status "insufficient_data"; otherwise pass when the whole interval
    meets the limit, fail when the whole of it misses, inconclusive in between.
    `judged_at` names the setting the policy judged it at (robustness: its epsilon), so
    pages, reports and the API can say so beside the outcome.
    """
    operator, threshold = limit(spec)
    minimum = int(spec.get("min_rows", 0))
    status = "ok"
    if n < minimum:
        outcome, status = "inconclusive", "insufficient_data"
        explanation = INSUFFICIENT.format(n=n, unit=unit, minimum=minimum) + explanation
    elif value is None or (isinstance(value, float) and not np.isfinite(value)):
        outcome = "inconclusive"
    else:
        outcome = decide(ci, operator, threshold)
    return {"metric": metric, "feature": feature, "value": None if value is None else float(value),
            "ci": None if ci is None else [float(ci[0]), float(ci[1])], "threshold": threshold,
            "operator": operator, "outcome": outcome, "status": status, "n": int(n), "min_rows": minimum,
            "judged_at": judged_at or {}, "explanation": explanation}


def scaled(progress, start: int, end: int, stage: str):
    """A probe's 0-100 progress mapped into [start, end] of the run's bar."""
    def report(pct: int) -> None:
        progress(start + (end - start) * max(0, min(100, int(pct))) // 100, stage)
    return report


def checks_sentence(checks: list[dict], policy_name: str) -> str:
    """'2 of 3 checks passed, 1 failed against 'High risk - production'.'"""
    failed = sum(c["outcome"] == "fail" for c in checks)
    unclear = sum(c["outcome"] == "inconclusive" for c in checks)
    return (f"{len(checks) - failed - unclear} of {len(checks)} checks passed"
            + (f", {failed} failed" if failed else "") + (f", {unclear} inconclusive" if unclear else "")
            + f" against '{policy_name}'.")
