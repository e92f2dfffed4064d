"""Confidence intervals for the proportions the security audits decide on, and the rule that
decides a check on one. Pure: no Django, so probes and runners share it.

A robust accuracy (rows still classified correctly under attack, out of the rows attacked)
and an attack's true positive rate (members it finds, out of the members it is scored on)
are binomial proportions. We use the Clopper-Pearson interval (C. J. Clopper and
E. S. Pearson, "The use of confidence or fiducial limits illustrated in the case of the
binomial", Biometrika 26(4):404-413, 1934): it inverts two exact binomial tests, so its
coverage is at least the nominal level for every n and every true proportion (Newcombe,
Statistics in Medicine 17:857-872, 1998, compares it with six others: the only one never
below nominal), it always contains the estimate k/n, and it reaches 0 and 1 (at k = 0 and
k = n). It is what scipy.stats.binomtest(...).proportion_ci(method="exact") computes.

A check is decided on the interval, as the fairness checks are: it passes when the whole
interval meets the limit, fails when the whole interval misses it, and is inconclusive when
the interval straddles it. Below the policy's minimum sample it is "insufficient data" and
neither passes nor fails, whatever the interval says: 20 of 20 rows robust gives a lower
bound of 0.83, yet 20 rows say little about a model's robustness in use.
"""

from __future__ import annotations

from scipy.stats import beta

CONFIDENCE = 0.95
BAD_COUNTS = "successes must be a whole number between 0 and n, and n at least 0; got {k!r} of {n!r}."


def clopper_pearson(successes: int, n: int, *, confidence: float = CONFIDENCE) -> list[float] | None:
    """[low, high], the exact two-sided interval for a proportion; None when n is 0.

    low = Beta(alpha/2; k, n-k+1) quantile (0 when k = 0), high = Beta(1-alpha/2; k+1, n-k)
    quantile (1 when k = n), alpha = 1 - confidence.
    """
    if isinstance(successes, bool) or isinstance(n, bool) or int(successes) != successes or int(n) != n \
            or not 0 <= successes <= n:
        raise ValueError(BAD_COUNTS.format(k=successes, n=n))
    k, n = int(successes), int(n)
    if n == 0:
        return None
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    # The quantiles are exact up to float rounding; keep the estimate inside, as promised.
    return [min(low, k / n), max(high, k / n)]


def decide(ci: list[float] | None, operator: str, threshold: float) -> str:
    """pass / fail / inconclusive for an interval against a limit ("<=" or ">=")."""
    if ci is None:
        return "inconclusive"
    low, high = ci
    if operator == "<=":
        return "pass" if high <= threshold else "fail" if low > threshold else "inconclusive"
    return "pass" if low >= threshold else "fail" if high < threshold else "inconclusive"
