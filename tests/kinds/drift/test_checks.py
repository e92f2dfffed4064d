"""Tests for audits/kinds/drift/checks.py: bounds against published values, the rules
by hand-computed cases, their false-breach rates by seeded simulation, and (hypothesis)
that every bound sits on the right side of its estimate and inside its range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.kinds.drift.checks import (
    fairness_change,
    fairness_testable_count,
    mover_lower,
    performance_decay,
    wilson_bounds,
)


def test_wilson_bounds_match_newcombes_published_example():
    # R. G. Newcombe, Statistics in Medicine 17 (1998) 857-872, example 81/263: Wilson 95%
    # interval 0.2553 to 0.3662 (one-sided 0.025 on each side).
    low, high = wilson_bounds(81, 263, alpha=0.025)
    assert (round(float(low), 4), round(float(high), 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(("a", "m", "b", "n", "expected"), [
    (56, 70, 48, 80, (0.0524, 0.3339)),
    (9, 10, 3, 10, (0.1705, 0.8090)),
])
def test_two_proportion_bounds_match_newcombes_hybrid_score_interval(a, m, b, n, expected):
    # R. G. Newcombe, Statistics in Medicine 17 (1998) 873-890, Table II, method 10.
    lower = mover_lower([(+1, a, m), (-1, b, n)], alpha=0.025)
    upper = -mover_lower([(+1, b, n), (-1, a, m)], alpha=0.025)
    assert (round(lower, 4), round(upper, 4)) == expected


def test_performance_decay_needs_the_drop_beyond_both_sides_noise():
    # 0.80 on 300 audited rows against 0.70 on 100 batch rows: a 0.10 point drop, but not
    # beyond noise at level 0.01 (Newcombe's lower bound is below 0.05).
    small = performance_decay(correct=70, n=100, reference_correct=240, reference_n=300,
                              drop_max=0.05, level=0.01, min_rows=50)
    assert small["drop"] == pytest.approx(0.10) and small["breach"] is False
    assert small["drop_lower_bound"] == pytest.approx(
        mover_lower([(+1, 240, 300), (-1, 70, 100)], alpha=0.01))
    big = performance_decay(correct=5_600, n=8_000, reference_correct=2_400, reference_n=3_000,
                            drop_max=0.05, level=0.01, min_rows=50)
    assert big["breach"] is True and big["drop_lower_bound"] > 0.05
    few = performance_decay(correct=10, n=40, reference_correct=240, reference_n=300,
                            drop_max=0.05, level=0.01, min_rows=50)
    assert few["status"] == "insufficient_data" and few["breach"] is False


def _cells(n, positives, selected_positives, selected_negatives):
    return {"tp": selected_positives, "fn": positives - selected_positives,
            "fp": selected_negatives, "tn": n - positives - selected_negatives}


def test_the_issue_case_thirty_women_from_0_032_to_0_133_is_not_a_breach():
    # Audited on 300 rows (90 women), batch of 100 (30 women): selection rates
    # audited 0.700 (women) / 0.732 (men), batch 0.600 / 0.733. The point estimates
    # rose 0.032 -> 0.133, more than 0.05, but far within the noise of 30 women.
    audited = {"sex": {"female": _cells(90, 60, 50, 13), "male": _cells(210, 150, 127, 27)}}
    current = {"sex": {"female": _cells(30, 20, 14, 4), "male": _cells(70, 50, 43, 8)}}
    result = fairness_change(audited=audited, current=current, metrics=["demographic_parity_difference"],
                             max_increase=0.05, level=0.01 / 13, min_group_count=30)
    (check,) = result["metrics"]
    assert check["audited"] == pytest.approx(154 / 210 - 63 / 90)
    assert check["current"] == pytest.approx(51 / 70 - 18 / 30)
    assert check["change"] > 0.05 and check["breach"] is False and result["breach"] is False


def test_groups_under_the_minimum_are_left_out_and_two_are_needed():
    audited = {"age": {"young": _cells(20, 10, 5, 5), "old": _cells(200, 100, 50, 50)}}
    current = {"age": {"young": _cells(25, 10, 10, 15), "old": _cells(200, 100, 50, 50)}}
    result = fairness_change(audited=audited, current=current, metrics=["demographic_parity_difference"],
                             max_increase=0.05, level=0.01, min_group_count=30)
    (check,) = result["metrics"]
    assert check["status"] == "insufficient_data" and check["groups_left_out"] == ["young"]
    assert check["breach"] is False and check["change"] is None
    assert fairness_testable_count(audited=audited, current=current,
                                   metrics=["demographic_parity_difference"], min_group_count=30) == 0
    # Equalized odds needs 30 positives and 30 negatives per group on each side: 25 negatives
    # are too few, so only demographic parity can be tested.
    audited["age"]["young"] = _cells(100, 75, 35, 15)
    current["age"]["young"] = _cells(100, 75, 35, 15)
    assert fairness_testable_count(audited=audited, current=current,
                                   metrics=["demographic_parity_difference", "equalized_odds_difference"],
                                   min_group_count=30) == 1


def test_a_real_rise_on_large_groups_breaches_and_the_bound_is_below_the_change():
    audited = {"sex": {"female": _cells(3_000, 1_500, 900, 600), "male": _cells(7_000, 3_500, 2_100, 1_400)}}
    current = {"sex": {"female": _cells(3_000, 1_500, 600, 300), "male": _cells(7_000, 3_500, 2_100, 1_400)}}
    result = fairness_change(audited=audited, current=current,
                             metrics=["demographic_parity_difference", "equalized_odds_difference"],
                             max_increase=0.05, level=0.01, min_group_count=30)
    dpd, eod = result["metrics"]
    assert dpd["change"] == pytest.approx(0.2) and eod["change"] == pytest.approx(0.2)
    for check in (dpd, eod):
        assert check["breach"] is True and 0.05 < check["change_lower_bound"] < check["change"]


def _simulated_cells(rng, n, share, rate):
    groups = rng.multinomial(n, share)
    out = {}
    for g, (size, p) in enumerate(zip(groups, rate)):
        positives = rng.binomial(size, 0.6)
        selected_pos = rng.binomial(positives, p)
        selected_neg = rng.binomial(size - positives, p)
        out[f"g{g}"] = _cells(int(size), int(positives), int(selected_pos), int(selected_neg))
    return out


@pytest.mark.parametrize("k", [2, 5])
def test_at_exactly_the_allowed_rise_the_check_breaches_at_most_its_level(k):
    # True selection rates: audited gap 0.10, batch gap 0.15 (= audited + max_increase):
    # the hardest case under "no breach". 400 simulated checks at level 0.05 (a loose level,
    # so that the rate is measurable) must breach at most 5% of the time, plus binomial slack.
    rng = np.random.default_rng(k)
    share = np.full(k, 1 / k)
    audited_rates = np.linspace(0.5, 0.6, k)
    batch_rates = np.linspace(0.45, 0.6, k)
    breaches = 0
    for _ in range(400):
        result = fairness_change(
            audited={"s": _simulated_cells(rng, 150 * k, share, audited_rates)},
            current={"s": _simulated_cells(rng, 100 * k, share, batch_rates)},
            metrics=["demographic_parity_difference"], max_increase=0.05, level=0.05, min_group_count=30)
        breaches += result["breach"]
    assert breaches <= 400 * 0.05 + 3 * np.sqrt(400 * 0.05 * 0.95)


counts = st.integers(min_value=1, max_value=2_000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n)))
levels = st.floats(min_value=1e-6, max_value=0.5)


@settings(max_examples=200, deadline=None)
@given(side=counts, alpha=levels)
def test_every_wilson_bound_contains_its_estimate_and_stays_in_zero_one(side, alpha):
    k, n = side
    low, high = wilson_bounds(k, n, alpha=alpha)
    assert 0.0 <= float(low) <= k / n <= float(high) <= 1.0


@settings(max_examples=200, deadline=None)
@given(reference=counts, batch=counts, alpha=levels)
def test_the_accuracy_drop_bound_never_exceeds_the_drop_and_stays_in_range(reference, batch, alpha):
    (rk, rn), (bk, bn) = reference, batch
    result = performance_decay(correct=bk, n=bn, reference_correct=rk, reference_n=rn, drop_max=0.05,
                               level=alpha, min_rows=1)
    assert -1.0 <= result["drop_lower_bound"] <= result["drop"] + 1e-12 <= 1.0 + 1e-12


group = st.integers(min_value=30, max_value=400).flatmap(lambda n: st.tuples(
    st.just(n), st.integers(min_value=0, max_value=n)).flatmap(lambda t: st.tuples(
        st.just(t[0]), st.just(t[1]), st.integers(min_value=0, max_value=t[1]),
        st.integers(min_value=0, max_value=t[0] - t[1]))))


@settings(max_examples=100, deadline=None)
@given(before=st.lists(group, min_size=2, max_size=4), after=st.lists(group, min_size=2, max_size=4),
       alpha=levels)
def test_the_fairness_change_bound_never_exceeds_the_change_and_stays_in_range(before, after, alpha):
    k = min(len(before), len(after))
    audited = {"s": {f"g{i}": _cells(*before[i]) for i in range(k)}}
    current = {"s": {f"g{i}": _cells(*after[i]) for i in range(k)}}
    result = fairness_change(audited=audited, current=current, max_increase=0.05, level=alpha,
                             metrics=["demographic_parity_difference"], min_group_count=1)
    (check,) = result["metrics"]
    assert 0.0 <= check["audited"] <= 1.0 and 0.0 <= check["current"] <= 1.0
    assert -2.0 <= check["change_lower_bound"] <= check["change"] + 1e-12


def test_the_vectorised_fairness_bound_is_the_mover_bound_of_each_contrast():
    # Two groups: the bound is the best batch ordered pair against the worst audited one,
    # each contrast b[g] - b[h] - (a[i] - a[j]) a four-term MOVER bound at level / 2.
    audited = {"s": {"f": _cells(90, 60, 50, 13), "m": _cells(210, 150, 127, 27)}}
    current = {"s": {"f": _cells(120, 80, 30, 10), "m": _cells(300, 200, 180, 40)}}
    level = 0.01
    (check,) = fairness_change(audited=audited, current=current, metrics=["demographic_parity_difference"],
                               max_increase=0.05, level=level, min_group_count=30)["metrics"]
    sel = {side: {g: (c["tp"] + c["fp"], sum(c.values())) for g, c in cells["s"].items()}
           for side, cells in (("a", audited), ("b", current))}

    def contrast(g, h, i, j):
        return mover_lower([(+1, *sel["b"][g]), (-1, *sel["b"][h]), (-1, *sel["a"][i]), (+1, *sel["a"][j])],
                           alpha=level / 2)

    expected = max(min(contrast(g, h, i, j) for i, j in (("f", "m"), ("m", "f")))
                   for g, h in (("f", "m"), ("m", "f")))
    assert check["change_lower_bound"] == pytest.approx(expected, abs=1e-12)
