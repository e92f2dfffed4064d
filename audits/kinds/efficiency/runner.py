"""What a version costs to run, measured on the worker that runs it (audits/kinds/efficiency/probe.py).

Size and start-up (parameters, bytes of the artifact, time to load it and answer a first row),
then latency and throughput by batch size on rows of the evaluation data, peak memory and,
where the worker can read it, energy; cost and CO2e per million predictions from the price
table (thresholds.py, or the policy's own "price_table"); on a GPU worker the same on the CPU
beside it and the crossover batch size; for torch models an outlook on copies: dynamic int8
quantization, and a smaller student of the same architecture distilled from the teacher's
decisions on the training rows, each with its speed-up, size saving, accuracy and fairness
deltas (the fairness probe's disparities per sensitive feature, binary 0/1 models only). The
registered version is never changed. With `register_student` the student, and with
`register_int8` the int8 copy, becomes a child version with lineage (services.py), and then gets
its own audits (an int8 copy only those that need no gradients: AuditKind.quantized_why).

Torch models are timed on forward() over encoded rows already on the device: the encoding of a
frame is the same work for every model, so it is left out of the model's cost. scikit-learn
models are timed on predict_proba over frame rows, their pipeline's preprocessing included,
since that is part of the model.

Policy budgets (p95 latency at batch 1, cost per million at the policy's batch size, peak
memory) are judged as point checks; without budgets the run is informational evidence.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from audits.kinds.common import (
    check,
    checks_sentence,
    device_label,
    labelled_frame,
    model_outputs_check,
    pick_device,
    scaled,
)
from audits.kinds.efficiency import probe
from audits.kinds.efficiency.figures import headline
from audits.kinds.efficiency.services import int8_version_register, student_version_register
from audits.kinds.efficiency.thresholds import BUDGET_METRICS, PRICE_TABLE
from audits.kinds.fairness.probe import fairness_audit
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome
from governance.policies.services import audit_thresholds, policy_for
from governance.registry.selectors import dataset_frame, version_artifact_bytes
from training.artifacts import load_model
from training.recipes import labels_to_index

NO_ROWS = "The evaluation dataset has no rows to time the model on."
UNKNOWN_BUDGET = "Unknown efficiency budget {metric!r}; accepted: {accepted}."
NO_GPU = "No GPU on this worker: the audit ran on the CPU only, so there is no GPU to compare with."
BAD_PRICE_TABLE = ("The policy's efficiency price_table is not usable: {problem}. Expected {{\"currency\": \"USD\", "
                   "\"as_of\": \"2024-06\", \"devices\": {{\"cpu\": {{\"per_hour\": 0.17}}, ...}}, "
                   "\"grams_co2e_per_kwh\": 475}} (audits/kinds/efficiency/thresholds.py).")


def check_price_table(table) -> dict:
    """The price table's shape and numbers, checked before any work (an admin types it in the policy)."""
    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0

    if not isinstance(table, dict) or not isinstance(table.get("devices"), dict) or not table["devices"]:
        raise AuditInputError(BAD_PRICE_TABLE.format(problem="it needs a non-empty 'devices' object"))
    for name, entry in table["devices"].items():
        if not isinstance(entry, dict) or not number(entry.get("per_hour")):
            raise AuditInputError(BAD_PRICE_TABLE.format(
                problem=f"devices.{name}.per_hour must be a number >= 0"))
    if table.get("grams_co2e_per_kwh") is not None and not number(table["grams_co2e_per_kwh"]):
        raise AuditInputError(BAD_PRICE_TABLE.format(problem="grams_co2e_per_kwh must be a number >= 0 or null"))
    return table


def run(*, run, progress) -> RunOutcome:
    version = run.version
    params = {**KINDS["efficiency"].defaults, **run.params}
    try:
        probe.check_params(params)
    except ValueError as exc:
        raise AuditInputError(str(exc)) from None
    policy_row = policy_for(risk_tier=run.system.risk_tier)
    thresholds = audit_thresholds(policy_row, "efficiency")
    unknown = sorted(set(thresholds) - set(BUDGET_METRICS))
    if unknown:
        raise AuditInputError(UNKNOWN_BUDGET.format(metric=unknown[0], accepted=", ".join(BUDGET_METRICS)))
    prices = check_price_table(
        ((policy_row.audit_requirements or {}).get("efficiency") or {}).get("price_table") or PRICE_TABLE)
    policy = {"name": policy_row.name, "risk_tier": policy_row.risk_tier, "thresholds": thresholds}
    frame, label = labelled_frame(version.eval_dataset, role="evaluation")
    if frame.empty:
        raise AuditInputError(NO_ROWS)
    progress(5, "loading the model")
    schema = version.eval_dataset.schema or {}
    sensitive = [c for c in schema.get("sensitive") or [] if c in frame.columns]
    features = [c for c in schema.get("features") or [] if c in frame.columns]
    train = None
    if params.get("distillation") and version.train_dataset is not None:
        # The student learns the teacher's answers, so the training rows need no label.
        train = dataset_frame(version.train_dataset)
    students = []
    result = measure_version(version, frame, label, params=params, prices=prices, progress=progress,
                             sensitive=sensitive, train_frame=train, feature_columns=features or None,
                             on_student=lambda module, spec: students.append((module, spec)))
    if params.get("register_student") and students and (result.get("distillation") or {}).get("status") == "ok":
        progress(97, "registering the distilled student")
        child = student_version_register(run=run, module=students[0][0], spec=students[0][1],
                                         outlook=result["distillation"])
        result["distillation"]["registered_version"] = {"id": str(child.pk), "version": child.version}
    if params.get("register_int8") and (result.get("outlook") or {}).get("status") == "ok":
        progress(98, "registering the int8 copy")
        with version.artifact.open("rb") as fh:
            child = int8_version_register(run=run, artifact=fh.read(), outlook=result["outlook"])
        result["outlook"]["registered_version"] = {"id": str(child.pk), "version": child.version}
    result["policy"] = policy
    checks = budget_checks(result, thresholds)
    return RunOutcome(outcome=overall_outcome(checks), summary=summary(result, checks, policy["name"]),
                      results=result, checks=checks, device=result["device"],
                      seeds={"distillation": 0} if (result.get("distillation") or {}).get("status") == "ok" else {})


def measure_version(version, frame, label, *, params: dict, prices: dict, progress=lambda *a: None,
                    clock=time.perf_counter, sensitive=(), train_frame=None, feature_columns=None,
                    on_student=None) -> dict:
    data = version_artifact_bytes(version)
    load_s, model = probe.timed(lambda: load_model(data, spec=version.spec or None), clock)
    return measure_model(model, frame, label, params=params, prices=prices, artifact_bytes=len(data), load_s=load_s,
                         progress=progress, clock=clock, sensitive=sensitive, train_frame=train_frame,
                         feature_columns=feature_columns, on_student=on_student)


FAIRNESS_METRICS = ("demographic_parity_difference", "equalized_odds_difference")
NOT_BINARY = "fairness deltas need a binary model with labels 0 and 1 (the fairness probe's convention)"
NO_SENSITIVE = "the evaluation dataset declares no sensitive feature"


def fairness_judge(frame, label, sensitive, classes, *, min_slice_count: int = 20):
    """(judge, None) or (None, why): judge(predicted class indices) -> the fairness probe's
    disparities per sensitive feature, so the outlook can say what quantization changes for groups."""
    if not sensitive:
        return None, NO_SENSITIVE
    if sorted(classes) != [0, 1]:
        return None, NOT_BINARY
    y, labels, groups = frame[label].to_numpy(), np.asarray(classes), frame[list(sensitive)]

    def judge(pred_idx):
        report = fairness_audit(y, labels[pred_idx], sensitive_features=groups, intervals=False,
                                min_slice_count=min_slice_count, intersectional=False)
        return {feature: {m: (r["disparities"].get(m) or {}).get("value") for m in FAIRNESS_METRICS}
                for feature, r in report["features"].items()}

    return judge, None


# The batch sizes take turns (probe.measure_batches), so that a neighbour slowing the worker for
# a second lands thinly on all of them instead of doubling one; five turns kept the audit's medians
# within Timer's on a loaded 2-core machine (BENCHMARKS.md, efficiency).
TURNS = 5


def _timing(params: dict) -> dict:
    return {k: params[k] for k in ("warmup", "min_repeats", "repeats", "max_seconds", "warmup_seconds")}


def _device_block(name, batches, *, reader_memory, energy_reason, energy_method, prices) -> dict:
    price = (prices.get("devices") or {}).get(name.split(" ")[0], {}).get("per_hour")
    return {"device": name, "memory_method": reader_memory.method, "energy_method": energy_method,
            "energy_reason": energy_reason, "price_per_hour": price,
            "batches": probe.priced(batches, price_per_hour=price, grams_per_kwh=prices.get("grams_co2e_per_kwh"))}


def _measure_on(predict, sync, batch_of, device, *, params, prices, progress, clock) -> dict:
    memory = probe.memory_reader(device)
    energy, reason = probe.energy_reader(device)
    batches = probe.measure_batches(predict, batch_of, batch_sizes=params["batch_sizes"], **_timing(params),
                                    clock=clock, sync=sync, memory=memory, energy=energy, progress=progress,
                                    turns=TURNS)
    return _device_block(device.type, batches, reader_memory=memory, energy_reason=None if energy else reason,
                         energy_method=energy.method if energy else probe.NOT_MEASURABLE, prices=prices)


def measure_model(model, frame, label, *, params: dict, prices: dict, artifact_bytes: int, load_s: float,
                  progress=lambda *a: None, clock=time.perf_counter, sensitive=(), train_frame=None,
                  feature_columns=None, on_student=None) -> dict:
    """Every figure of the audit for one loaded model (a ModelHandle) on evaluation rows `frame`;
    `feature_columns` (the schema's features) are what the model is given, else every column but
    the label."""
    features = frame[list(feature_columns)] if feature_columns else frame.drop(columns=[label])
    # A model that answers NaN is fast at it: its latency must not read as a budget met.
    model_outputs_check(model, features)
    devices: list[dict] = []
    outlook = distilled = None
    threads = torch.get_num_threads()
    if model.module is not None:
        device = pick_device(model)
        x = model.encode(features)
        parameters = probe.torch_parameter_count(model.module)
        targets = [device] + ([torch.device("cpu")] if device.type == "cuda" else [])
        def first_row():
            # Ready = loaded, moved to the device and one row answered (synchronised on a GPU).
            predict, sync = probe.torch_predictor(model.module, device)
            predict(probe.torch_batches(x, device)(1))
            if sync:
                sync()

        first_s, _ = probe.timed(first_row, clock)
        for i, target in enumerate(targets):
            predict, sync = probe.torch_predictor(model.module, target)
            devices.append(_measure_on(predict, sync, probe.torch_batches(x, target), target, params=params,
                                       prices=prices, clock=clock,
                                       progress=scaled(progress, 10 + 40 * i, 50 + 40 * i if len(targets) > 1
                                                       else 80, f"timing batches on {target.type}")))
        name = device_label(device)
        model.module.to("cpu")
        if params.get("outlook", True):
            progress(85, "dynamic int8 quantization outlook")
            y_idx = labels_to_index(frame[label].to_numpy(), list(model.classes))
            judge, why = fairness_judge(frame, label, sensitive, list(model.classes))
            outlook = probe.quantization_outlook(model.module, x, y_idx, batch_size=int(params["outlook_batch_size"]),
                                                 **_timing(params), clock=clock, judge=judge)
            outlook["fairness_note"] = why
        if params.get("distillation") and train_frame is not None:
            progress(92, "distilled student outlook")
            epochs = params.get("distillation_epochs") or int((model.spec.get("training") or {}).get("epochs", 30))
            judge, why = fairness_judge(frame, label, sensitive, list(model.classes))
            distilled = probe.distillation_outlook(
                model.module, model.spec, model.encode(train_frame.drop(columns=[label], errors="ignore")), x,
                labels_to_index(frame[label].to_numpy(), list(model.classes)),
                batch_size=int(params["outlook_batch_size"]), epochs=epochs, **_timing(params), clock=clock,
                judge=judge, on_student=on_student)
            distilled["fairness_note"] = why
    else:
        device = torch.device("cpu")
        name = "cpu"
        parameters = probe.sklearn_parameter_count(model.estimator)
        first_s, _ = probe.timed(lambda: model.estimator.predict_proba(features.iloc[:1]), clock)
        devices.append(_measure_on(model.estimator.predict_proba, None, probe.frame_batches(features), device,
                                   params=params, prices=prices, clock=clock,
                                   progress=scaled(progress, 10, 80, "timing batches on cpu")))
        outlook = {"status": "not_applicable",
                   "reason": "dynamic int8 quantization applies to torch models; this is a scikit-learn model"}
    gpu = next((d for d in devices if d["device"] == "cuda"), None)
    cpu = next((d for d in devices if d["device"] == "cpu"), None)
    comparison = ({"crossover_batch_size": probe.crossover_batch_size(cpu["batches"], gpu["batches"]),
                   "throughput_ratio": _ratio_at_largest(gpu["batches"], cpu["batches"])}
                  if gpu and cpu else {"note": NO_GPU})
    # Other work on the worker slows every figure; the 1-minute load average says how much there was.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"format": model.format, "device": name, "torch_threads": threads, "load_average": load,
            "cpu_count": os.cpu_count(), "parameters": parameters,
            "artifact_bytes": artifact_bytes, "load_s": load_s, "ready_s": load_s + first_s,
            "n_eval_rows": len(frame), "turns": devices[0]["batches"][0]["turns"],
            "params": {**params, "batch_sizes": probe.check_batch_sizes(params["batch_sizes"])},
            "price_table": prices, "devices": devices, "comparison": comparison, "outlook": outlook,
            "distillation": distilled}


def _ratio_at_largest(gpu: list[dict], cpu: list[dict]) -> dict | None:
    if not gpu or not cpu:
        return None
    g, c = gpu[-1], cpu[-1]
    ratio = g["rows_per_s"] / c["rows_per_s"] if g["rows_per_s"] and c["rows_per_s"] else None
    return {"batch_size": g["batch_size"], "gpu_over_cpu": ratio}


def budget_checks(result: dict, thresholds: dict) -> list[dict]:
    figures = headline(result)
    device = result.get("device", "")
    checks = []
    for metric, spec in thresholds.items():
        if metric == "p95_latency_ms_batch1":
            checks.append({**check(metric, figures[metric], spec, feature=f"batch 1 on {device}", explanation=(
                f"95th percentile of the time to answer one row alone on {device}, in milliseconds: 95 of 100 single "
                "requests are answered at least this fast." + (" Batch size 1 was not measured, so it cannot be "
                                                               "judged." if figures[metric] is None else "")))})
        elif metric == "cost_per_million":
            size = int(spec.get("batch_size", 1))
            value = figures[metric].get(size)
            table = result.get("price_table") or {}
            checks.append({**check(metric, value, spec, feature=f"batch {size} on {device}", explanation=(
                f"Device time for a million predictions at batch size {size} on {device}, priced from the "
                f"table dated {table.get('as_of', 'undated')} in {table.get('currency', '')}."
                + ("" if value is not None else " That batch size was not measured or the device has no price.")))})
        elif metric == "peak_memory_mib":
            checks.append(check(metric, figures[metric], spec, feature=device, explanation=(
                "The largest peak memory over the batch sizes measured, in MiB ("
                + ((result.get("devices") or [{}])[0].get("memory_method") or "not measured") + ").")))
    return checks


def summary(result: dict, checks: list[dict], policy_name: str) -> str:
    main = result["devices"][0]
    first, last = main["batches"][0], main["batches"][-1]
    p95 = first["per_batch_ms"]["p95"]
    parts = [f"Efficiency on {result['device']} ({result['parameters']:,} parameters, "
             f"{result['artifact_bytes']:,} bytes, ready in {result['ready_s']:.2f} s): p95 latency "
             f"{p95:.2f} ms at batch {first['batch_size']}, {last['rows_per_s']:,.0f} rows/s at batch "
             f"{last['batch_size']}"]
    if last.get("cost_per_million") is not None:
        parts.append(f"{last['cost_per_million']:.3g} {result['price_table'].get('currency', '')} per million "
                     f"predictions at batch {last['batch_size']}")
    out = result.get("outlook") or {}
    if out.get("status") == "ok":
        parts.append(f"int8 quantization: {out['speedup']:.2f}x speed, {100 * out['size_saving']:.0f}% smaller, "
                     f"accuracy {out['accuracy_delta']:+.3f}")
    dist = result.get("distillation") or {}
    if dist.get("status") == "ok":
        parts.append(f"distilled student: {dist['speedup']:.2f}x speed, {100 * dist['size_saving']:.0f}% smaller, "
                     f"accuracy {dist['accuracy_delta']:+.3f}")
    text = "; ".join(parts) + ". "
    if not checks:
        return text + f"'{policy_name}' sets no efficiency budgets: informational evidence."
    return text + checks_sentence(checks, policy_name)
