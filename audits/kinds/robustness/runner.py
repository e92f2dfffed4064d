"""Evasion robustness of a version on its evaluation dataset (audits/kinds/robustness/probe.py).

Torch models get the white-box probe: ART FGSM and the batched native PGD over an L-inf
epsilon grid in encoded units (pixel intensity on [0, 1] for images, training standard
deviations for tabular numbers), numeric features only, clipped to their training range,
one-hot groups untouched. scikit-learn models get HopSkipJump (black box, L2) on a sample.
Robust accuracy per group of each declared sensitive feature shows whether the model is more
fragile for some people than for others.

Policy (audits/kinds/robustness/thresholds.py): robust accuracy at the policy's epsilon,
decided on its 95% Clopper-Pearson interval with a minimum of `min_rows` attacked rows (below
it: "insufficient data", neither pass nor fail), and
the largest gap between groups (with at least `min_group_count` sampled rows) in accuracy
*lost* under attack, clean minus robust: the check measures fragility, while a group the
model is less accurate for anyway is the fairness audit's finding. The policy's epsilon is
always added to the grid so the check can be decided. For a black-box model the epsilon is
read as an L2 budget: a perturbation within L2 eps is also within L-inf eps, so a failure
stands; a pass only says HopSkipJump found nothing smaller.

Every check names the epsilon it was judged at (its `judged_at`, its feature text, the
summary's first figure), so a page never shows a pass beside some other epsilon's number.

CPU defaults stay small (200 rows, 10 PGD steps; 200 HopSkipJump rows: seconds on the demo models). On a GPU
worker raise them per run, e.g. {"max_samples": 10000, "pgd_steps": 40, "batch_size": 1024}: batch_size is
FGSM's batch of rows and the native PGD's batch of (row, epsilon) pairs, so it bounds the memory of both.
"""

from __future__ import annotations

from audits.kinds.common import (
    check,
    checks_sentence,
    interval_check,
    device_label,
    labelled_frame,
    pick_device,
    policy_thresholds,
    scaled,
)
from audits.kinds.fairness.probe import default_bins, group_labels
from audits.kinds.robustness.probe import blackbox_robustness_probe, robustness_probe
from audits.runs.registry import KINDS
from audits.runs.runner import RunOutcome, overall_outcome
from governance.registry.selectors import version_model


def _groups(frame, sensitive) -> dict:
    """The sensitive groups as the fairness audit names them (age in the same bins), so a
    group reads the same on every page."""
    bins = default_bins(sensitive)
    return {c: group_labels(frame[c], bins.get(c)) for c in sensitive}


def run(*, run, progress) -> RunOutcome:
    version, params = run.version, {**KINDS["robustness"].defaults, **run.params}
    frame, label = labelled_frame(version.eval_dataset, role="evaluation")
    sensitive = [c for c in version.eval_dataset.schema.get("sensitive") or [] if c in frame.columns]
    thresholds, policy = policy_thresholds(run, "robustness")
    policy_eps = sorted({float(s["epsilon"]) for s in thresholds.values() if "epsilon" in s})
    progress(5, "loading model and data")
    model = version_model(version)
    seed = int(params["seed"])
    if model.module is not None:
        device = pick_device()
        result = robustness_probe(
            model.module, model.spec, frame, frame[label].to_numpy(),
            epsilons=sorted(set(map(float, params["epsilons"])) | set(policy_eps) | {0.0}), attacks=params["attacks"],
            pgd_steps=params["pgd_steps"], sensitive=_groups(frame, sensitive) if sensitive else None,
            max_samples=params["max_samples"], seed=seed, device=device, batch_size=params["batch_size"],
            progress=scaled(progress, 10, 90, "FGSM and PGD over the epsilon grid"),
        )
        result["mode"] = "white-box"
    else:
        device = None
        features = [c for c in version.eval_dataset.schema.get("features") or [] if c in frame.columns]
        result = blackbox_robustness_probe(
            model.estimator, frame[features] if features else frame.drop(columns=[label]), frame[label].to_numpy(),
            epsilons=sorted(set(map(float, params["blackbox_epsilons"])) | set(policy_eps)),
            max_samples=params["blackbox_max_samples"], max_iter=params["blackbox_max_iter"],
            max_eval=params["blackbox_max_eval"], seed=seed,
            progress=scaled(progress, 10, 90, "HopSkipJump (black box) on a sample"),
        )
        result["mode"] = "black-box"
    progress(92, "comparing with the policy")
    checks = _checks(result, thresholds, min_count=int(params["min_group_count"]))
    result["policy"] = policy
    result["policy_epsilons"] = policy_eps
    result["group_drops"] = {str(eps): group_drops(result, eps, min_count=int(params["min_group_count"]))
                             for eps in sorted({float(s.get("epsilon", 0.0)) for s in thresholds.values()})
                             if result.get("group_robustness")}
    summary = _summary(result, checks, policy["name"])
    return RunOutcome(outcome=overall_outcome(checks), summary=summary, results=result, checks=checks,
                      seeds={"sample": seed, "attack": seed},
                      device=device_label(device) if device is not None else "cpu")


def curve_at(curve: list[dict], epsilon: float) -> dict | None:
    return next((p for p in curve if abs(p["epsilon"] - epsilon) < 1e-12), None)


def group_drops(result: dict, epsilon: float, *, min_count: int) -> dict:
    """feature -> {"gap", "groups": {group: {clean, robust, drop, count}}} at epsilon.

    The drop (clean minus robust accuracy, per group) isolates fragility: a group the model
    is already less accurate for is the fairness audit's finding, not this one's. Groups with
    fewer than `min_count` sampled rows are shown but left out of the gap.
    """
    out = {}
    for feature, groups in (result.get("group_robustness") or {}).items():
        rows, drops = {}, []
        for group, points in groups.items():
            clean, robust = curve_at(points, 0.0), curve_at(points, epsilon)
            if clean is None or robust is None:
                continue
            drop = clean["robust_accuracy"] - robust["robust_accuracy"]
            rows[group] = {"clean": clean["robust_accuracy"], "robust": robust["robust_accuracy"], "drop": drop,
                           "count": robust["count"], "counted": robust["count"] >= min_count}
            if robust["count"] >= min_count:
                drops.append(drop)
        out[feature] = {"gap": (max(drops) - min(drops)) if len(drops) > 1 else None, "groups": rows}
    return out


def _checks(result: dict, thresholds: dict, *, min_count: int) -> list[dict]:
    checks = []
    curves = result["curves"]
    attack = "hopskipjump" if result["mode"] == "black-box" else ("pgd" if "pgd" in curves else next(iter(curves)))
    units = "L2" if result["mode"] == "black-box" else "L-inf"
    for metric, spec in thresholds.items():
        eps = float(spec.get("epsilon", 0.0))
        where = f"{attack.upper()}, {units} ε = {eps:g} (policy)"
        judged_at = {"epsilon": eps, "norm": units, "attack": attack}
        if metric == "robust_accuracy":
            point = curve_at(curves[attack], eps) or {}
            checks.append(interval_check(
                metric, point.get("robust_accuracy"), point.get("robust_accuracy_ci"), spec,
                n=int(point.get("count", result["n_samples"])), unit="attacked rows", feature=where,
                judged_at=judged_at, explanation=(
                    f"Robust accuracy at ε = {eps:g} (the policy's budget): the share of {result['n_samples']} "
                    f"sampled rows still right when {attack.upper()} may move each attackable feature by up to "
                    f"{eps:g} ({result['params']['epsilon_units']}), with its 95% Clopper-Pearson interval; "
                    f"clean accuracy {result['clean_accuracy']:.3f}.")))
        elif metric == "accuracy_drop_difference":
            for feature, entry in group_drops(result, eps, min_count=min_count).items():
                counted = sum(g["counted"] for g in entry["groups"].values())
                checks.append({**check(metric, entry["gap"], spec, feature=f"{feature} ({where})", explanation=(
                    f"Largest minus smallest accuracy lost under attack (clean minus robust) at ε = {eps:g} (the "
                    f"policy's budget) between the {counted} groups of {feature} with at least {min_count} sampled "
                    "rows" + ("." if entry["gap"] is not None else "; fewer than two such groups: undecided."))),
                    "judged_at": judged_at})
    return checks


def _summary(result: dict, checks: list[dict], policy_name: str) -> str:
    """Led by the figures the policy judged (at its epsilon); the grid's largest budget follows,
    marked as not judged, so a pass never sits beside an unexplained number."""
    curves = result["curves"]
    judged, parts = [], []
    for c in checks:
        if c["metric"] == "robust_accuracy" and c["value"] is not None:
            ci = f" (95% CI {c['ci'][0]:.2f}-{c['ci'][1]:.2f})" if c.get("ci") else ""
            judged.append(f"robust accuracy {c['value']:.2f}{ci} at ε={c['judged_at']['epsilon']:g} (policy, "
                          f"{c['judged_at']['attack'].upper()}): "
                          + ("insufficient data" if c.get("status") == "insufficient_data" else c["outcome"]))
    for attack, curve in curves.items():
        last = curve[-1]
        parts.append(f"{attack.upper()} {last['robust_accuracy']:.2f} at ε={last['epsilon']:g}")
    return (
        f"Robustness ({result['mode']}, {result['n_samples']} rows, device {result['device']}): clean accuracy "
        f"{result['clean_accuracy']:.2f}; " + ("; ".join(judged) + "; " if judged else "")
        + f"at the grid's largest budget (not judged): {', '.join(parts)}. " + checks_sentence(checks, policy_name)
    )

