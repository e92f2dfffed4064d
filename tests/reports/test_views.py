"""Report pages and API: the system page's panel, generate, download, verify (page, API), errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.reports.models import Report, ReportStatus
from audits.reports import service
from tests.reports.test_service import (  # noqa: F401 - fixtures
    _append_incremental_update,
    build,
    enqueued,
    pki,
    signing,
    small_render,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(credit_system, personas, signing, enqueued, small_render):
    _, version = credit_system
    return build(service.report_generate(actor=personas["alice"], version=version))


def pdf_bytes(report) -> bytes:
    with report.file.open("rb") as fh:
        return fh.read()


def upload(data: bytes, name="report.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# ---------------------------------------------------------------- pages


def test_the_system_page_lists_reports_with_links_and_offers_generation_to_those_who_may(
        client, credit_system, personas, signed):
    system, version = credit_system
    client.force_login(personas["alice"])
    page = client.get(f"/systems/{system.slug}/").content.decode()
    assert signed.report_number in page and "current" in page
    assert f'href="/reports/{signed.pk}/download/"' in page
    assert f'hx-get="/reports/{signed.pk}/badge/"' in page  # the signature is checked lazily
    assert 'action="/reports/new/"' in page and f'<option value="{version.id}">1.0.0</option>' in page
    assert f"/api/v1/exports/oscal/assessment-results/{system.slug}/" in page
    assert "/api/v1/exports/oscal/catalogs/ai-rmf/" in page and "/api/v1/exports/oscal/catalogs/iso42001/" in page
    assert f"/api/v1/exports/model-cards/{version.id}.md" in page and f"/api/v1/exports/model-cards/{version.id}.json" in page

    client.force_login(personas["aude"])  # an auditor reads and downloads, but does not generate
    page = client.get(f"/systems/{system.slug}/").content.decode()
    assert signed.report_number in page and 'action="/reports/new/"' not in page


def test_generating_from_the_page_writes_the_row_and_says_so(client, credit_system, personas, signing, enqueued,
                                                             django_capture_on_commit_callbacks):
    system, version = credit_system
    client.force_login(personas["carla"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/new/", {"version": str(version.id)}, follow=True)
    report = Report.objects.get()
    assert response.redirect_chain[-1][0] == f"/systems/{system.slug}/#reports"
    assert f"Report {report.report_number} is being generated and signed" in response.content.decode()
    assert enqueued == [report.pk]
    assert 'hx-trigger="every 2s"' in response.content.decode()  # the panel polls while it is generating


def test_a_refused_generation_shows_the_reason_and_writes_nothing(client, credit_system, personas, signing, enqueued):
    _, version = credit_system
    client.force_login(personas["aude"])
    response = client.post("/reports/new/", {"version": str(version.id)}, follow=True)
    assert "Your role does not allow this (report.generate)" in response.content.decode()
    response = client.post("/reports/new/", {"version": "not-a-uuid"}, follow=True)
    assert "version: choose a registered model version." in response.content.decode()
    assert Report.objects.count() == 0


def test_download_gives_the_signed_bytes_and_the_badge_verifies_them(client, personas, signed):
    client.force_login(personas["aude"])
    response = client.get(f"/reports/{signed.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{signed.report_number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == pdf_bytes(signed)
    assert response["X-Content-SHA256"] == signed.sha256
    assert "signature valid" in client.get(f"/reports/{signed.pk}/badge/").content.decode()


def test_the_badge_says_so_when_the_stored_file_is_gone(client, personas, signed):
    from django.core.files.storage import default_storage

    default_storage.delete(signed.file.name)
    client.force_login(personas["aude"])
    body = client.get(f"/reports/{signed.pk}/badge/").content.decode()
    assert "missing" in body and "The stored file of this report cannot be read." in body


def test_a_report_without_a_signed_file_cannot_be_downloaded(client, credit_system, personas, signing, enqueued):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    client.force_login(personas["alice"])
    assert client.get(f"/reports/{report.pk}/download/").status_code == 404


def test_the_verify_page_answers_and_names_the_record(client, personas, signed):
    client.force_login(personas["aude"])
    page = client.get("/reports/verify/").content.decode()
    assert '<label for="verify-file">Report PDF</label>' in page
    response = client.post("/reports/verify/", {"file": upload(pdf_bytes(signed), "mine.pdf")})
    body = response.content.decode()
    assert response.status_code == 200
    assert "mine.pdf: <span class=\"chip pass\">valid, development signer</span>" in body
    assert signed.report_number in body and "not for regulators" in body
    body = client.post("/reports/verify/", {"file": upload(_append_incremental_update(pdf_bytes(signed)))}).content.decode()
    assert ">tampered<" in body and "content appended after signing" in body


def test_the_verify_page_without_a_file_says_what_is_missing(client, personas, signing):
    client.force_login(personas["aude"])
    response = client.post("/reports/verify/", {})
    assert response.status_code == 400 and service.VERIFY_NO_FILE in response.content.decode()


def test_pages_need_a_login(client, signed):
    for url in (f"/reports/{signed.pk}/download/", "/reports/verify/", f"/reports/{signed.pk}/badge/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# ---------------------------------------------------------------- API


def test_the_api_creates_lists_shows_and_downloads_reports(api, credit_system, personas, signing, enqueued,
                                                           small_render):
    system, version = credit_system
    carla = api("carla")
    response = carla.post("/api/v1/reports/", {"version": str(version.id)}, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "generating" and created["report_number"].startswith("R-")
    assert created["download_url"] is None
    build(Report.objects.get(pk=created["id"]))

    listed = carla.get("/api/v1/reports/", {"system": system.slug}).json()
    assert [r["report_number"] for r in listed["results"]] == [created["report_number"]]
    shown = carla.get(f"/api/v1/reports/{created['id']}/").json()
    assert shown["status"] == "signed" and len(shown["sha256"]) == 64 and shown["system"] == system.slug
    pdf = carla.get(shown["download_url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert carla.get("/api/v1/reports/", {"system": system.slug, "status": "failed"}).json()["count"] == 0
    unknown = carla.get("/api/v1/reports/", {"system": "other"})  # an empty page would read as "no reports"
    assert unknown.status_code == 400 and unknown.json()["extra"] == {"field": "system", "accepted": [system.slug]}


NO_SUCH = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("persona,given,status,message", [
    ("aude", "the version", 403, "Your role does not allow this (report.generate)."),
    ("alice", NO_SUCH, 400, f"version: no such model version ({NO_SUCH})."),
    ("alice", None, 400, "version: This field is required."),
])
def test_api_errors_are_messages_that_name_the_problem(api, credit_system, signing, enqueued, persona, given, status,
                                                       message):
    _, version = credit_system
    data = {} if given is None else {"version": str(version.id) if given == "the version" else given}
    response = api(persona).post("/api/v1/reports/", data, format="json")
    assert response.status_code == status
    assert response.json()["message"].startswith(message)
    assert Report.objects.count() == 0


def test_the_api_refuses_with_503_when_signing_is_not_configured(api, credit_system, settings, enqueued):
    _, version = credit_system
    settings.DEBUG = False
    settings.REPORT_SIGNING_PASSPHRASE = ""
    response = api("alice").post("/api/v1/reports/", {"version": str(version.id)}, format="json")
    assert response.status_code == 503 and response.json()["message"] == service.SIGNING_NOT_CONFIGURED


def test_the_verify_api_answers_with_the_status_and_the_record(api, signed):
    aude = api("aude")
    response = aude.post("/api/v1/reports/verify/", {"file": upload(pdf_bytes(signed))}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["matched_by"], body["report"]["report_number"]) == (
        "valid", "sha256", signed.report_number)
    tampered = aude.post("/api/v1/reports/verify/", {"file": upload(_append_incremental_update(pdf_bytes(signed)))},
                         format="multipart").json()
    assert tampered["status"] == "tampered" and tampered["report"]["id"] == str(signed.pk)
    missing = aude.post("/api/v1/reports/verify/", {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json() == {"message": service.VERIFY_NO_FILE, "extra": {"field": "file"}}


def test_the_api_download_of_an_unsigned_report_is_a_404_with_a_message(api, credit_system, personas, signing,
                                                                         enqueued):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    response = api("alice").get(f"/api/v1/reports/{report.pk}/download/")
    assert response.status_code == 404
    assert response.json()["message"] == f"Report {report.report_number} has no signed file (status generating)."
    assert ReportStatus.GENERATING == Report.objects.get().status
