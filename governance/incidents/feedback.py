"""Feedback as a metric (MEASURE 3.3): appeal rate and overturn rate per version and per
sensitive group, each with its exact (Clopper-Pearson) 95% interval. Pure: no Django.

- appeal rate = appeals / decisions the version made, where the decisions are the rows of the
  production batches posted for it (the only count of decisions the platform holds); a version
  with no production batch has its appeals counted and no rate.
- overturn rate = appeals overturned / appeals decided (upheld or overturned).
Per sensitive group the denominator of an appeal rate is not known (a batch does not say who
appealed), so a group has its appeal count, its share of all appeals and its overturn rate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from audits.kinds.intervals import clopper_pearson

NO_GROUP = "(not given)"


@dataclass(frozen=True)
class Appeal:
    version: str  # "" when the sender named none
    attribute: str
    group: str
    outcome: str  # "upheld", "overturned" or "" (not decided yet)


def _rate(k: int, n: int | None) -> dict:
    if not n:
        return {"k": k, "n": n or 0, "rate": None, "ci": None}
    return {"k": k, "n": n, "rate": k / n, "ci": clopper_pearson(k, n)}


def _tally(appeals: list[Appeal]) -> dict:
    decided = [a for a in appeals if a.outcome in ("upheld", "overturned")]
    overturned = sum(1 for a in decided if a.outcome == "overturned")
    return {"appeals": len(appeals), "decided": len(decided), "overturned": overturned,
            "overturn": _rate(overturned, len(decided))}


def appeal_figures(appeals: list[Appeal], *, decisions: dict[str, int]) -> dict:
    """{"total", "by_version": [...], "by_group": [...]} (see the module docstring).

    `decisions`: {version label: decisions made (production batch rows)}; a version in it with
    no appeal still gets its row (0 appeals of n decisions is a rate, and its interval says how
    much n tells)."""
    by_version: dict[str, list[Appeal]] = defaultdict(list)
    by_group: dict[tuple[str, str], list[Appeal]] = defaultdict(list)
    for a in appeals:
        by_version[a.version].append(a)
        if a.attribute:
            by_group[(a.attribute, a.group or NO_GROUP)].append(a)
    versions = []
    for label in sorted(set(by_version) | set(decisions), key=lambda v: (v == "", v)):
        rows = by_version.get(label, [])
        versions.append({"version": label or NO_GROUP, **_tally(rows),
                         "appeal": _rate(len(rows), decisions.get(label)) if label else _rate(len(rows), None)})
    groups = [{"attribute": attr, "group": group, **_tally(rows), "share": _rate(len(rows), len(appeals))}
              for (attr, group), rows in sorted(by_group.items())]
    return {"total": _tally(appeals), "by_version": versions, "by_group": groups}
