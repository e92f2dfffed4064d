"""Poisoning probes on a version's training data (audits/kinds/poisoning/probe.py).

Three steps, each on copies (the registered model and data are never changed):

1. Susceptibility: ART's PoisoningAttackBackdoor implants a trigger in `rates` of the
   training rows, the version's own recipe retrains on each copy, and we record clean accuracy
   and attack success rate per rate (plus label-flip sensitivity for tabular data).
2. Detection on the registered training data: the detector ("raw-strip" by default; see the
   probe's docstring for why ART's defaults are not enough) lists suspicious rows by their
   0-based position in the registered file, most suspicious first, with a score.
3. Validation on a planted case: a `validation_rate` backdoor is planted in a copy, the recipe
   retrains on it, and the same detector must find it. Its precision and recall say whether a
   clean scan in step 2 means anything for this model and data.

Policy (audits/kinds/poisoning/thresholds.py): attack success at the policy's rate (the rate is
added to `rates` when missing), the share of registered rows flagged, and the detector's
recall and precision on the planted case. A detector below its bar makes the run
inconclusive, not failed: it has not found anything wrong, it just cannot vouch for the data.

CPU defaults retrain 4 times on images and 7 times on tabular data (label flips), plus once
for validation: about a minute on the demo models. GPU workers need no other settings; larger
models simply retrain faster there.
"""

from __future__ import annotations

import pandas as pd

from audits.kinds.common import (
    check,
    checks_sentence,
    device_label,
    model_outputs_check,
    pick_device,
    policy_thresholds,
    scaled,
    torch_model,
    train_and_eval_frames,
)
from audits.kinds.poisoning.probe import (
    backdoor_susceptibility,
    backdoor_trigger,
    detect_poison,
    implant_backdoor,
)
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome
from training.encoding import encode, feature_layout
from training.recipes import labels_to_index, train_from_spec, training_settings

BAD_RATE = "params.validation_rate must be a number strictly between 0 and 1, not {value!r}."
BAD_MAX_LISTED = "params.max_listed must be a positive integer, not {value!r}."


def run(*, run, progress) -> RunOutcome:
    version, params = run.version, {**KINDS["poisoning"].defaults, **run.params}
    model = torch_model(version, "poisoning")
    spec = model.spec
    train, test, label = train_and_eval_frames(version)
    train = train.reset_index(drop=True)  # rows are reported by their position in the registered file
    _check_params(params)
    # A version that outputs NaN has no decisions a backdoor could take over, nor activations to scan.
    model_outputs_check(model, test)
    thresholds, policy = policy_thresholds(run, "poisoning")
    rates = sorted({float(r) for r in params["rates"]} | {float(s["rate"]) for s in thresholds.values() if "rate" in s})
    device, seed, method = pick_device(), int(params["seed"]), params["method"]
    target = params["target_class"]

    progress(5, "retraining on backdoored copies")
    susceptibility = backdoor_susceptibility(
        spec, train, test, label_column=label, rates=rates, target_class=target, seed=seed, device=device,
        progress=scaled(progress, 5, 60, f"retraining on backdoored copies ({len(rates)} rates)"),
    )
    progress(60, f"scanning the registered training data ({method})")
    detection = detect_poison(model.module, spec, train, train[label], method=method, seed=seed, device=device)
    detection["n_rows"] = len(train)
    detection["flagged_share"] = detection["n_flagged"] / len(train)
    detection["n_listed"] = min(len(detection["suspicious"]), int(params["max_listed"]))
    detection["suspicious"] = detection["suspicious"][: detection["n_listed"]]
    validation = None
    if params["validate"]:
        progress(75, f"planting a {params['validation_rate']:.0%} backdoor and checking the detector finds it")
        validation = _validate(spec, train, label, rate=float(params["validation_rate"]),
                               target_class=susceptibility["target_class"], method=method, seed=seed, device=device)
    progress(95, "comparing with the policy")
    results = {"susceptibility": susceptibility, "detection": detection, "validation": validation,
               "row_numbering": "0-based position of the row in the registered training file", "policy": policy,
               "device": str(device)}
    checks = _checks(results, thresholds)
    training = training_settings(spec)
    return RunOutcome(
        outcome=overall_outcome(checks), summary=_summary(results, checks, policy["name"]), results=results,
        checks=checks, seeds={"poisoning": seed, "detector": seed, "retraining": training["seed"]},
        device=device_label(device),
    )


def _check_params(params: dict) -> None:
    rate = params["validation_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
        raise AuditInputError(BAD_RATE.format(value=rate))
    listed = params["max_listed"]
    if isinstance(listed, bool) or not isinstance(listed, int) or listed < 1:
        raise AuditInputError(BAD_MAX_LISTED.format(value=listed))


def plant_backdoor(spec: dict, frame: pd.DataFrame, label: str, *, rate: float, target_class, seed: int):
    """A copy of `frame` with the probe's trigger on `rate` of the rows (relabelled to target_class).

    The trigger is defined on encoded inputs; the stamped rows are written back in the
    frame's own units (pixels times the spec's scale, numbers un-standardised), so the
    planted copy goes through the version's recipe exactly like registered data.
    Returns (copy, index labels of the poisoned rows).
    """
    classes = list(spec["classes"])
    x, y = encode(frame, spec["input"]), labels_to_index(frame[label], classes)
    trigger, _ = backdoor_trigger(spec)
    x_p, _, rows = implant_backdoor(x, y, trigger=trigger, rate=rate, target=classes.index(target_class), seed=seed)
    out = frame.copy()
    flat = x_p.reshape(len(x_p), -1)[rows]
    input_spec = spec["input"]
    if input_spec["kind"] == "image":
        columns = list(input_spec["columns"])
        out[columns] = out[columns].astype(float)
        out.iloc[rows, [out.columns.get_loc(c) for c in columns]] = flat * float(input_spec.get("scale", 1.0))
    else:
        for f, layout in zip(input_spec["numeric"], feature_layout(input_spec)):
            out[f["name"]] = out[f["name"]].astype(float)
            out.iloc[rows, out.columns.get_loc(f["name"])] = flat[:, layout["start"]] * f["std"] + f["mean"]
    out[label] = out[label].astype(object)
    out.iloc[rows, out.columns.get_loc(label)] = target_class
    out[label] = out[label].astype(frame[label].dtype)
    return out, out.index[rows]


def _validate(spec, train, label, *, rate, target_class, method, seed, device) -> dict:
    planted, poison_rows = plant_backdoor(spec, train, label, rate=rate, target_class=target_class, seed=seed)
    planted_model = train_from_spec(spec, planted, label_column=label, device=device)
    found = detect_poison(planted_model, spec, planted, planted[label], method=method, seed=seed, device=device,
                          poison_rows=poison_rows)
    return {"rate": rate, "target_class": target_class, "n_poisoned": int(len(poison_rows)),
            "n_flagged": found["n_flagged"], "precision": found.get("precision"), "recall": found.get("recall"),
            "method": method}


def _checks(results: dict, thresholds: dict) -> list[dict]:
    checks = []
    susceptibility, detection, validation = results["susceptibility"], results["detection"], results["validation"]
    for metric, spec in thresholds.items():
        if metric == "attack_success_rate":
            rate = float(spec.get("rate", 0.05))
            entry = next((b for b in susceptibility["backdoor"] if abs(b["rate"] - rate) < 1e-12), None)
            checks.append(check(metric, entry and entry["attack_success_rate"], spec, feature=f"{rate:.0%} poisoned",
                                explanation=(
                f"Share of triggered test rows of other classes that a model retrained on {rate:.0%} backdoored "
                f"rows assigns to class {susceptibility['target_class']}. A high rate means a few rows written "
                "into the training data control the model: protect and check the data pipeline.")))
        elif metric == "flagged_share":
            checks.append(check(metric, detection["flagged_share"], spec, feature="registered training data",
                                explanation=(
                f"{detection['n_flagged']} of {detection['n_rows']} registered training rows flagged by "
                f"'{detection['method']}'. Flagged rows need a person to review them.")))
        elif metric in ("detector_recall", "detector_precision"):
            value = None if validation is None else validation[metric.split("_", 1)[1]]
            checks.append(check(metric, value, spec, below_bar="inconclusive", feature="planted backdoor", explanation=(
                "Validation not run (params.validate is off)." if validation is None else
                f"The detector on a copy with a planted {validation['rate']:.0%} backdoor "
                f"({validation['n_poisoned']} rows). It says whether a clean scan can be trusted: below the bar the "
                "check is inconclusive, not failed.")))
    return checks


def _summary(results: dict, checks: list[dict], policy_name: str) -> str:
    s, d, v = results["susceptibility"], results["detection"], results["validation"]
    asr = ", ".join(f"{b['rate']:.0%}: {b['attack_success_rate']:.2f}" for b in s["backdoor"]
                    if b["attack_success_rate"] is not None)
    text = (f"Poisoning: backdoor success by rate {asr}; {d['n_flagged']} of {d['n_rows']} training rows flagged "
            f"({d['method']})")
    if v is not None and v["recall"] is not None:
        precision = "n/a" if v["precision"] is None else f"{v['precision']:.2f}"
        text += f"; detector on a planted {v['rate']:.0%} backdoor: recall {v['recall']:.2f}, precision {precision}"
    return f"{text}. {checks_sentence(checks, policy_name)}"

