"""Tests for audits/exports/model_card.py.

Section list: Mitchell et al., "Model Cards for Model Reporting", FAT* 2019, Section 4
(https://doi.org/10.1145/3287560.3287596): model details, intended use, factors, metrics,
evaluation data, training data, (quantitative analyses, shown under metrics), ethical
considerations, caveats and recommendations. Markdown table escaping: GitHub Flavored
Markdown spec 0.29, "Tables (extension)": a pipe inside a cell is written ``\\|``.
Coverage arithmetic is by hand beside each case.
"""

import json
import re

import pytest

from audits.exports.model_card import (
    ERR_COUNT,
    ERR_FRAMEWORK,
    ERR_MISSING,
    ERR_ROLE,
    ERR_STATUS,
    ERR_TIMESTAMP,
    MAX_METRICS_PER_AUDIT,
    escape_cell,
    format_metric,
    headline_metrics,
    model_card,
    model_card_markdown,
)


def _system(**changes):
    return {"name": "Credit | scoring", "slug": "credit", "risk_tier": "high", "owner": "alice",
            "purpose": "Scores loan applications.", "intended_use": "Loan officers.\nNot for hiring.", **changes}


def _version():
    return {"version": "1.2.0", "sha256": "ab" * 32, "format": "skops", "parent": "1.1.0", "created_by": "bob",
            "created_at": "2026-01-02T03:04:05+00:00"}


def _datasets():
    return [
        {"name": "german | credit test", "role": "test", "sha256": "cd" * 32, "n_rows": 300, "file_format": "csv",
         "schema": {"features": ["age", "sex", "amount"], "label": "risk", "sensitive": ["sex", "age"]}},
        {"name": "german credit train", "role": "train", "sha256": "ef" * 32, "n_rows": 700, "file_format": "csv",
         "schema": {"features": ["age", "sex", "amount"], "label": "risk", "sensitive": ["sex"]}},
    ]


def _audits():
    return [
        {"id": "run-old", "kind": "fairness", "status": "succeeded", "finished_at": "2026-03-01T10:30:00+01:00",
         "summary": "old run", "outcome": "fail", "metrics": {"n": 100}},
        # 09:31Z is a minute after 10:30+01:00 (= 09:30Z), though its text sorts first: newer.
        {"id": "run-new", "kind": "fairness", "status": "succeeded", "finished_at": "2026-03-01T09:31:00Z",
         "summary": "3 of 4 checks passed", "outcome": "pass",
         "metrics": {"n": 300, "disparities": {"sex": {"dpd": {"value": 0.12, "ci": [0.05, 0.2]}}}}},
        {"id": "run-drift", "kind": "drift", "status": "succeeded", "finished_at": "2026-03-02T00:00:00Z",
         "summary": "PSI unclear", "outcome": "inconclusive", "metrics": {"max_psi": 0.2}},
        {"id": "run-queued", "kind": "robustness", "status": "queued", "finished_at": None, "summary": "",
         "metrics": {}},
    ]


def _summary():
    return {"ai-rmf": {"satisfied": 10, "failed": 2, "not_applicable": 2, "not_started": 58},
            "iso42001": {"satisfied": 3, "not_started": 35}}


def _card(**overrides):
    options = {"system": _system(), "version": _version(), "datasets": _datasets(), "audits": _audits(),
               "controls_summary": _summary(), **overrides}
    return model_card(**{"fairness_kinds": ("fairness",), **options})


# ---------------------------------------------------------------- metrics


def test_headline_metrics_walks_numbers_and_value_dicts_in_key_order():
    metrics = {
        "b": 1,
        "a": {"value": 0.5, "ci": [0.4, 0.6]},
        "c": {"d": {"value": float("nan"), "ci": None}, "e": {"f": {"g": {"value": 9}}}},
        "flag": True, "text": "x", "slices": [1, 2], "inf": float("inf"),
    }
    assert headline_metrics(metrics) == [
        {"name": "a", "value": 0.5, "ci": [0.4, 0.6]},
        {"name": "b", "value": 1, "ci": None},
        {"name": "c.d", "value": None, "ci": None},  # NaN is not JSON: None
        {"name": "inf", "value": None, "ci": None},
    ]  # c.e.f.g is deeper than MAX_METRIC_DEPTH (3 levels)


@pytest.mark.parametrize("metric, text", [
    ({"value": 0.123456, "ci": [0.1, 0.15]}, "0.1235 [0.1, 0.15]"),
    ({"value": 300, "ci": None}, "300"),
    ({"value": None, "ci": None}, "n/a"),
    ({"value": 12345.678, "ci": None}, "1.235e+04"),
])
def test_format_metric(metric, text):
    assert format_metric(metric) == text


# ---------------------------------------------------------------- the card


def test_the_card_has_mitchell_et_al_sections_and_is_plain_json():
    card = _card()
    assert list(card) == ["title", "reference", "model_details", "intended_use", "factors", "metrics",
                          "evaluation_data", "training_data", "ethical_considerations", "caveats",
                          "control_coverage"]
    assert "10.1145/3287560.3287596" in card["reference"]
    assert json.loads(json.dumps(card, allow_nan=False)) == card


def test_model_details_come_from_the_version():
    details = _card()["model_details"]
    assert (details["version"], details["sha256"], details["format"], details["parent"]) == (
        "1.2.0", "ab" * 32, "skops", "1.1.0")
    assert (details["created_by"], details["created_at"]) == ("bob", "2026-01-02T03:04:05+00:00")


def test_factors_are_the_sensitive_features_of_the_data_in_order():
    assert _card()["factors"] == {"sensitive_features": ["sex", "age"]}


def test_metrics_show_the_latest_finished_audit_of_each_kind():
    metrics = _card()["metrics"]
    # Newest first; run-new (09:31Z) beats run-old (10:30+01:00 = 09:30Z); the queued run is left out.
    assert [(m["kind"], m["audit_id"]) for m in metrics] == [("drift", "run-drift"), ("fairness", "run-new")]
    assert metrics[1]["values"] == [{"name": "disparities.sex.dpd", "value": 0.12, "ci": [0.05, 0.2]},
                                    {"name": "n", "value": 300, "ci": None}]


def test_an_audit_shows_at_most_the_headline_numbers():
    audit = {"id": "r", "kind": "drift", "status": "succeeded", "finished_at": "2026-03-02T00:00:00Z",
             "summary": "", "metrics": {f"m{i:02d}": i for i in range(15)}}
    entry = _card(audits=[audit])["metrics"][0]
    assert len(entry["values"]) == MAX_METRICS_PER_AUDIT
    assert entry["more_values"] == 15 - MAX_METRICS_PER_AUDIT


def test_an_audit_leads_with_its_overall_accuracy_and_leaves_its_settings_out():
    audit = {"id": "r", "kind": "fairness", "status": "succeeded", "finished_at": "2026-03-02T00:00:00Z",
             "summary": "", "metrics": {"disparities": {f"f{i:02d}": i for i in range(15)},
                                        "overall": {"selection_rate": {"value": 0.6}, "accuracy": {"value": 0.74}},
                                        "params": {"alpha": 0.05, "psi_bins": 10}}}
    entry = _card(audits=[audit])["metrics"][0]
    assert [v["name"] for v in entry["values"][:3]] == ["overall.accuracy", "overall.selection_rate",
                                                        "disparities.f00"]
    assert not any(v["name"].startswith("params.") for v in entry["values"])
    assert entry["more_values"] == 17 - MAX_METRICS_PER_AUDIT


def test_data_is_split_into_evaluation_and_training():
    card = _card()
    assert [d["name"] for d in card["evaluation_data"]] == ["german | credit test"]
    assert [d["name"] for d in card["training_data"]] == ["german credit train"]
    assert card["training_data"][0]["n_features"] == 3


def test_control_coverage_counts_every_status():
    coverage = _card()["control_coverage"]
    assert [row["framework"] for row in coverage] == ["ai-rmf", "iso42001"]
    ai_rmf = coverage[0]
    assert ai_rmf["total"] == 72
    assert ai_rmf["counts"] == {"satisfied": 10, "stale": 0, "failed": 2, "in_progress": 0, "not_started": 58,
                                "not_applicable": 2}
    assert ai_rmf["satisfied_share"] == 0.1429  # 10 / (72 - 2) = 0.142857...
    assert coverage[1]["satisfied_share"] == 0.0789  # 3 / 38 = 0.078947...


def test_a_framework_with_every_control_not_applicable_has_no_share():
    coverage = _card(controls_summary={"iso42001": {"not_applicable": 38}})["control_coverage"]
    assert coverage[0]["satisfied_share"] is None


def test_ethical_considerations_and_caveats_say_what_the_registry_shows():
    card = _card()
    assert card["ethical_considerations"] == [
        "Fairness was measured across the sensitive features sex, age; see Metrics for the disparities "
        "and their intervals."]
    assert card["caveats"][:2] == ["The latest drift audit had too little data to decide: PSI unclear",
                                   "2 NIST AI RMF 1.0 controls are failed."]


def test_a_data_quality_warning_is_a_caveat_in_its_own_words():
    warned = {"id": "run-dq", "kind": "data_quality", "status": "succeeded", "finished_at": "2026-03-02T01:00:00Z",
              "summary": "to review: representation", "outcome": "inconclusive", "metrics": {}}
    card = _card(audits=_audits() + [warned])
    assert "The latest data_quality audit gave a warning: to review: representation" in card["caveats"]
    assert "The latest drift audit had too little data to decide: PSI unclear" in card["caveats"]


def test_an_empty_registry_is_reported_not_left_blank():
    card = _card(datasets=[], audits=[], controls_summary={})
    assert card["caveats"][:3] == [
        "No test dataset is registered, so the metrics cannot be reproduced from the registry.",
        "The training data is not registered; its provenance is unknown to the registry.",
        "No audit has finished for this version.",
    ]
    assert card["ethical_considerations"] == []


def test_sensitive_data_without_a_fairness_audit_is_an_ethical_consideration():
    card = _card(audits=[])
    assert card["ethical_considerations"] == [
        "The data declares sensitive features (sex, age), but no fairness audit has finished for this version."]


@pytest.mark.parametrize("overrides, message", [
    ({"system": {"name": "x"}}, ERR_MISSING.format(field="system.slug")),
    ({"version": {"version": "1"}}, ERR_MISSING.format(field="version.sha256")),
    ({"datasets": [{**_datasets()[0], "role": "validation"}]}, ERR_ROLE.format(index=0, value="validation")),
    ({"controls_summary": {"nist-csf": {}}}, ERR_FRAMEWORK.format(value="nist-csf")),
    ({"controls_summary": {"ai-rmf": {"done": 1}}}, ERR_STATUS.format(framework="ai-rmf", value="done")),
    ({"controls_summary": {"ai-rmf": {"failed": -1}}}, ERR_COUNT.format(framework="ai-rmf", status="failed", value=-1)),
    ({"audits": [{**_audits()[0], "finished_at": "2026-03-01"}]},
     ERR_TIMESTAMP.format(field="audits[0].finished_at", value="2026-03-01")),
])
def test_inputs_are_checked(overrides, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _card(**overrides)


# ---------------------------------------------------------------- Markdown


@pytest.mark.parametrize("value, cell", [
    ("a | b", "a \\| b"),
    ("two\nlines", "two lines"),
    ("back\\slash", "back\\\\slash"),
    ("a \\| b", "a \\\\\\| b"),  # an already escaped pipe stays one literal backslash and one pipe
    (None, "n/a"),
    (300, "300"),
])
def test_escape_cell(value, cell):
    assert escape_cell(value) == cell


def test_markdown_has_one_heading_per_section_in_order():
    markdown = model_card_markdown(_card())
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# Model card: Credit | scoring 1.2.0",
        "## Model details", "## Intended use", "## Factors", "## Metrics",
        "### drift (finished 2026-03-02T00:00:00Z, outcome inconclusive)",
        "### fairness (finished 2026-03-01T09:31:00Z, outcome pass)",
        "## Evaluation data", "## Training data", "## Ethical considerations",
        "## Caveats and recommendations", "## Control coverage",
    ]


def test_markdown_tables_escape_pipes_and_keep_their_columns():
    lines = model_card_markdown(_card()).splitlines()
    assert "| Name | Credit \\| scoring |" in lines
    row = next(line for line in lines if line.startswith("| german"))
    assert row == f"| german \\| credit test | test | 300 | csv | risk | 3 | sex, age | {'cd' * 32} |"
    # 8 columns: 9 unescaped pipes
    assert len(re.findall(r"(?<!\\)\|", row)) == 9


def test_markdown_renders_metrics_intervals_and_coverage():
    lines = model_card_markdown(_card()).splitlines()
    assert "| disparities.sex.dpd | 0.12 | [0.05, 0.2] |" in lines
    assert "| n | 300 | n/a |" in lines
    assert "| NIST AI RMF 1.0 | 72 | 10 | 0 | 2 | 0 | 58 | 2 | 14% |" in lines
    assert "**Intended users, context and out-of-scope uses.** Loan officers. Not for hiring." in lines


def test_markdown_of_an_empty_registry():
    markdown = model_card_markdown(_card(datasets=[], audits=[], controls_summary={}))
    assert "No audit has finished for this version." in markdown
    assert "No sensitive features are declared in the registered data." in markdown
    assert markdown.count("None recorded.") == 4  # evaluation, training, ethics, coverage
    assert markdown.endswith("\n")
