"""Reporting clocks of serious incidents: pure date arithmetic, no Django.

The default periods are those of Regulation (EU) 2024/1689 (the EU AI Act), Article 73:
- 73(2): a serious incident is reported immediately after the provider has established a
  causal link (or its reasonable likelihood), and not later than 15 days after it became aware;
- 73(3): a widespread infringement, or a serious incident under Art. 3(49)(b) (a serious and
  irreversible disruption of the management or operation of critical infrastructure): not
  later than 2 days after becoming aware;
- 73(4): the death of a person: not later than 10 days after becoming aware.
Other jurisdictions (or a stricter internal rule) are set in INCIDENT_DEADLINES (settings.py).
The clock counts from `aware_at`, the moment the provider became aware; "immediately" stays
the duty, the deadline is the latest date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CATEGORIES = ("death", "widespread", "other")
EU_BASIS = {"death": "Regulation (EU) 2024/1689, Art. 73(4)", "widespread": "Regulation (EU) 2024/1689, Art. 73(3)",
            "other": "Regulation (EU) 2024/1689, Art. 73(2)"}
UNKNOWN_CATEGORY = "serious_category must be one of: death, widespread, other; not {value!r}."
NO_PERIOD = "INCIDENT_DEADLINES sets no period for {category!r} in {jurisdiction!r} (nor an 'other' period)."


@dataclass(frozen=True)
class Deadline:
    jurisdiction: str
    category: str
    days: int
    legal_basis: str
    starts_at: datetime
    due_at: datetime


def deadlines(*, category: str, aware_at: datetime, table: dict[str, dict[str, int]]) -> list[Deadline]:
    """One deadline per jurisdiction of `table` ({jurisdiction: {category: days}}), earliest first.

    A jurisdiction without a period for the category uses its "other" period: a death is at
    least a serious incident everywhere."""
    if category not in CATEGORIES:
        raise ValueError(UNKNOWN_CATEGORY.format(value=category))
    out = []
    for jurisdiction, periods in sorted(table.items()):
        key = category if category in periods else "other"
        if key not in periods:
            raise ValueError(NO_PERIOD.format(category=category, jurisdiction=jurisdiction))
        days = int(periods[key])
        basis = EU_BASIS[key] if jurisdiction == "eu" else f"INCIDENT_DEADLINES {jurisdiction}:{key}={days}"
        out.append(Deadline(jurisdiction=jurisdiction, category=key, days=days, legal_basis=basis,
                            starts_at=aware_at, due_at=aware_at + timedelta(days=days)))
    return sorted(out, key=lambda d: (d.due_at, d.jurisdiction))


def reminder_times(*, due_at: datetime, starts_at: datetime, hours_before: list[int]) -> list[tuple[int, datetime]]:
    """(hours before, when to send) for each offset, latest offset first; an offset that would
    fall before the clock started (a 2-day period with a 48 h reminder) is sent at the start."""
    return [(h, max(due_at - timedelta(hours=h), starts_at)) for h in sorted(set(hours_before), reverse=True)]
