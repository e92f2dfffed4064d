"""The reporting clock, pure: Article 73's periods by category, per jurisdiction, and the reminder times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from governance.incidents.clocks import UNKNOWN_CATEGORY, deadlines, reminder_times

AWARE = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
EU = {"eu": {"other": 15, "death": 10, "widespread": 2}}


@pytest.mark.parametrize("category, due, basis", [
    ("other", datetime(2026, 3, 17, 9, 30, tzinfo=timezone.utc), "Art. 73(2)"),
    ("death", datetime(2026, 3, 12, 9, 30, tzinfo=timezone.utc), "Art. 73(4)"),
    ("widespread", datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc), "Art. 73(3)"),
])
def test_the_eu_periods(category, due, basis):
    [d] = deadlines(category=category, aware_at=AWARE, table=EU)
    assert d.due_at == due and d.legal_basis.endswith(basis)


def test_a_jurisdiction_without_the_category_uses_its_other_period_earliest_first():
    found = deadlines(category="death", aware_at=AWARE, table={**EU, "uk": {"other": 3}})
    assert [(d.jurisdiction, d.days) for d in found] == [("uk", 3), ("eu", 10)]


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="serious_category must be one of"):
        deadlines(category="minor", aware_at=AWARE, table=EU)
    assert "minor" in UNKNOWN_CATEGORY.format(value="minor")


def test_reminders_fall_before_the_deadline_never_before_the_start():
    due = AWARE + timedelta(days=2)
    assert reminder_times(due_at=due, starts_at=AWARE, hours_before=[24, 72, 24]) == [
        (72, AWARE), (24, AWARE + timedelta(days=1))]
