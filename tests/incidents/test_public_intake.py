"""An outsider's report or appeal: it arrives and gets its reference; the reference shows its
status and answer and nothing else; too large, too frequent, too fast, a filled honeypot or a
malformed body is refused with a 4xx that names the field; one system's reference never reads
another's record; what they wrote is only ever rendered escaped."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.incidents.models import PublicReport
from governance.incidents.services import public_report_answer, reference_hash
from governance.trail.models import AuditLogEntry
from tests.approval_fixtures import make_system
from tests.incidents.conftest import old_stamp

pytestmark = pytest.mark.django_db
APPEAL = {"kind": "appeal", "decision_reference": "LN-2026-0042", "version": "1.0.0",
          "text": "My loan was refused although my income covers the instalments twice.",
          "sensitive_attribute": "sex", "sensitive_group": "Female"}


def post(slug, body, client=None):
    client = client or APIClient()
    return client.post(f"/api/v1/public/systems/{slug}/reports/", json.dumps(body), content_type="application/json")


def appeal(slug="credit", **changes):
    return {**APPEAL, "stamp": old_stamp(slug), **changes}


def test_an_outsiders_appeal_arrives_and_gets_a_reference_it_can_follow(credit, personas):
    response = post("credit", appeal())
    assert response.status_code == 201, response.json()
    reference = response.json()["reference"]
    assert len(reference) >= 24 and response.json()["status"] == "received"
    report = PublicReport.objects.get()
    assert report.reference_hash == reference_hash(reference) and reference not in json.dumps(
        list(PublicReport.objects.values()), default=str)  # only its hash is kept
    assert (report.kind, report.version.version, report.sensitive_group) == ("appeal", "1.0.0", "female")
    assert AuditLogEntry.objects.filter(action="public_report.appeal", actor="public").count() == 1

    status = APIClient().get(f"/api/v1/public/systems/credit/reports/{reference}/")
    assert status.json() == {"status": "received", "answered_at": None, "answer": "", "outcome": ""}
    public_report_answer(actor=personas["carla"], report=report, answer="We re-scored it: approved.",
                         outcome="overturned")
    status = APIClient().get(f"/api/v1/public/systems/credit/reports/{reference}/").json()
    assert (status["status"], status["outcome"], status["answer"]) == ("answered", "overturned",
                                                                       "We re-scored it: approved.")
    assert "text" not in status and "sensitive_group" not in status  # its own status, nothing else


def test_a_reference_of_one_system_does_not_read_another_systems_record(credit, personas):
    make_system(personas["alice"], slug="other", tier="low")
    reference = post("credit", appeal()).json()["reference"]
    for url in (f"/api/v1/public/systems/other/reports/{reference}/", "/api/v1/public/systems/credit/reports/guess/"):
        response = APIClient().get(url)
        assert response.status_code == 404
        assert response.json()["message"] == "No report with this reference for this system."


def test_an_outsider_can_neither_read_nor_change_anything_inside(credit):
    reference = post("credit", appeal()).json()["reference"]
    outsider = APIClient()
    for url in ("/api/v1/incidents/", "/api/v1/systems/", f"/api/v1/public/systems/credit/reports/{reference}/x/"):
        assert outsider.get(url).status_code in {401, 403, 404}, url
    assert outsider.post("/api/v1/incidents/", {"system": "credit", "title": "x", "description": "y"},
                         format="json").status_code in {401, 403}
    # The status endpoint takes no writes.
    assert outsider.post(f"/api/v1/public/systems/credit/reports/{reference}/", {}).status_code == 405
    assert PublicReport.objects.get().status == "received"


@pytest.mark.parametrize("changes, field, message", [
    ({"kind": "complaint"}, "kind", '"complaint" is not a valid choice.'),
    ({"text": "short"}, "text", "text: write between 20 and 4000 characters (you wrote 5)."),
    ({"version": "9.9.9"}, "version", "version: Credit has no version '9.9.9'."),
    ({"decision_reference": ""}, "decision_reference",
     "decision_reference: an appeal names the decision it appeals (the reference on the letter or screen)."),
    ({"decision_reference": "<b>x</b>"}, "decision_reference",
     "decision_reference: up to 100 letters, digits and - _ . / : # (as printed on the decision)."),
    ({"sensitive_attribute": "religion"}, "sensitive_attribute",
     "sensitive_attribute must be one of the characteristics this system records: age_group, sex."),
    ({"sensitive_group": "<script>"}, "sensitive_group",
     "sensitive_group: up to 40 letters, digits, spaces and . , ' - (for example 'female' or '25-34')."),
    ({"website": "http://spam.example"}, "website", "website: leave this field empty."),
    ({"stamp": "forged"}, "stamp", "stamp: the form's stamp is missing or was altered; reload the form and send it "
                                   "again."),
])
def test_a_malformed_report_is_refused_naming_the_field(credit, changes, field, message):
    response = post("credit", appeal(**changes))
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == field
    assert message in response.json()["message"]
    assert not PublicReport.objects.exists()


def test_a_form_sent_too_fast_too_late_for_another_system_or_twice_is_refused(credit, personas):
    make_system(personas["alice"], slug="other", tier="low")
    too_fast = post("credit", appeal(stamp=old_stamp("credit", seconds=0))).json()
    assert too_fast["message"].startswith("stamp: the form was sent 0 s after it was served")
    assert "more than 2.0 h ago" in post("credit", appeal(stamp=old_stamp("credit", seconds=3 * 3600))).json()["message"]
    assert post("credit", appeal(stamp=old_stamp("other"))).json()["extra"]["field"] == "stamp"
    stamp = old_stamp("credit")
    assert post("credit", appeal(stamp=stamp)).status_code == 201
    again = post("credit", appeal(stamp=stamp))
    assert again.status_code == 400 and again.json()["message"].startswith("stamp: this form was sent already")
    assert PublicReport.objects.count() == 1


def test_a_body_over_the_limit_is_refused_before_it_is_read(credit, settings):
    settings.PUBLIC_REPORT_MAX_BODY_BYTES = 2000
    response = post("credit", appeal(text="x" * 3000))
    assert response.status_code == 413
    assert response.json()["extra"]["field"] == "body"
    assert "the limit is 2,000 bytes" in response.json()["message"]


def test_a_malformed_body_is_a_400(credit):
    response = APIClient().post("/api/v1/public/systems/credit/reports/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_too_many_reports_from_one_address_are_refused(credit, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"public_reports": "2/hour", "public_report_status": "60/hour"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        assert [post("credit", appeal()).status_code for _ in range(3)] == [201, 201, 429]
        page = Client().post("/report/credit/", {**appeal(), "kind": "appeal"})
        assert page.status_code == 429 and b"Too many reports from this address" in page.content
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert PublicReport.objects.count() == 2


def test_an_unknown_or_retired_system_takes_no_report(credit):
    assert APIClient().get("/api/v1/public/systems/nope/reports/").status_code == 404
    assert Client().get("/report/nope/").status_code == 404
    credit.lifecycle_stage = "retired"
    credit.save()
    assert post("credit", appeal()).status_code == 404


def test_the_public_page_takes_an_appeal_with_csrf_and_shows_the_reference_once(credit):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/report/credit/")
    assert page.status_code == 200 and b'name="website"' in page.content and b"age_group" in page.content
    # Without the CSRF token the post is refused.
    assert client.post("/report/credit/", appeal()).status_code == 403
    token = page.cookies["csrftoken"].value
    done = client.post("/report/credit/", {**appeal(), "csrfmiddlewaretoken": token})
    assert done.status_code == 201
    reference = done.context["reference"]
    assert reference.encode() in done.content
    followed = client.post("/report/credit/follow/", {"reference": reference, "csrfmiddlewaretoken": token})
    assert followed.status_code == 200 and b"Not answered yet" in followed.content
    wrong = client.post("/report/credit/follow/", {"reference": "nope", "csrfmiddlewaretoken": token})
    assert wrong.status_code == 404 and b"No report with this reference for this system." in wrong.content


def test_what_an_outsider_wrote_is_rendered_escaped_inside(credit, personas):
    post("credit", appeal(text="<script>alert('x')</script> and <img src=x onerror=alert(1)>"))
    page = Client()
    page.force_login(personas["carla"])
    html = page.get("/systems/credit/incidents/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_a_refused_page_post_says_why_and_keeps_what_was_typed_with_a_fresh_stamp(credit):
    response = Client().post("/report/credit/", appeal(text="too short"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "text: write between 20 and 4000 characters (you wrote 9)." in html and "too short" in html
    stamp = response.context["form"].data["stamp"]
    assert stamp and stamp != appeal()["stamp"]
