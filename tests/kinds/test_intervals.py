"""The interval robustness and privacy decide on (audits/kinds/intervals.py): Clopper-Pearson,
checked against scipy's documented example and its closed forms, with exact coverage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom

from audits.kinds.intervals import BAD_COUNTS, clopper_pearson, decide


def test_it_reproduces_the_example_in_scipys_binomtest_documentation():
    # scipy.stats.binomtest docstring, proportion_ci: k=7, n=50 -> (0.05819170033997342, 0.26739600249700846).
    assert clopper_pearson(7, 50) == pytest.approx([0.05819170033997342, 0.26739600249700846], rel=1e-12)


@pytest.mark.parametrize("n", [1, 20, 100])
def test_at_zero_and_at_n_it_reaches_the_boundary_with_the_closed_form_other_end(n):
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n) (Clopper & Pearson 1934).
    assert clopper_pearson(0, n) == pytest.approx([0.0, 1 - 0.025 ** (1 / n)])
    assert clopper_pearson(n, n) == pytest.approx([0.025 ** (1 / n), 1.0])


def test_twenty_of_twenty_still_has_a_lower_bound_of_0_83():
    assert clopper_pearson(20, 20)[0] == pytest.approx(0.8316, abs=1e-4)


@given(n=st.integers(min_value=1, max_value=5000), data=st.data())
def test_every_interval_contains_its_estimate_and_stays_within_zero_and_one(n, data):
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = clopper_pearson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


@pytest.mark.parametrize("n", [10, 50, 200])
def test_its_coverage_is_at_least_95_percent_for_every_true_proportion(n):
    """Exact coverage, not simulated: sum of P(K = k) over the k whose interval holds p."""
    intervals = np.array([clopper_pearson(k, n) for k in range(n + 1)])
    for p in np.linspace(0.001, 0.999, 181):
        covered = (intervals[:, 0] <= p) & (p <= intervals[:, 1])
        assert binom.pmf(np.arange(n + 1), n, p)[covered].sum() >= 0.95 - 1e-9


def test_no_rows_give_no_interval_and_bad_counts_are_refused():
    assert clopper_pearson(0, 0) is None
    with pytest.raises(ValueError) as info:
        clopper_pearson(5, 3)
    assert str(info.value) == BAD_COUNTS.format(k=5, n=3)


@pytest.mark.parametrize("ci, operator, outcome", [
    ([0.62, 0.70], ">=", "pass"), ([0.50, 0.59], ">=", "fail"), ([0.55, 0.65], ">=", "inconclusive"),
    ([0.60, 0.70], ">=", "pass"), ([0.01, 0.04], "<=", "pass"), ([0.06, 0.10], "<=", "fail"),
    ([0.02, 0.08], "<=", "inconclusive"), (None, "<=", "inconclusive"),
])
def test_a_check_passes_or_fails_only_when_the_whole_interval_is_on_one_side(ci, operator, outcome):
    threshold = 0.6 if operator == ">=" else 0.05
    assert decide(ci, operator, threshold) == outcome
