"""Privacy probes on a version (audits/kinds/privacy/probe.py).

Membership inference: members are the rows of the version's training dataset, non-members
those of its evaluation dataset (held out, never trained on). ART's learned black-box attack
and the rule-based baseline are fitted on half of each and scored on the other half: attack
accuracy, AUC, TPR at 1% and 0.1% FPR (Carlini et al. 2022) and the ROC curve. The policy is
checked against the stronger of the two attacks.

Model inversion (image models): ART's MIFace reconstructs one image per class; each is
compared with that class's mean training image (stored next to it, so the page shows both).

CPU defaults: up to 5,000 members and non-members (all of the demo data), a random-forest
attack model, 100 MIFace steps: seconds on the demo models. On a GPU worker raise `max_rows`
and `inversion_max_iter` (e.g. 50,000 and 1,000); the attack model itself runs on the CPU.
"""

from __future__ import annotations

import numpy as np

from audits.kinds.common import (
    check,
    checks_sentence,
    interval_check,
    device_label,
    model_outputs_check,
    pick_device,
    policy_thresholds,
    scaled,
    torch_model,
    train_and_eval_frames,
)
from audits.kinds.privacy.probe import (
    class_mean_images,
    membership_inference,
    model_inversion,
)
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome

BAD_MAX_ROWS = "params.max_rows must be an integer of at least 10, not {value!r}."


def run(*, run, progress) -> RunOutcome:
    version, params = run.version, {**KINDS["privacy"].defaults, **run.params}
    model = torch_model(version, "privacy")
    spec = model.spec
    members, non_members, label = train_and_eval_frames(version)
    max_rows, seed = params["max_rows"], int(params["seed"])
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 10:
        raise AuditInputError(BAD_MAX_ROWS.format(value=max_rows))
    members, non_members = _sample(members, max_rows, seed), _sample(non_members, max_rows, seed + 1)
    # A model that outputs NaN gives the attack nothing to tell members by, which would read private.
    model_outputs_check(model, members, rows="training rows")
    model_outputs_check(model, non_members, rows="held-out rows")
    device = pick_device(model)
    thresholds, policy = policy_thresholds(run, "privacy")

    progress(5, "membership inference (ART black-box and rule-based attacks)")
    mia = membership_inference(
        model.module, spec, members, non_members, label_column=label,
        attack_train_fraction=params["attack_train_fraction"], attack_model_type=params["attack_model_type"],
        seed=seed, device=device, progress=scaled(progress, 5, 60, "membership inference"),
    )
    inversion = None
    # Model inversion climbs the model's gradients, which an int8 copy does not have.
    if spec["input"]["kind"] == "image" and params["inversion"] and not model.quantized:
        progress(60, "model inversion (MIFace)")
        means = class_mean_images(spec, members, label_column=label)
        classes = [c for c in spec["classes"] if c in means]
        inversion = model_inversion(model.module, spec, class_means=means, classes=classes,
                                    max_iter=params["inversion_max_iter"], seed=seed, device=device)
        inversion["class_means"] = {str(k): v for k, v in means.items()}
    progress(95, "comparing with the policy")
    results = {"membership_inference": mia, "inversion": inversion, "policy": policy, "device": str(device),
               "data": {"members": version.train_dataset.name, "non_members": version.eval_dataset.name}}
    checks = membership_checks(mia, thresholds)
    return RunOutcome(outcome=overall_outcome(checks), summary=_summary(results, checks, policy["name"]),
                      results=results, checks=checks, seeds={"split": seed, "attack": seed},
                      device=device_label(device))


def _sample(frame, max_rows: int, seed: int):
    if len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(np.random.default_rng(seed).choice(len(frame), size=max_rows, replace=False))]


def _tpr_point(attack: dict) -> dict | None:
    point = next((p for p in attack["tpr_at_low_fpr"] if abs(p["fpr"] - 0.01) < 1e-12), None)
    return point if point and point["status"] == "ok" else None


def strongest(mia: dict, metric: str):
    """(value, attack name) of the attack that does best on `metric`: the policy judges the worst case."""
    values = []
    for name, attack in mia["attacks"].items():
        if metric == "membership_auc":
            values.append((attack["auc"], name))
        elif _tpr_point(attack):
            values.append((_tpr_point(attack)["tpr"], name))
    return max(values) if values else (None, "")


def membership_checks(mia: dict, thresholds: dict) -> list[dict]:
    """AUC and TPR at 1% FPR of the stronger attack, with the policy's minimum evaluated rows.

    The TPR is judged on the upper end of its interval too (a pass needs the whole interval
    within the limit), at the 1% FPR named in `judged_at`; AUC on its point estimate."""
    checks = []
    n = mia["attack_eval"]
    fewest = min(n["members"], n["non_members"])
    scored = f"scored on {n['members']} members and {n['non_members']} non-members it was not fitted on"
    for metric, spec in thresholds.items():
        if metric not in ("membership_auc", "tpr_at_1pct_fpr"):
            continue
        value, attack = strongest(mia, metric)
        feature = attack.replace("_", "-") or "—"
        if metric == "membership_auc":
            explanation = f"The stronger attack's AUC, {scored}."
            if fewest < int(spec.get("min_rows", 0)):
                checks.append(interval_check(metric, value, None, spec, n=fewest, unit="evaluated members or "
                                             "non-members", feature=feature, explanation=explanation))
            else:
                checks.append(check(metric, value, spec, feature=feature, explanation=explanation))
            continue
        point = _tpr_point(mia["attacks"][attack]) if attack else None
        explanation = (
            f"The stronger attack's share of members found at 1% false positives ({point['found']} of "
            f"{point['n_positives']}), {scored}, with its 95% Clopper-Pearson interval." if point else
            f"TPR at 1% FPR needs at least 100 evaluated non-members; there were {n['non_members']}.")
        checks.append(interval_check(metric, value, point.get("tpr_ci") if point else None, spec, n=fewest,
                                     unit="evaluated members or non-members", feature=feature,
                                     explanation=explanation, judged_at={"fpr": 0.01}))
    return checks


def _summary(results: dict, checks: list[dict], policy_name: str) -> str:
    mia = results["membership_inference"]
    auc, attack = strongest(mia, "membership_auc")
    tpr, _ = strongest(mia, "tpr_at_1pct_fpr")
    text = f"Privacy: membership inference AUC {auc:.2f} ({attack.replace('_', '-')})"
    text += f", TPR at 1% FPR {tpr:.3f}" if tpr is not None else ", TPR at 1% FPR not measurable"
    inversion = results["inversion"]
    if inversion:
        text += (f"; MIFace reconstructions nearest their own class mean for "
                 f"{inversion['identified_fraction']:.0%} of classes")
    return f"{text}. {checks_sentence(checks, policy_name)}"
