"""Incidents inside: opened by hand, by a drift breach or a failed audit of a version allowed in
production (once per run), walked through to closure on allowed steps only, every step on the
timeline and the trail; a serious incident's clock and its reminders, time mocked, never slept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audits.drift.services import drift_breach_handle
from audits.runs.models import AuditRun
from audits.runs.signals import audit_finished
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.incidents.models import DeadlineReminder, Incident, IncidentEvent
from governance.incidents.selectors import regulator_facts
from governance.incidents.services import (
    deadline_mark_reported,
    incident_open,
    incident_set_serious,
    incident_transition,
    incident_update,
    reminders_send,
)
from governance.trail.models import AuditLogEntry
from tests.approval_fixtures import *  # noqa: F401,F403
from tests.approval_fixtures import approve, make_run, make_version, medium, passing_run

pytestmark = pytest.mark.django_db
BREACH = {"breach": True, "breaches": ["PSI on credit_amount 0.41 > 0.25."]}


def released(personas, tier="medium"):
    """A version allowed in production (approved there), on a system of `tier`."""
    from tests.approval_fixtures import make_system

    system = make_system(personas["alice"], slug="triage", tier=tier)
    version = make_version(system, "1.0.0")
    passing_run(version)
    approve(version, "production", personas)
    return system, version


# --- Automatic incidents ------------------------------------------------------------------------

def test_a_drift_breach_of_a_production_version_opens_an_incident_once(personas, django_capture_on_commit_callbacks):
    system, version = released(personas)
    run = make_run(version, kind="drift", outcome="fail")
    with django_capture_on_commit_callbacks(execute=True):
        drift_breach_handle(run=run, review=BREACH)
    incident = Incident.objects.get()
    assert (incident.source, incident.audit_run_id, incident.status) == ("drift_breach", run.pk, "open")
    assert incident.title == "Drift breach on 1.0.0 in production"
    assert list(incident.versions.all()) == [version] and incident.environments == ["production"]
    assert incident.owner == system.owner and not incident.serious  # medium risk: a person decides
    opened = AuditLogEntry.objects.get(action="incident.opened", object_id=str(incident.pk))
    # After the approvals' revocation in the same transaction: approval requests lock before the trail head.
    assert AuditLogEntry.objects.get(action="approval.revoked").seq < opened.seq
    # The same run again (a redelivery), and the same run's audit_finished: still one incident.
    drift_breach_handle(run=run, review=BREACH)
    audit_finished.send(sender=AuditRun, run=run, outcome="fail", version=version)
    assert Incident.objects.count() == 1


def test_a_drift_breach_on_a_high_risk_system_opens_a_serious_incident_with_its_clock(personas):
    _, version = released(personas, tier="high")
    drift_breach_handle(run=make_run(version, kind="drift", outcome="fail"), review=BREACH)
    incident = Incident.objects.get()
    assert incident.serious and incident.serious_category == "other"
    deadline = incident.deadlines.get()
    assert (deadline.jurisdiction, deadline.days, deadline.legal_basis) == (
        "eu", 15, "Regulation (EU) 2024/1689, Art. 73(2)")
    assert deadline.due_at == incident.aware_at + timedelta(days=15)
    assert sorted(deadline.reminders.values_list("hours_before", flat=True)) == [24, 48]


def test_a_breach_of_a_version_never_allowed_in_production_opens_nothing(personas):
    system = medium(personas)
    version = make_version(system)
    drift_breach_handle(run=make_run(version, kind="drift", outcome="fail"), review=BREACH)
    assert not Incident.objects.exists()


def test_a_failed_audit_of_a_production_version_opens_an_incident(personas):
    _, version = released(personas)
    run = make_run(version, kind="fairness", outcome="fail")
    audit_finished.send(sender=AuditRun, run=run, outcome="pass", version=version)
    assert not Incident.objects.exists()
    audit_finished.send(sender=AuditRun, run=run, outcome="fail", version=version)
    incident = Incident.objects.get()
    assert (incident.source, incident.title) == ("audit", "Failed fairness audit on 1.0.0 in production")


# --- By hand, through to closure ------------------------------------------------------------------

def manual(personas, system, **kwargs):
    return incident_open(actor=personas["alice"], system=system, title="Wrong scores for one branch",
                         description="Applicants of branch 12 were scored with stale features.", **kwargs)


def test_an_incident_walks_to_closure_on_allowed_steps_only_each_on_the_timeline(personas):
    system = medium(personas)
    incident = manual(personas, system, severity="high")
    with pytest.raises(ConflictError) as refused:
        incident_transition(actor=personas["bob"], incident=incident, to="closed")
    assert refused.value.message == "status: an incident that is open cannot become closed; next: investigating."
    incident_transition(actor=personas["bob"], incident=incident, to="investigating")
    incident_transition(actor=personas["bob"], incident=incident, to="mitigated", note="features re-synced")
    with pytest.raises(ApplicationError) as missing:
        incident_transition(actor=personas["carla"], incident=incident, to="closed")
    assert missing.value.extra["field"] == "root_cause"
    incident_update(actor=personas["carla"], incident=incident, root_cause="A cache kept last month's features.",
                    corrective_action="rollback")
    incident = incident_transition(actor=personas["carla"], incident=incident, to="closed")
    assert incident.status == "closed" and incident.closed_at is not None
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == ["opened", "status", "status", "root_cause", "corrective_action", "status"]
    assert AuditLogEntry.objects.filter(object_id=str(incident.pk), action__startswith="incident.").count() == 6
    with pytest.raises(ConflictError):
        incident_transition(actor=personas["carla"], incident=incident, to="investigating")


def test_a_timeline_event_is_never_edited(personas):
    incident = manual(personas, medium(personas))
    event = incident.events.get()
    event.text = "rewritten"
    with pytest.raises(ApplicationError):
        event.save()


@pytest.mark.parametrize("kwargs, field", [
    ({"severity": "apocalyptic"}, "severity"),
    ({"environments": ["moon"]}, "environments"),
    ({"serious": True}, "serious_category"),
    ({"serious": True, "serious_category": "bad"}, "serious_category"),
])
def test_bad_input_names_its_field(personas, kwargs, field):
    with pytest.raises(ApplicationError) as refused:
        manual(personas, medium(personas), **kwargs)
    assert refused.value.extra["field"] == field
    assert not Incident.objects.exists()


@pytest.mark.parametrize("persona, may", [("alice", True), ("bob", True), ("carla", True), ("root", True),
                                          ("oscar", False), ("aude", False), ("sam", False), ("erik", False)])
def test_who_may_open_and_manage_an_incident(personas, persona, may):
    system = medium(personas)
    if may:
        incident = incident_open(actor=personas[persona], system=system, title="t", description="d")
        incident_transition(actor=personas[persona], incident=incident, to="investigating")
    else:
        with pytest.raises(PermissionDeniedError):
            incident_open(actor=personas[persona], system=system, title="t", description="d")


# --- The clock -------------------------------------------------------------------------------------

def test_the_article_73_periods_follow_the_category(personas):
    system = medium(personas)
    aware = timezone.now() - timedelta(hours=1)
    for category, days in (("other", 15), ("death", 10), ("widespread", 2)):
        incident = manual(personas, system, serious=True, serious_category=category, aware_at=aware)
        assert incident.deadlines.get().due_at == aware + timedelta(days=days), category


def test_deadlines_are_configurable_per_jurisdiction(personas, settings):
    settings.INCIDENT_DEADLINES = {"eu": {"other": 15, "death": 10, "widespread": 2}, "uk": {"other": 30}}
    incident = manual(personas, medium(personas), serious=True, serious_category="death")
    rows = {d.jurisdiction: (d.days, d.legal_basis) for d in incident.deadlines.all()}
    assert rows == {"eu": (10, "Regulation (EU) 2024/1689, Art. 73(4)"), "uk": (30, "INCIDENT_DEADLINES uk:other=30")}


def test_the_clock_reminds_the_owner_and_the_compliance_officer_before_each_deadline_once(
        personas, django_capture_on_commit_callbacks):
    for name in ("alice", "carla", "bob"):
        personas[name].email = f"{name}@example.org"
        personas[name].save()
    aware = timezone.now()
    incident = manual(personas, medium(personas), serious=True, serious_category="other", aware_at=aware)
    due = aware + timedelta(days=15)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send(now=due - timedelta(hours=49)) == 0  # not yet
        assert reminders_send(now=due - timedelta(hours=47)) == 1  # the 48 h reminder
        assert reminders_send(now=due - timedelta(hours=47)) == 0  # once
        assert reminders_send(now=due - timedelta(hours=23)) == 1  # the 24 h reminder
    assert len(mail.outbox) == 2
    assert sorted(mail.outbox[0].to) == ["alice@example.org", "carla@example.org"]  # owner and compliance
    assert mail.outbox[0].subject.startswith(f"Report {incident.reference} to the eu authority by ")
    assert "(47 h left)" in mail.outbox[0].subject and "(23 h left)" in mail.outbox[1].subject
    assert incident.events.filter(kind="reminder").count() == 2


def test_a_reminder_claimed_by_another_sender_is_not_sent_again(personas, monkeypatch):
    from governance.incidents import services

    incident = manual(personas, medium(personas), serious=True, serious_category="widespread")
    deadline = incident.deadlines.get()
    real_event = services._event

    def concurrent_sender_claims_the_rest(incident, **kwargs):
        # While this sender records its first reminder, another one claims every other reminder:
        # the conditional UPDATE then finds them taken, and this sender skips them.
        DeadlineReminder.objects.filter(deadline=deadline, sent_at__isnull=True).update(sent_at=timezone.now())
        return real_event(incident, **kwargs)

    monkeypatch.setattr(services, "_event", concurrent_sender_claims_the_rest)
    assert reminders_send(now=deadline.due_at) == 1  # both were due; the other sender took the second
    assert not DeadlineReminder.objects.filter(deadline=deadline, sent_at__isnull=True).exists()


def test_a_deadline_met_stops_its_reminders(personas):
    incident = manual(personas, medium(personas), serious=True, serious_category="other")
    deadline = incident.deadlines.get()
    deadline_mark_reported(actor=personas["carla"], deadline=deadline)
    assert reminders_send(now=deadline.due_at) == 0
    with pytest.raises(ConflictError):
        deadline_mark_reported(actor=personas["carla"], deadline=deadline)


def test_a_short_period_sends_its_earlier_reminder_at_the_start(personas):
    aware = timezone.now()
    incident = manual(personas, medium(personas), serious=True, serious_category="widespread", aware_at=aware)
    send = dict(incident.deadlines.get().reminders.values_list("hours_before", "send_at"))
    assert send == {48: aware, 24: aware + timedelta(days=1)}  # a 2-day period: 48 h before is its start


def test_not_serious_withdraws_the_deadlines_with_a_reason(personas):
    incident = manual(personas, medium(personas), serious=True, serious_category="other")
    with pytest.raises(ApplicationError) as refused:
        incident_set_serious(actor=personas["carla"], incident=incident, serious=False)
    assert refused.value.extra["field"] == "reason"
    incident_set_serious(actor=personas["carla"], incident=incident, serious=False, reason="No person was harmed.")
    incident.refresh_from_db()
    assert not incident.serious and not incident.deadlines.exists()


def test_the_regulator_export_has_the_facts_the_form_asks_for(personas, settings):
    settings.REPORT_ORGANISATION, settings.REPORT_CONTACT = "Demo Bank", "ai-incidents@demo.example"
    system = medium(personas)
    version = make_version(system)
    occurred = timezone.now() - timedelta(days=2)
    incident = manual(personas, system, versions=[version], environments=["production"], serious=True,
                      serious_category="other", occurred_at=occurred, aware_at=occurred + timedelta(days=1))
    incident_update(actor=personas["carla"], incident=incident, corrective_action="retraining",
                    corrective_notes="Retrained on current features.")
    facts = regulator_facts(incident=Incident.objects.get(pk=incident.pk))
    assert facts["provider"] == {"name": "Demo Bank", "contact": "ai-incidents@demo.example"}
    assert facts["system"]["slug"] == "triage" and facts["versions"][0]["version"] == "1.0.0"
    assert facts["dates"]["occurred_at"] == occurred and facts["dates"]["aware_at"] == occurred + timedelta(days=1)
    assert facts["deadlines"][0]["due_at"] == occurred + timedelta(days=16)
    assert facts["corrective_action"]["action"] == "retraining"
    assert facts["incident"]["category_label"] == "Another serious incident (Art. 73(2))"


def test_beat_sends_the_reminders_every_quarter_hour_at_the_time_it_runs(personas, monkeypatch):
    from django_celery_beat.models import PeriodicTask

    from governance.incidents.tasks import incidents_remind

    task = PeriodicTask.objects.get(task="governance.incidents_remind")
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 15, "minutes")
    incident = manual(personas, medium(personas), serious=True, serious_category="other")
    due = incident.deadlines.get().due_at
    monkeypatch.setattr("django.utils.timezone.now", lambda: due - timedelta(hours=30))
    assert incidents_remind() == 1  # the 48 h reminder; the 24 h one is not due yet
