"""Differentially private retraining of a version (training/dp.py), registered as its child.

1. DP-SGD (Opacus) retrains the version's own architecture and recipe on its training dataset
   to (target_epsilon, delta); delta defaults to 1/(10 N), below 1/N as it must be.
2. `dp_comparison` (audits/kinds/privacy/probe.py) measures, before and after on the evaluation
   data: utility, membership inference (the privacy gain, measured rather than assumed) and
   accuracy per group of each sensitive feature (DP-SGD costs small groups the most).
3. The retrained model becomes a NEW version whose parent is the audited one, through
   `governance.registry.services.model_version_register` like any upload (audits/kinds/dp_retraining/services.py says who
   registers it), with the DP record and the privacy budget in its lineage.
4. The privacy budget of the system's training data (sum of epsilons, basic composition) is
   updated; past PRIVACY_BUDGET_EPSILON the results and summary carry a warning.

A redelivered run finds the version it already registered and only measures again. With
`recommendation` (set by `audits.kinds.dp_retraining.services.retraining_from_recommendation`), the drift
recommendation is closed with the new version.

Policy (audits/kinds/dp_retraining/thresholds.py): accuracy lost on the evaluation data, the
number of classes the new model still predicts (one for everyone is a collapse), the stronger
membership attack's AUC after retraining, and the growth of the accuracy gap between groups.
These judge the new version: a missed threshold fails the run, and the run names the new
version as the one judged (RunOutcome.judged_version), so the failed evidence is the new
version's and only the new version's approvals are revoked, never the audited parent's.
CPU defaults retrain with the version's own epochs and batch size (about 1.3-1.5x a normal
training once the worker's cache is warm, BENCHMARKS.md: under a minute for the demo models);
on a GPU the same settings simply run faster. settings.DP_CACHE_DIR keeps the noise calibration
and the measured grad-sample mode between runs (training/cache.py).
"""

from __future__ import annotations

from django.conf import settings

from audits.drift.models import RecommendationStatus
from audits.kinds.common import (
    check,
    checks_sentence,
    device_label,
    pick_device,
    policy_thresholds,
    scaled,
    torch_model,
    train_and_eval_frames,
)
from audits.kinds.dp_retraining.services import (
    KIND,
    accepted_recommendation,
    budget_after,
    dp_params_clean,
    dp_version_for_run,
    dp_version_register,
    privacy_budget,
    recommendation_close,
)
from audits.kinds.privacy.probe import dp_comparison
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome
from governance.registry.models import ModelVersion
from governance.registry.selectors import version_model
from training.dp import dp_retrain

VERSION_TAKEN = "params.new_version: version {label!r} already exists for {system}; choose another label."


def run(*, run, progress) -> RunOutcome:
    version = run.version
    params = dp_params_clean({**KINDS[KIND].defaults, **run.params})
    recommendation = accepted_recommendation(run=run)
    model = torch_model(version, KIND)
    spec = model.spec
    train, test, label = train_and_eval_frames(version)
    sensitive = [c for c in version.eval_dataset.schema.get("sensitive") or [] if c in test.columns]
    device, seed = pick_device(), int(params["seed"])
    thresholds, policy = policy_thresholds(run, KIND)
    existing = dp_version_for_run(run=run)
    new_label = existing.version if existing else (params["new_version"] or f"{version.version}+dp.{run.pk.hex[:8]}")
    if existing is None and ModelVersion.objects.filter(system=run.system, version=new_label).exists():
        raise AuditInputError(VERSION_TAKEN.format(label=new_label, system=run.system.slug))
    before = privacy_budget(system=run.system, dataset_sha256=version.train_dataset.sha256, exclude_run=run)

    if existing is None:
        progress(5, f"DP-SGD retraining to ε = {params['target_epsilon']}")
        module, record = dp_retrain(
            spec, train, label_column=label, target_epsilon=params["target_epsilon"], delta=params["delta"],
            max_grad_norm=params["max_grad_norm"], epochs=params["epochs"], batch_size=params["batch_size"],
            accountant=params["accountant"], seed=seed, device=device, grad_sample_mode=params["grad_sample_mode"],
            progress=scaled(progress, 5, 60, "DP-SGD retraining"), cache_dir=settings.DP_CACHE_DIR,
        )
    else:  # redelivered after registering: measure the registered model again, never retrain twice
        module, record = version_model(existing).module, existing.lineage["dp"]
    budget = budget_after(before, epsilon=record["epsilon_spent"], delta=record["delta"], version_label=new_label)
    progress(60, "before and after: utility, membership inference, groups")
    comparison = dp_comparison(model.module, module, spec, train_frame=train, test_frame=test, label_column=label,
                               sensitive_columns=sensitive, seed=seed, device=device)
    progress(90, f"registering {new_label}")
    new = existing or dp_version_register(run=run, module=module, record=record, budget=budget, label=new_label)
    if recommendation is not None and recommendation.status == RecommendationStatus.ACCEPTED:
        recommendation_close(recommendation=recommendation, new_version=new, run=run)
    results = {
        "dp": {k: v for k, v in record.items() if k not in ("train_sha256", "train_dataset")},
        "comparison": comparison, "budget": budget, "policy": policy, "device": str(device),
        "new_version": {"id": str(new.pk), "version": new.version, "registered_by": new.created_by.username},
        "parent_version": {"id": str(version.pk), "version": version.version},
        "recommendation": str(recommendation.pk) if recommendation else None,
    }
    checks = dp_checks(comparison, thresholds)
    # The checks judge the new version: a fail is its evidence and revokes its approvals only.
    return RunOutcome(outcome=overall_outcome(checks), summary=_summary(results, checks, policy["name"]),
                      results=results, checks=checks, seeds={"dp_sgd": seed, "attack": seed},
                      device=device_label(device), judged_version=new)


def strongest_auc(attacks: dict) -> tuple[float, str]:
    return max((a["auc"], name) for name, a in attacks["attacks"].items())


def dp_checks(comparison: dict, thresholds: dict) -> list[dict]:
    checks = []
    accuracy = comparison["utility"]["test_accuracy"]
    mia = comparison["membership_inference"]
    for metric, spec in thresholds.items():
        if metric == "accuracy_drop":
            checks.append(check(metric, accuracy["before"] - accuracy["after"], spec, feature="evaluation data",
                                explanation=f"Accuracy {accuracy['before']:.3f} before, {accuracy['after']:.3f} "
                                            "after DP retraining."))
        elif metric == "predicted_classes":
            checks.append(predicted_classes_check(comparison, spec))
        elif metric == "membership_auc":
            auc, attack = strongest_auc(mia["after"])
            before, _ = strongest_auc(mia["before"])
            checks.append(check(metric, auc, spec, feature=f"after ({attack.replace('_', '-')})", explanation=(
                f"The stronger membership attack's AUC on the retrained model ({before:.3f} on the original).")))
        elif metric == "accuracy_gap_increase":
            for column, entry in comparison["groups"].items():
                growth = entry["accuracy_gap_after"] - entry["accuracy_gap_before"]
                checks.append(check(metric, growth, spec, feature=column, explanation=(
                    f"Gap between the best and worst {column} group's accuracy: {entry['accuracy_gap_before']:.3f} "
                    f"before, {entry['accuracy_gap_after']:.3f} after.")))
    return checks


def predicted_classes_check(comparison: dict, spec: dict) -> dict:
    """How many classes the retrained model gives on the evaluation data (one: a collapse)."""
    shares = comparison["utility"]["predicted_shares"]["after"]
    given = [c for c, share in shares.items() if share > 0]
    explanation = f"The retrained model gives {len(given)} of the {len(shares)} classes on the evaluation data"
    if len(given) == 1:
        explanation += f": class {given[0]} for everyone"
        rates = [r["selection_rate_after"] for entry in comparison["groups"].values() for r in entry["groups"]
                 if r["selection_rate_after"] is not None]
        if rates:
            explanation += f" (selection rate {min(rates):.3f} to {max(rates):.3f} across the groups)"
    else:
        explanation += " (" + ", ".join(f"{c}: {share:.1%}" for c, share in shares.items()) + " of the rows)"
    return check("predicted_classes", len(given), spec, feature="evaluation data", explanation=explanation + ".")


def _summary(results: dict, checks: list[dict], policy_name: str) -> str:
    dp, comparison, budget = results["dp"], results["comparison"], results["budget"]
    accuracy = comparison["utility"]["test_accuracy"]
    auc_before, _ = strongest_auc(comparison["membership_inference"]["before"])
    auc_after, _ = strongest_auc(comparison["membership_inference"]["after"])
    text = (f"DP retraining registered {results['new_version']['version']} (child of "
            f"{results['parent_version']['version']}): ε = {dp['epsilon_spent']:.3g}, δ = {dp['delta']:.2g} "
            f"({dp['accountant'].upper()}); accuracy {accuracy['before']:.3f} -> {accuracy['after']:.3f}, "
            f"membership AUC {auc_before:.3f} -> {auc_after:.3f}. ")
    if budget["warning"]:
        text += budget["warning"] + " "
    return text + checks_sentence(checks, policy_name)
