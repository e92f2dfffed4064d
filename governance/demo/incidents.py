"""The demo's incidents and appeals: an applicant appeals a refusal through the public API (as
anyone outside would, over HTTP, with no account), the compliance officer answers it; and the
drift breach of the release story shows the incident it opened and its reporting clock."""

from __future__ import annotations

import json
import time
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model

from governance.incidents.models import Incident, IncidentSource, PublicReport
from governance.incidents.services import public_report_answer

SYSTEM = "credit-scoring"
APPEAL = {"kind": "appeal", "decision_reference": "LOAN-2026-0412", "version": "1.2.0",
          "sensitive_attribute": "sex", "sensitive_group": "female",
          "text": "My application for a 4,000 EUR loan over 24 months was refused. My income covers the "
                  "instalments three times over and I have never missed a payment. Please look at it again."}
ANSWER = ("We re-assessed your application by hand with your current income: it is approved, and the automated "
          "decision is overturned. We are sorry for the delay.")


def _json(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                     method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the story's own loopback server
        return json.load(response)


def appeal_form(url: str) -> tuple[dict, float] | None:
    """Fetch the appeal form's stamp now (None when the demo's appeal was sent already); the
    appeal is sent later, once a person could have written it (PUBLIC_REPORT_MIN_SECONDS)."""
    if PublicReport.objects.filter(system__slug=SYSTEM, kind="appeal").exists():
        return None
    return _json(f"{url}/api/v1/public/systems/{SYSTEM}/reports/"), time.monotonic()


def appeal_send(url: str, form: tuple[dict, float] | None, *, log) -> None:
    if form is None:
        return
    served, at = form
    time.sleep(max(0.0, settings.PUBLIC_REPORT_MIN_SECONDS + 0.5 - (time.monotonic() - at)))
    sent = _json(f"{url}/api/v1/public/systems/{SYSTEM}/reports/", {**APPEAL, "stamp": served["stamp"]})
    log(f"  an applicant appealed a refusal through /report/{SYSTEM}/ (no account): reference {sent['reference']}")
    report = PublicReport.objects.filter(system__slug=SYSTEM, kind="appeal").latest("created_at")
    public_report_answer(actor=get_user_model().objects.get(username="carla"), report=report, answer=ANSWER,
                         outcome="overturned")
    log("  carla (compliance officer) answered it: decision overturned; the applicant reads it with the reference")


def breach_incident_log(version, *, log) -> None:
    incident = Incident.objects.filter(versions=version, source=IncidentSource.DRIFT).prefetch_related("deadlines").first()
    if incident is None:
        log(f"  no incident opened from the breach of {version.version}")
        return
    log(f"  {incident.reference} opened from the breach: {incident.title}"
        + (f"; serious ({incident.get_serious_category_display()})" if incident.serious else ""))
    for d in incident.deadlines.all():
        log(f"    report to the {d.jurisdiction} authority by {d.due_at:%Y-%m-%d %H:%M} UTC ({d.legal_basis}); "
            f"reminders {', '.join(f'{r.hours_before} h' for r in d.reminders.all())} before")
