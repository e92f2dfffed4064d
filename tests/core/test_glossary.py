"""The shared words (governance/core/glossary.py): the setting a check was judged at, the
words of outcomes that a kind reads differently, and sentences joined as one."""

from __future__ import annotations

import pytest

from governance.core import glossary
from governance.core.glossary import clauses


@pytest.mark.parametrize("judged_at, text", [
    ({"epsilon": 0.1, "norm": "L-inf", "attack": "pgd"}, "at ε = 0.1 (policy; L-inf, PGD)"),
    ({"epsilon": 0.5}, "at ε = 0.5 (policy)"),
    ({"fpr": 0.01}, "at false positive rate = 0.01 (policy)"),
    ({}, ""), (None, ""),
])
def test_a_check_names_the_setting_the_policy_judged_it_at(judged_at, text):
    assert glossary.setting_text(judged_at) == text


def test_a_check_with_too_few_rows_reads_insufficient_data_whatever_its_outcome():
    assert glossary.check_outcome_label({"outcome": "inconclusive", "status": "insufficient_data"}) == \
        "insufficient data"
    assert glossary.check_outcome_label({"outcome": "pass", "status": "ok"}) == "pass"
    assert glossary.check_outcome_label({"outcome": "fail"}) == "fail"


def test_a_kinds_own_outcome_words_replace_the_general_ones_for_that_kind_only():
    # Registered when Django starts (audits/kinds/apps.py): data quality's warnings.
    assert glossary.outcome_label("inconclusive", "data_quality") == "warning"
    assert glossary.outcome_text("inconclusive", "data_quality").startswith("Warning: ")
    assert glossary.outcome_label("inconclusive", "robustness") == "inconclusive"
    assert glossary.outcome_text("inconclusive") == glossary.OUTCOMES["inconclusive"]
    assert glossary.run_label({"status": "succeeded", "outcome": "inconclusive", "kind": "data_quality"}) == "warning"
    assert glossary.run_label({"status": "failed", "outcome": "", "kind": "data_quality"}) == "could not run"


def test_sentences_become_clauses_of_one_without_their_own_stops():
    assert clauses(["Rate 0.31.", "Calibration 0.2. ", "Gap 0.1"]) == "Rate 0.31; Calibration 0.2; Gap 0.1"


def test_more_than_the_limit_says_how_many_more():
    assert clauses([f"r{i}." for i in range(5)]) == "r0; r1; r2 (and 2 more)"
    assert clauses([]) == ""
