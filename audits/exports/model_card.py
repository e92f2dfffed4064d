"""Model cards for one model version, as a plain dict and as Markdown.

The sections follow Mitchell et al., "Model Cards for Model Reporting", FAT* 2019,
https://doi.org/10.1145/3287560.3287596: model details, intended use, factors, metrics,
evaluation data, training data, ethical considerations, caveats and recommendations.
A last section, control coverage, adds what this platform knows and the paper could not:
how many NIST AI RMF and ISO/IEC 42001 controls the system satisfies.

Pure functions, no Django. Everything in the card comes from the arguments; nothing is
invented. Where the registry holds nothing (no training data, no fairness audit) the card
says so in the caveats rather than leaving a blank.
"""

from __future__ import annotations

import math
from datetime import datetime

from audits.exports.timestamps import ERR_TIMESTAMP, parse_aware_time  # noqa: F401 - ERR_TIMESTAMP is part of this API
from governance.core import glossary

REFERENCE = ("Mitchell, M., Wu, S., Zaldivar, A., Barnes, P., Vasserman, L., Hutchinson, B., Spitzer, E., "
             "Raji, I. D., Gebru, T. Model Cards for Model Reporting. FAT* 2019, 220-229. "
             "https://doi.org/10.1145/3287560.3287596")
SECTIONS = (
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("factors", "Factors"),
    ("metrics", "Metrics"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats", "Caveats and recommendations"),
    ("control_coverage", "Control coverage"),
)
DATASET_ROLES = ("train", "test", "reference", "production")
FRAMEWORK_LABELS = {"ai-rmf": "NIST AI RMF 1.0", "iso42001": "ISO/IEC 42001:2023 Annex A"}
CONTROL_STATUSES = ("satisfied", "stale", "failed", "in_progress", "not_started", "not_applicable")
# A card is a summary: each audit shows this many headline numbers, the report has the rest.
MAX_METRICS_PER_AUDIT = 12
# Nested result dicts are walked this deep for numbers ({"disparities": {"sex": {"dpd": ...}}}).
MAX_METRIC_DEPTH = 3

ERR_MISSING = "{field} is required"
ERR_ROLE = "datasets[{index}].role must be one of 'train', 'test', 'reference', 'production', got {value!r}"
ERR_FRAMEWORK = "controls_summary has unknown framework {value!r}; use 'ai-rmf' or 'iso42001'"
ERR_STATUS = ("controls_summary[{framework!r}] has unknown status {value!r}; use 'satisfied', 'stale', "
              "'failed', 'in_progress', 'not_started' or 'not_applicable'")
ERR_COUNT = "controls_summary[{framework!r}][{status!r}] must be an integer >= 0, got {value!r}"


# ---------------------------------------------------------------- metrics


def headline_metrics(metrics: dict) -> list[dict]:
    """The numbers in an audit's metrics, as [{"name", "value", "ci"}] in key order.

    A number is a headline; so is a dict with a "value" (the probes' convention), whose
    "ci" ([low, high]) becomes the interval. Other dicts are walked (names joined with
    "."), up to ``MAX_METRIC_DEPTH``; lists, strings and booleans are detail for the report.
    NaN and infinities become None, so the result is plain JSON.
    """
    return list(_walk_metrics(metrics, "", 1))


def _walk_metrics(metrics: dict, prefix: str, depth: int):
    for key in sorted(metrics, key=str):
        value, name = metrics[key], f"{prefix}{key}"
        if _is_number(value):
            yield {"name": name, "value": _finite(value), "ci": None}
        elif isinstance(value, dict) and "value" in value and (_is_number(value["value"]) or value["value"] is None):
            yield {"name": name, "value": _finite(value["value"]), "ci": _interval(value.get("ci"))}
        elif isinstance(value, dict) and depth < MAX_METRIC_DEPTH:
            yield from _walk_metrics(value, f"{name}.", depth + 1)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _interval(ci):
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_is_number(x) for x in ci):
        low, high = _finite(ci[0]), _finite(ci[1])
        return None if low is None or high is None else [low, high]
    return None


def format_metric(metric: dict) -> str:
    """``0.1235 [0.09, 0.16]``: four significant digits, the interval when there is one."""
    text = _number(metric["value"])
    if metric.get("ci"):
        text += f" [{_number(metric['ci'][0])}, {_number(metric['ci'][1])}]"
    return text


def _number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


# ---------------------------------------------------------------- the card


def model_card(*, system: dict, version: dict, datasets: list[dict], audits: list[dict],
               controls_summary: dict, fairness_kinds: tuple = ()) -> dict:
    """A model card for one version of one AI system, as plain JSON-serialisable data.

    ``system`` = {"name", "slug", "risk_tier", "owner", "purpose"} (optional "intended_use",
    "lifecycle_stage"); ``version`` = {"version", "sha256", "format", "parent", "created_by",
    "created_at"} (optional "notes"); ``datasets`` = [{"name", "role", "sha256", "n_rows",
    "file_format", "schema": {"features", "label", "sensitive"}}], role one of
    ``DATASET_ROLES``; ``audits`` = [{"id", "kind", "status", "finished_at", "summary",
    "metrics"}] (optional "outcome"); ``controls_summary`` = {framework: {status: count}};
    ``fairness_kinds``: the audit kinds that measure fairness across the sensitive features.
    """
    _require(system, ("name", "slug", "risk_tier", "owner", "purpose"), "system")
    _require(version, ("version", "sha256", "format", "parent", "created_by", "created_at"), "version")
    data = [_dataset(d, i) for i, d in enumerate(datasets)]
    latest = _latest_audits(audits)
    sensitive = _sensitive_features(data)
    coverage = _coverage(controls_summary)
    return {
        "title": f"Model card: {system['name']} {version['version']}",
        "reference": REFERENCE,
        "model_details": _model_details(system, version),
        "intended_use": {
            "purpose": system["purpose"],
            "intended_use": system.get("intended_use") or None,
            "risk_tier": system["risk_tier"],
        },
        "factors": {"sensitive_features": sensitive},
        "metrics": [_audit_metrics(a) for a in latest],
        "evaluation_data": [d for d in data if d["role"] != "train"],
        "training_data": [d for d in data if d["role"] == "train"],
        "ethical_considerations": _ethical_considerations(latest, sensitive, fairness_kinds),
        "caveats": _caveats(data, latest, coverage),
        "control_coverage": coverage,
    }


def _require(record: dict, keys, where: str) -> None:
    for key in keys:
        if not isinstance(record, dict) or key not in record:
            raise ValueError(ERR_MISSING.format(field=f"{where}.{key}"))


def _model_details(system: dict, version: dict) -> dict:
    return {
        "name": system["name"],
        "system": system["slug"],
        "version": version["version"],
        "sha256": version["sha256"],
        "format": version["format"],
        "parent": version["parent"],
        "created_by": version["created_by"],
        "created_at": version["created_at"],
        "owner": system["owner"],
        "lifecycle_stage": system.get("lifecycle_stage"),
        "notes": version.get("notes") or None,
    }


def _dataset(dataset: dict, index: int) -> dict:
    _require(dataset, ("name", "role", "sha256", "n_rows", "file_format"), f"datasets[{index}]")
    if dataset["role"] not in DATASET_ROLES:
        raise ValueError(ERR_ROLE.format(index=index, value=dataset["role"]))
    schema = dataset.get("schema") or {}
    return {
        "name": dataset["name"],
        "role": dataset["role"],
        "sha256": dataset["sha256"],
        "n_rows": dataset["n_rows"],
        "format": dataset["file_format"],
        "label": schema.get("label"),
        "n_features": len(schema.get("features") or []),
        "sensitive_features": list(schema.get("sensitive") or []),
    }


def _sensitive_features(datasets: list[dict]) -> list[str]:
    """Mitchell et al.'s "relevant factors": the sensitive features the data declares."""
    return list(dict.fromkeys(f for d in datasets for f in d["sensitive_features"]))


def _latest_audits(audits: list[dict]) -> list[dict]:
    """The most recent finished audit of each kind, newest first."""
    latest: dict[str, tuple[datetime, dict]] = {}
    for index, audit in enumerate(audits):
        _require(audit, ("id", "kind", "status", "finished_at", "summary", "metrics"), f"audits[{index}]")
        if not audit["finished_at"]:
            continue
        when = parse_aware_time(audit["finished_at"], f"audits[{index}].finished_at")
        if audit["kind"] not in latest or when > latest[audit["kind"]][0]:
            latest[audit["kind"]] = (when, audit)
    return [a for _, a in sorted(latest.values(), key=lambda pair: (pair[0], pair[1]["kind"]), reverse=True)]


# The run's settings are not measurements; the overall numbers (accuracy first) lead.
SETTINGS_PREFIX = "params."
LEADING_PREFIX = "overall."


def _audit_metrics(audit: dict) -> dict:
    values = [v for v in headline_metrics(audit["metrics"] or {}) if not v["name"].startswith(SETTINGS_PREFIX)]
    values.sort(key=lambda v: (not v["name"].startswith(LEADING_PREFIX),
                               v["name"] != f"{LEADING_PREFIX}accuracy"))
    return {
        "audit_id": str(audit["id"]),
        "kind": audit["kind"],
        "finished_at": audit["finished_at"],
        "status": audit["status"],
        "outcome": audit.get("outcome"),
        "summary": audit["summary"],
        "values": values[:MAX_METRICS_PER_AUDIT],
        "more_values": max(0, len(values) - MAX_METRICS_PER_AUDIT),
    }


def _coverage(summary: dict) -> list[dict]:
    rows = []
    for framework, counts in summary.items():
        if framework not in FRAMEWORK_LABELS:
            raise ValueError(ERR_FRAMEWORK.format(value=framework))
        for status, count in counts.items():
            if status not in CONTROL_STATUSES:
                raise ValueError(ERR_STATUS.format(framework=framework, value=status))
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(ERR_COUNT.format(framework=framework, status=status, value=count))
        full = {s: counts.get(s, 0) for s in CONTROL_STATUSES}
        total = sum(full.values())
        applicable = total - full["not_applicable"]
        rows.append({
            "framework": framework,
            "label": FRAMEWORK_LABELS[framework],
            "total": total,
            "counts": full,
            # Share of the applicable controls that are satisfied; None when none apply.
            "satisfied_share": round(full["satisfied"] / applicable, 4) if applicable else None,
        })
    return sorted(rows, key=lambda r: list(FRAMEWORK_LABELS).index(r["framework"]))


def _ethical_considerations(latest: list[dict], sensitive: list[str], fairness_kinds: tuple) -> list[str]:
    notes = []
    fairness = [a for a in latest if a["kind"] in fairness_kinds]
    if sensitive and fairness:
        notes.append(f"Fairness was measured across the sensitive features {', '.join(sensitive)}; "
                     "see Metrics for the disparities and their intervals.")
    elif sensitive:
        notes.append(f"The data declares sensitive features ({', '.join(sensitive)}), but no fairness "
                     "audit has finished for this version.")
    for audit in latest:
        if audit.get("outcome") == "fail":
            notes.append(f"The latest {audit['kind']} audit failed: {audit['summary']}")
    return notes


def _caveats(data: list[dict], latest: list[dict], coverage: list[dict]) -> list[str]:
    notes = []
    if not any(d["role"] == "test" for d in data):
        notes.append("No test dataset is registered, so the metrics cannot be reproduced from the registry.")
    if not any(d["role"] == "train" for d in data):
        notes.append("The training data is not registered; its provenance is unknown to the registry.")
    if not latest:
        notes.append("No audit has finished for this version.")
    for audit in latest:
        if audit.get("outcome") == "inconclusive":  # "warning" for data quality (its words.py)
            word = glossary.outcome_label("inconclusive", audit["kind"])
            said = {"warning": "gave a warning", "insufficient data": "had too little data to decide"}.get(
                word, f"was {word}")
            notes.append(f"The latest {audit['kind']} audit {said}: {audit['summary']}")
    for row in coverage:
        if row["counts"]["failed"]:
            notes.append(f"{row['counts']['failed']} {row['label']} controls are failed.")
    notes.append("The metrics hold for the evaluation data listed here; they do not establish "
                 "performance on other populations, or after the input data drifts.")
    return notes


# ---------------------------------------------------------------- Markdown

NOTHING = "None recorded."


def model_card_markdown(card: dict) -> str:
    """The card as GitHub-flavoured Markdown, one heading per section of ``SECTIONS``.

    Table cells are escaped: ``|`` becomes ``\\|`` and line breaks become spaces, so a value
    typed by a user cannot break or add table columns.
    """
    renderers = {
        "model_details": _md_details, "intended_use": _md_intended_use, "factors": _md_factors,
        "metrics": _md_metrics, "evaluation_data": _md_datasets, "training_data": _md_datasets,
        "ethical_considerations": _md_list, "caveats": _md_list, "control_coverage": _md_coverage,
    }
    lines = [f"# {_line(card['title'])}", "", f"_Sections after {card['reference']}_"]
    for key, heading in SECTIONS:
        lines += ["", f"## {heading}", ""]
        lines += renderers[key](card[key])
    return "\n".join(lines) + "\n"


def escape_cell(value) -> str:
    """Text for one Markdown table cell: backslashes and pipes escaped, one line."""
    if value is None or value == "":
        return "n/a"
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.split())


def _line(value) -> str:
    return " ".join(str(value).split())


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows]
    return lines


def _md_details(details: dict) -> list[str]:
    fields = [("Name", "name"), ("System", "system"), ("Version", "version"), ("SHA-256", "sha256"),
              ("Format", "format"), ("Parent version", "parent"), ("Created by", "created_by"),
              ("Created at", "created_at"), ("Owner", "owner"), ("Lifecycle stage", "lifecycle_stage"),
              ("Notes", "notes")]
    return _table(["Field", "Value"], [[label, details.get(key)] for label, key in fields])


def _md_intended_use(use: dict) -> list[str]:
    # Paragraphs are kept to one line, so typed text cannot start a heading or a list.
    lines = [f"**Purpose.** {_line(use['purpose'])}", ""]
    lines.append(f"**Intended users, context and out-of-scope uses.** {_line(use['intended_use'] or NOTHING)}")
    lines += ["", f"**Risk tier.** {use['risk_tier']}"]
    return lines


def _md_factors(factors: dict) -> list[str]:
    features = factors["sensitive_features"]
    if not features:
        return ["No sensitive features are declared in the registered data."]
    return ["Sensitive features declared in the data: " + ", ".join(f"`{_line(f)}`" for f in features) + "."]


def _md_metrics(audits: list[dict]) -> list[str]:
    if not audits:
        return ["No audit has finished for this version."]
    lines = []
    for audit in audits:
        outcome = f", outcome {audit['outcome']}" if audit.get("outcome") else ""
        lines += [f"### {_line(audit['kind'])} (finished {audit['finished_at']}{outcome})", ""]
        lines += [_line(audit["summary"] or ""), ""]
        rows = [[m["name"], _number(m["value"]), _md_interval(m["ci"])] for m in audit["values"]]
        lines += _table(["Metric", "Value", "Interval"], rows) if rows else ["No numeric results."]
        if audit["more_values"]:
            lines += ["", f"{audit['more_values']} more values are in the audit report ({audit['audit_id']})."]
        lines.append("")
    return lines[:-1]


def _md_interval(ci) -> str:
    return f"[{_number(ci[0])}, {_number(ci[1])}]" if ci else "n/a"


def _md_datasets(datasets: list[dict]) -> list[str]:
    if not datasets:
        return [NOTHING]
    header = ["Name", "Role", "Rows", "Format", "Label", "Features", "Sensitive features", "SHA-256"]
    rows = [[d["name"], d["role"], d["n_rows"], d["format"], d["label"], d["n_features"],
             ", ".join(d["sensitive_features"]), d["sha256"]] for d in datasets]
    return _table(header, rows)


def _md_list(items: list[str]) -> list[str]:
    return [f"- {_line(item)}" for item in items] or [NOTHING]


def _md_coverage(rows: list[dict]) -> list[str]:
    if not rows:
        return [NOTHING]
    header = ["Framework", "Controls", "Satisfied", "Stale", "Failed", "In progress", "Not started", "Not applicable",
              "Satisfied share"]
    body = [[r["label"], r["total"], *(r["counts"][s] for s in CONTROL_STATUSES),
             "n/a" if r["satisfied_share"] is None else f"{r['satisfied_share']:.0%}"] for r in rows]
    return _table(header, body)
