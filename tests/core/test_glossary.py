"""The glossary's sentence helpers read as one sentence."""

from governance.core.glossary import clauses


def test_sentences_become_clauses_of_one_without_their_own_stops():
    assert clauses(["Rate 0.31.", "Calibration 0.2. ", "Gap 0.1"]) == "Rate 0.31; Calibration 0.2; Gap 0.1"


def test_more_than_the_limit_says_how_many_more():
    assert clauses([f"r{i}." for i in range(5)]) == "r0; r1; r2 (and 2 more)"
    assert clauses([]) == ""
