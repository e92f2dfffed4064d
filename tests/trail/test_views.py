"""The audit-trail page reads as sentences and filters by system, actor, action and date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from governance.registry.services import system_create
from governance.trail.models import AuditLogEntry
from governance.trail.services import system_of, trail_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_systems(personas):
    alice = personas["alice"]
    loans = system_create(actor=alice, name="Loans", slug="loans", purpose="p")
    jobs = system_create(actor=alice, name="Jobs", slug="jobs", purpose="p")
    return loans, jobs


def page(user, query="") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/audit-log/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_each_row_names_the_system_it_speaks_of_inside_the_hashed_payload(two_systems, personas):
    loans, _ = two_systems
    assessment = loans.assessments.select_related("control").first()
    assert system_of(loans) == system_of(assessment) == "loans"
    assert system_of(personas["alice"]) == ""  # a user is about no one system
    entry = trail_append(actor=personas["carla"], action="demo.note", obj=assessment, payload={"n": 1})
    assert entry.payload == {"n": 1, "system": "loans"}


def test_the_page_filters_by_system_actor_action_and_day(two_systems, personas):
    loans, jobs = two_systems
    trail_append(actor=personas["carla"], action="assessment.changed", obj=loans.assessments.first(),
                 payload={"to": "satisfied"})
    trail_append(actor="pipeline:ci", action="gate.decision_changed", obj=jobs, payload={"to": "deny"})
    html = page(personas["aude"], "system=loans")
    assert "assessment.changed" in html and "gate.decision_changed" not in html
    html = page(personas["aude"], "actor=pipeline")
    assert "gate.decision_changed" in html and "assessment.changed" not in html
    html = page(personas["aude"], "action=gate.&system=jobs")
    assert "gate.decision_changed" in html and "system.created" not in html
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert "No entry matches these filters." in page(personas["aude"], f"since={tomorrow}")
    today = timezone.now().date().isoformat()
    assert page(personas["aude"], f"since={today}&until={today}").count("<tr>") == AuditLogEntry.objects.count() + 1


def test_a_row_reads_as_words_not_a_python_dict(two_systems, personas):
    loans, _ = two_systems
    trail_append(actor=personas["carla"], action="assessment.changed", obj=loans.assessments.first(),
                 payload={"from_status": "not_started", "to": "satisfied"})
    html = page(personas["aude"], "action=assessment.")
    assert "Control assessment" in html and "<dt>from status</dt><dd>not_started</dd>" in html
    assert "{&#x27;" not in html and "governance.controlassessment:" not in html.split("<tbody>")[1].split("title=")[0]


def test_a_malformed_date_is_named_and_the_other_filters_still_apply(two_systems, personas):
    html = page(personas["aude"], "since=31/12/2026&system=jobs")
    assert "Not applied: from: Enter a valid date." in html
    assert "system.created" in html


def test_seals_lists_and_empty_values_read_as_words(two_systems, personas):
    loans, _ = two_systems
    trail_append(actor=personas["carla"], action="demo.words", obj=loans, seal=[loans],
                 payload={"controls": ["MEASURE 2.4", "A.6.2.6"], "rollback_to": None})
    html = page(personas["aude"], "action=demo.")
    assert "<dt>sealed</dt><dd>1 record, content hashed (checked by Verify)</dd>" in html
    assert "<dt>controls</dt><dd>MEASURE 2.4; A.6.2.6</dd>" in html and "<dt>rollback to</dt><dd>—</dd>" in html
