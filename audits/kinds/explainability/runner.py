"""Explainability of a version on its evaluation dataset (audits/kinds/explainability/probe.py).

Every binary classifier gets permutation importance; torch models also get Captum's
Integrated Gradients, which gives per-group importance and the local explanations. Each
method is tested: the deletion test and the model-randomization check (torch: weights
re-initialised; scikit-learn: the estimator refitted on shuffled training labels, the data
randomization test of the same paper). A method that fails either is reported as not
trustworthy for this model. The proxy scan fits on the training rows and scores the
evaluation rows.

Policy (audits/kinds/explainability/thresholds.py), decided on the interval, every interval at
a Bonferroni level that shares the run's error budget across its checks: per method, the
deletion gap must be above its minimum and the randomization similarity below its maximum;
per feature carrying at least `importance_share` of the importance and per sensitive
attribute, the proxy AUC must stay at or below its maximum (above it: a proxy finding).

CPU settings (defaults): 30 permutation repeats, 32 Integrated-Gradients steps, 99 random
deletion orders up to 5 features, 3 randomized models, at most 2,000 evaluation rows: the demo's
credit MLP (300 rows, 9 features) takes seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.kinds.common import (
    checks_sentence,
    device_label,
    finite_outputs,
    labelled_frame,
    pick_device,
    policy_thresholds,
    scaled,
)
from audits.kinds.explainability.kind import PROXY_EVIDENCE
from audits.kinds.explainability.probe import explainability_probe, randomize_module
from audits.runs.registry import KINDS
from audits.runs.runner import AuditInputError, RunOutcome, overall_outcome
from governance.registry.selectors import dataset_frame, version_model
from training.encoding import encode
from training.train import predict_proba

NOT_BINARY = "The explainability audit needs a binary classifier; this model has {n} classes."
BAD_PARAM = "params.{name} must be an integer between {low} and {high}, not {value!r}."
NO_FEATURES = "The evaluation dataset lacks the columns the model reads: {missing}."
BOUNDS = {"n_repeats": (2, 200), "ig_steps": (4, 512), "deletion_k": (1, 50), "n_random": (19, 999),
          "n_randomized_models": (1, 10), "n_bootstrap": (0, 5000), "min_group_count": (1, 100000),
          "n_local_rows": (0, 50), "max_rows": (50, 200000)}


MAX_CASES = 20
MAX_CASE_NAME = 80
BAD_CASES = "params.cases must be a list of at most {n} rows, each an object of feature: value."
CASE_FEATURES = "params.cases[{i}] must give every feature the model reads{detail}."
CASE_NUMBER = "params.cases[{i}].{feature} must be a finite number, not {value!r}."
CASE_WHOLE = "params.cases[{i}].{feature} must be a whole number, as in the evaluation data, not {value!r}."
CASE_CATEGORY = "params.cases[{i}].{feature}: {value!r} is not a value the evaluation data has (known: {known})."


def case_frame(cases, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame | None:
    """The rows a user asked about, checked against the evaluation data's columns, indexed by name.

    Each case is {feature: value, ..., "case": "its name"}; every feature the model reads is
    needed, numbers must be finite, and a category must be one the evaluation data has (the model
    never learned another)."""
    if cases in (None, []):
        return None
    if not isinstance(cases, list) or len(cases) > MAX_CASES or not all(isinstance(c, dict) for c in cases):
        raise AuditInputError(BAD_CASES.format(n=MAX_CASES))
    rows, names = [], []
    for i, case in enumerate(cases):
        missing = [f for f in features if f not in case]
        unknown = [k for k in case if k not in features and k != "case"]
        if missing or unknown:
            detail = "".join([f"; missing: {', '.join(missing)}" if missing else "",
                              f"; not read by the model: {', '.join(map(str, unknown))}" if unknown else ""])
            raise AuditInputError(CASE_FEATURES.format(i=i, detail=detail))
        for f in features:
            value = case[f]
            if pd.api.types.is_numeric_dtype(frame[f]):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                    raise AuditInputError(CASE_NUMBER.format(i=i, feature=f, value=value))
                if pd.api.types.is_integer_dtype(frame[f]) and float(value) != int(value):
                    raise AuditInputError(CASE_WHOLE.format(i=i, feature=f, value=value))
            else:
                known = sorted(map(str, frame[f].dropna().unique()))
                if str(value) not in known:
                    raise AuditInputError(CASE_CATEGORY.format(i=i, feature=f, value=value,
                                                               known=", ".join(known[:12])))
        rows.append({f: case[f] for f in features})
        names.append(str(case.get("case") or f"case {i + 1}")[:MAX_CASE_NAME])
    out = pd.DataFrame(rows, index=names)
    return out.astype({f: frame[f].dtype for f in features if pd.api.types.is_numeric_dtype(frame[f])})


def case_fields(frame: pd.DataFrame, features: list[str]) -> list[dict]:
    """What a case needs, per feature, for the run page's form: its type, its categories and a
    typical value (the median, or the most frequent category)."""
    out = []
    for f in features:
        column = frame[f].dropna()
        if pd.api.types.is_numeric_dtype(frame[f]) and not pd.api.types.is_bool_dtype(frame[f]):
            whole = pd.api.types.is_integer_dtype(frame[f])
            median = float(column.median()) if len(column) else 0.0
            out.append({"name": f, "kind": "whole" if whole else "number",
                        "typical": int(round(median)) if whole else median})
        else:
            choices = sorted(map(str, column.unique()))
            out.append({"name": f, "kind": "choice", "choices": choices,
                        "typical": str(column.mode().iloc[0]) if len(column) else None})
    return out


def _params(run) -> dict:
    params = {**KINDS["explainability"].defaults, **run.params}
    for name, (low, high) in BOUNDS.items():
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise AuditInputError(BAD_PARAM.format(name=name, low=low, high=high, value=value))
    return params


def model_features(model, frame: pd.DataFrame, schema: dict) -> list[str]:
    """The raw columns the model reads: its spec's inputs (torch), else what the estimator was fitted on."""
    if model.module is not None:
        spec_input = model.spec["input"]
        names = list(spec_input["columns"]) if spec_input["kind"] == "image" else \
            [f["name"] for f in spec_input["numeric"]] + [f["name"] for f in spec_input["categorical"]]
    else:
        fitted = getattr(model.estimator, "feature_names_in_", None)
        names = list(fitted) if fitted is not None else [c for c in schema.get("features") or [] if c in frame.columns]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise AuditInputError(NO_FEATURES.format(missing=", ".join(missing)))
    return names


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(np.random.default_rng(seed).choice(len(frame), size=max_rows, replace=False))]


def _torch_score(module, spec_input: dict):
    return lambda f: predict_proba(module, encode(f, spec_input))[:, 1]


def _randomized(model, version, features: list[str], positive, *, count: int, seed: int) -> list[dict]:
    """Versions of the model that learned nothing: weights re-initialised, or labels shuffled."""
    if model.module is not None:
        modules = [randomize_module(model.module, seed=seed + 1000 + i) for i in range(count)]
        return [{"score": _torch_score(m, model.spec["input"]), "module": m} for m in modules]
    train_ds = version.train_dataset
    if train_ds is None or not train_ds.schema.get("label"):
        return []
    from sklearn.base import clone

    train = dataset_frame(train_ds)
    y = (train[train_ds.schema["label"]].to_numpy() == positive).astype(int)
    out = []
    for i in range(count):
        shuffled = np.random.default_rng(seed + 1000 + i).permutation(y)
        estimator = clone(model.estimator).fit(train[features], shuffled)
        out.append({"score": (lambda e: lambda f: np.asarray(e.predict_proba(f[features]))[:, 1])(estimator)})
    return out


def _training_sensitive(version, features: list[str], sensitive: list[str]):
    train_ds = version.train_dataset
    if train_ds is None or not sensitive:
        return None
    train = dataset_frame(train_ds)
    if any(c not in train.columns for c in features + sensitive):
        return None
    return train[features], train[sensitive]


def run(*, run, progress) -> RunOutcome:
    version, params = run.version, _params(run)
    frame, label = labelled_frame(version.eval_dataset, role="evaluation")
    schema = version.eval_dataset.schema
    progress(5, "loading model and data")
    model = version_model(version)
    if len(model.classes) != 2:
        raise AuditInputError(NOT_BINARY.format(n=len(model.classes)))
    seed = int(params["seed"])
    frame = _sample(frame, params["max_rows"], seed)
    positive = model.classes[1]  # by convention the second class is the favourable outcome
    features = model_features(model, frame, schema)
    sensitive = [c for c in schema.get("sensitive") or [] if c in frame.columns]
    thresholds, policy = policy_thresholds(run, "explainability")
    share = float((thresholds.get("proxy_auc") or {}).get("importance_share", 0.10))
    device = pick_device() if model.module is not None else None
    if model.module is not None:
        score = _torch_score(model.module, model.spec["input"])
    else:
        score = lambda f: np.asarray(model.estimator.predict_proba(f[features]))[:, 1]  # noqa: E731
    finite_outputs(score(frame))  # NaN scores would make every importance and check NaN, not a finding
    progress(10, "randomizing the model for the sanity check")
    randomized = _randomized(model, version, features, positive, count=params["n_randomized_models"], seed=seed)
    result = explainability_probe(
        score, frame, (frame[label].to_numpy() == positive).astype(int), features=features,
        outcome=f"{label} = {positive}", sensitive=frame[sensitive] if sensitive else None,
        proxy_rows=_training_sensitive(version, features, sensitive), module=model.module,
        spec_input=model.spec.get("input") if model.module is not None else None, randomized=randomized,
        n_repeats=params["n_repeats"], ig_steps=params["ig_steps"], deletion_k=params["deletion_k"],
        n_random=params["n_random"], n_bootstrap=params["n_bootstrap"], confidence_level=params["confidence_level"],
        min_importance_share=share, min_group_count=params["min_group_count"], n_local_rows=params["n_local_rows"],
        cases=case_frame(params.get("cases"), frame, features),
        seed=seed, device=device, progress=scaled(progress, 15, 90, "importance, tests and proxies"),
    )
    progress(92, "comparing with the policy")
    checks = explainability_checks(result, thresholds)
    result["policy"] = policy
    result["case_fields"] = case_fields(frame, features)
    result["positive_label"] = str(positive)
    result["randomization_kind"] = "weights re-initialised" if model.module is not None else \
        "refitted on shuffled training labels"
    method_checks = [c for c in checks if c["metric"] != "proxy_auc"]
    return RunOutcome(outcome=overall_outcome(checks), summary=_summary(result, checks, policy["name"]),
                      results=result, checks=checks, seeds={"permutation": seed, "randomization": seed + 1000},
                      device=device_label(device) if device is not None else "cpu",
                      # the methods' own checks; only proxy checks: nothing was decided about the methods
                      evidence_outcome=(None if len(method_checks) == len(checks) else
                                        overall_outcome(method_checks) if method_checks else "info"),
                      further=proxy_evidence(result, checks, policy["name"]))


def proxy_evidence(result: dict, checks: list[dict], policy_name: str) -> list[dict]:
    """The proxy checks as their own evidence on the fairness controls (kind.py's further_controls):
    nothing when no feature carrying enough importance could be scanned against a sensitive group."""
    own = [c for c in checks if c["metric"] == "proxy_auc"]
    if not own:
        return []
    findings = [f"{p['feature']} for {p['attribute']}" + (f" = {p['group']}" if p["group"] else "")
                for p in result["proxy_findings"]]
    possible = [f"{p['feature']} for {p['attribute']}" for p in result["possible_proxies"]]
    summary = ((f"Proxy findings: {', '.join(findings)}. " if findings else "No proxy finding. ")
               + (f"Possible proxies (more rows would tell): {', '.join(possible)}. " if possible else "")
               + checks_sentence(own, policy_name))
    return [{"kind": PROXY_EVIDENCE, "outcome": overall_outcome(own), "summary": summary[:2000]}]


def interval_outcome(value, ci, spec: dict) -> str:
    """pass / fail / inconclusive: the whole interval on one side of the limit decides (a value
    without an interval is decided on itself)."""
    if value is None or not np.isfinite(value):
        return "inconclusive"
    low, high = ci if ci else (value, value)
    if "min" in spec:
        limit = float(spec["min"])
        return "pass" if low > limit else ("fail" if high <= limit else "inconclusive")
    limit = float(spec["max"])
    return "pass" if high <= limit else ("fail" if low > limit else "inconclusive")


def _check(metric, value, ci, spec, *, feature, explanation) -> dict:
    operator, threshold = (">=", float(spec["min"])) if "min" in spec else ("<=", float(spec["max"]))
    return {"metric": metric, "feature": feature, "value": None if value is None else float(value),
            "ci": list(ci) if ci else None, "threshold": threshold, "operator": operator,
            "outcome": interval_outcome(value, ci, spec), "explanation": explanation}


def explainability_checks(result: dict, thresholds: dict) -> list[dict]:
    """The policy's checks; also marks each method trustworthy or not and names the proxy findings."""
    checks = []
    level = result["params"]["check_level"]
    for name, method in result["methods"].items():
        own = []
        if "deletion_gap" in thresholds:
            d = method["deletion"]
            own.append(_check("deletion_gap", d["gap"], d["ci"], thresholds["deletion_gap"], feature=method["label"],
                              explanation=f"Removing the {d['k']} features {method['label']} ranks first moved the "
                                          f"score by {d['ranked_area']:.3f} on average against "
                                          f"{d['random_mean_area']:.3f} for {d['n_random']} random orders "
                                          f"({level:.2%} interval over rows)."))
        if "randomization_similarity" in thresholds:
            r = method["randomization"] or {}
            own.append(_check("randomization_similarity", r.get("similarity"), r.get("ci"),
                              thresholds["randomization_similarity"], feature=method["label"], explanation=(
                                  f"Spearman correlation of {method['label']} for the model and for "
                                  f"{len(r.get('per_model') or [])} randomized copies, "
                                  + ("on the importance vector." if r.get("unit") != "rows" else
                                     f"row by row, averaged over {r.get('rows')} rows ({level:.2%} interval).")
                                  if r else "No randomized model was available (a scikit-learn model needs a "
                                            "labelled training dataset): untested.")))
        outcomes = {c["outcome"] for c in own}
        method["verdict"] = "not trustworthy" if "fail" in outcomes else (
            "trustworthy" if outcomes == {"pass"} else "untested")
        checks += own
    findings, possible = [], []
    if "proxy_auc" in thresholds and result.get("proxies"):
        spec = thresholds["proxy_auc"]
        for pair in result["proxies"]["pairs"]:
            pair["outcome"] = interval_outcome(pair["auc"], pair["ci"], spec) if pair["auc"] is not None else None
            if not pair["important"]:
                continue
            where = f"{pair['feature']} → {pair['attribute']}" + (f" = {pair['group']}" if pair["group"] else "")
            checks.append(_check("proxy_auc", pair["auc"], pair["ci"], spec, feature=where, explanation=(
                f"{pair['feature']} carries {pair['share']:.0%} of the model's importance; alone it tells "
                f"{pair['attribute']} = {pair['group']} apart with this AUC on held-out rows.")))
            if checks[-1]["outcome"] == "fail":
                findings.append(pair)
            elif checks[-1]["outcome"] == "inconclusive":
                possible.append(pair)
    # A finding: the whole interval is above the limit. Possible: it straddles the limit, so more
    # rows are needed to tell; named too, so a fairness reviewer can look.
    result["proxy_findings"], result["possible_proxies"] = findings, possible
    return checks


def _summary(result: dict, checks: list[dict], policy_name: str) -> str:
    primary = result["methods"][result["primary_method"]]
    top = ", ".join(primary["order"][:3])
    verdicts = "; ".join(f"{m['label']} {m['verdict']}" for m in result["methods"].values())
    proxies = [f"{p['feature']} for {p['attribute']}" for p in result["proxy_findings"]]
    return (f"Explainability on {result['n']} rows: most important {top} ({primary['label']}). {verdicts}. "
            + (f"Proxy findings: {', '.join(proxies)}. " if proxies else "No proxy finding. ")
            + checks_sentence(checks, policy_name))
