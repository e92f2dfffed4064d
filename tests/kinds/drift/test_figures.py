"""Tests for audits/kinds/drift/figures.py: captions say what the review decided."""

from audits.kinds.drift.figures import _drift_caption


def _entry(**kwargs):
    return {"psi": 0.31, "psi_band": "major", "ks_statistic": 0.2, "p_value": 1e-4, **kwargs}


def test_a_decided_feature_shows_its_adjusted_p_value_and_verdict():
    caption = _drift_caption(_entry(p_value_adjusted=9e-4, drifted=True, status="tested"), "age")
    assert caption == "age: PSI 0.310 (major); KS 0.200; adjusted p 0.0009 - drifted."


def test_a_feature_on_too_small_a_batch_shows_its_raw_p_value_and_says_it_was_not_decided():
    caption = _drift_caption(_entry(p_value_adjusted=None, drifted=False, status="insufficient_data"), "age")
    assert caption == "age: PSI 0.310 (major); KS 0.200; p 0.0001 - insufficient data, not decided."
