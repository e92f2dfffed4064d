"""Signed reports: generate (row first, task on commit), build (render, sign, store, supersede,
evidence, trail), immutability, the report's contents, and verification with tamper detection.

Most tests swap the full render for a one-page PDF/A (`small_render`), so they sign and verify a
real PDF in a fraction of a second; one test builds the full report and reads its pages.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from audits.runs.models import AuditRun, RunStatus
from audits.reports.models import Report, ReportStatus
from governance.registry.models import ModelVersion
from audits.reports.models import REPORT_NOT_DELETABLE, SIGNED_REPORT_IMMUTABLE
from audits.runs.registry import KINDS
from audits.reports import service
from audits.reports.context import report_context
from audits.reports.pdf import render_pdf
from audits.reports.signing import create_dev_pki, sign_pdf
from audits.reports.tasks import build_report
from audits.reports.verify import MSG_UNSIGNED, MSG_UNTRUSTED, pdfsig_check, verify_pdf
from audits.runs.services import audit_run_create, audit_run_execute
from governance.catalog.evidence import evidence_record
from governance.core.exceptions import ConflictError, PermissionDeniedError
from governance.catalog.models import Evidence

pytestmark = pytest.mark.django_db
PASSPHRASE = b"report-tests-passphrase"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return create_dev_pki(tmp_path_factory.mktemp("pki"), organisation="Test Org", passphrase=PASSPHRASE)


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory):
    """A second, untrusted CA and signer: the 'wrong certificate'."""
    return create_dev_pki(tmp_path_factory.mktemp("other-pki"), organisation="Mallory Inc", passphrase=PASSPHRASE)


@pytest.fixture
def signing(settings, pki):
    settings.DEBUG = False
    settings.REPORT_SIGNING_P12 = pki["pkcs12_path"]
    settings.REPORT_SIGNING_PASSPHRASE = PASSPHRASE.decode()
    settings.REPORT_TRUST_ROOTS = [pki["ca_cert_path"]]
    settings.REPORT_TSA_URL = ""
    settings.REPORT_ORGANISATION = "Test Org"
    return pki


@pytest.fixture
def enqueued(monkeypatch):
    """Record report builds instead of sending them, so tests call the task directly."""
    sent = []
    monkeypatch.setattr("audits.reports.service.report_enqueue", lambda *, report_id: sent.append(report_id))
    return sent


def _tiny_pdf(text: str) -> bytes:
    return render_pdf(f"<html lang='en'><body><h1>{text}</h1></body></html>", variant="pdf/a-3b")


@pytest.fixture
def small_render(monkeypatch):
    """A one-page PDF/A instead of the full report: signing and verification are what is under test."""
    monkeypatch.setattr("audits.reports.service.report_render",
                        lambda *, report, generated_at: _tiny_pdf(f"Report {report.report_number}"))


def stored_run(version, kind, *, outcome="pass", results=None, checks=None, finished=None):
    """A finished audit run as a worker stores it, with its evidence on the mapped controls."""
    run = AuditRun.objects.create(
        system=version.system, version=version, kind=kind, status=RunStatus.SUCCEEDED, outcome=outcome,
        results=results or {}, checks=checks or [], seeds={"seed": 7}, package_versions={"numpy": "2.4.6"},
        device="cpu", worker_host="worker-7", log=f"{kind} audit: {outcome}.", progress=100,
        started_at=finished or timezone.now(), finished_at=finished or timezone.now(),
    )
    if kind in ("fairness", "robustness", "privacy", "poisoning", "drift", "data_quality"):
        evidence_record(system=version.system, kind=kind, outcome=outcome, summary=run.log, audit_run=run)
    return run


def real_fairness_run(version, actor):
    run = audit_run_create(actor=actor, version=version, kind="fairness",
                           params={"mitigation": False})
    assert audit_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    return run


ROBUSTNESS = {"clean_accuracy": 0.91, "curve": [{"epsilon": 0.1, "robust_accuracy": 0.62}],
              "attack_success_rate": {"value": 0.31, "ci": [0.25, 0.37]}}
PRIVACY = {"epsilon": 3.2, "delta": 1e-5, "membership_inference": {"auc": {"value": 0.55, "ci": [0.51, 0.59]}}}
DATA_QUALITY = {"checks": [{"name": "label_errors", "status": "warn", "count": 12, "examples": [3, 9],
                            "detail": {}, "explanation": "12 rows look mislabelled."}],
                "n_rows": {"train": 700, "test": 300}, "params": {"leakage_auc": 0.98}}


def build(report) -> Report:
    assert build_report(str(report.pk)) == ReportStatus.SIGNED
    report.refresh_from_db()
    return report


def require_tool(name):
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (poppler-utils) is required in CI")
        pytest.skip(f"{name} (poppler-utils) is not installed")


# ---------------------------------------------------------------- generate


def test_generate_writes_the_row_first_and_enqueues_the_build_on_commit_on_the_cpu_queue(
        credit_system, personas, signing, monkeypatch, django_capture_on_commit_callbacks):
    _, version = credit_system
    sent = []
    monkeypatch.setattr(build_report, "apply_async", lambda args, queue: sent.append((args, queue)))
    with django_capture_on_commit_callbacks(execute=True):
        report = service.report_generate(actor=personas["alice"], version=version)
        assert sent == []  # not before the row is committed
    assert sent == [([str(report.pk)], "cpu")]
    assert report.status == ReportStatus.GENERATING
    assert report.report_number == f"R-{timezone.now().year}-0001"
    assert (report.system, report.version, report.created_by) == (version.system, version, personas["alice"])


def test_report_numbers_count_up_within_the_year(credit_system, personas, signing, enqueued):
    _, version = credit_system
    first = service.report_generate(actor=personas["alice"], version=version)
    Report.objects.filter(pk=first.pk).update(status=ReportStatus.FAILED)
    second = service.report_generate(actor=personas["alice"], version=version)
    year = timezone.now().year
    assert (first.report_number, second.report_number) == (f"R-{year}-0001", f"R-{year}-0002")


def test_a_second_request_while_one_is_being_generated_is_a_conflict(credit_system, personas, signing, enqueued):
    _, version = credit_system
    first = service.report_generate(actor=personas["alice"], version=version)
    with pytest.raises(ConflictError, match=f"Report {first.report_number} for this version is being generated"):
        service.report_generate(actor=personas["bob"], version=version)
    assert Report.objects.count() == 1


@pytest.mark.parametrize("persona,allowed", [
    ("alice", True), ("bob", True), ("sam", True), ("carla", True), ("root", True),
    ("erik", False), ("aude", False), ("oscar", False),
])
def test_who_may_generate_a_report(credit_system, personas, signing, enqueued, persona, allowed):
    _, version = credit_system
    if allowed:
        service.report_generate(actor=personas[persona], version=version)
        assert Report.objects.count() == 1
    else:
        with pytest.raises(PermissionDeniedError):
            service.report_generate(actor=personas[persona], version=version)
        assert Report.objects.count() == 0


def test_without_a_configured_certificate_and_debug_off_generation_fails_clearly_and_writes_nothing(
        credit_system, personas, settings, enqueued):
    _, version = credit_system
    settings.DEBUG = False
    settings.REPORT_SIGNING_PASSPHRASE = ""
    with pytest.raises(service.SigningNotConfigured) as caught:
        service.report_generate(actor=personas["alice"], version=version)
    assert caught.value.message == service.SIGNING_NOT_CONFIGURED
    assert caught.value.status_code == 503
    assert Report.objects.count() == 0 and enqueued == []


def test_a_configured_passphrase_without_the_file_names_the_missing_path(settings, tmp_path):
    settings.REPORT_SIGNING_P12 = str(tmp_path / "nope.p12")
    settings.REPORT_SIGNING_PASSPHRASE = "secret"
    with pytest.raises(service.SigningNotConfigured, match="nope.p12, which does not exist"):
        service.signing_config()


def test_with_debug_on_a_development_only_pki_is_generated_once_under_var_pki(settings, tmp_path):
    settings.DEBUG = True
    settings.REPORT_DEV_PKI_DIR = tmp_path / "pki"
    settings.REPORT_SIGNING_P12 = str(tmp_path / "pki" / "signer.p12")
    settings.REPORT_SIGNING_PASSPHRASE = ""
    first = service.signing_config()
    second = service.signing_config()
    assert first.development and first.pkcs12_path == tmp_path / "pki" / "signer.p12"
    assert first.passphrase == second.passphrase and len(first.passphrase) >= 32  # generated, not hard-coded
    assert oct((tmp_path / "pki" / "dev-passphrase.txt").stat().st_mode & 0o777) == "0o600"
    assert "DEVELOPMENT ONLY" in (tmp_path / "pki" / "README-DEVELOPMENT-ONLY.txt").read_text()
    assert (tmp_path / "pki" / "dev-ca.pem").exists()


# ---------------------------------------------------------------- build


def test_the_full_report_is_signed_stored_recorded_and_has_a_section_for_every_audit_that_ran(
        credit_system, personas, signing, enqueued):
    system, version = credit_system
    real_fairness_run(version, personas["alice"])
    stored_run(version, "robustness", outcome="fail", results=ROBUSTNESS)
    stored_run(version, "privacy", outcome="inconclusive", results=PRIVACY)
    stored_run(version, "data_quality", results=DATA_QUALITY)
    report = build(service.report_generate(actor=personas["carla"], version=version))

    data = report.file.read()
    assert report.status == ReportStatus.SIGNED and report.error == ""
    assert report.sha256 == hashlib.sha256(data).hexdigest() and report.size_bytes == len(data)
    assert report.signer_fingerprint == signing["signer_fingerprint"]
    assert "Test Org" in report.signer_subject
    assert report.page_count >= 15
    assert verify_pdf(data, trust_roots=[open(signing["ca_cert_path"], "rb").read()]).status == "valid"

    require_tool("pdftotext")
    path = default_storage.path(report.file.name)
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("Executive summary", "2.1 Fairness slices", "Data quality", "robustness", "privacy",
                    "NIST AI RMF 1.0", "ISO/IEC 42001:2023 Annex A", "Evidence register", "4. Approvals so far",
                    "None yet", "5. Provenance", "6. Method and limitations", "7. Glossary"):
        assert heading.lower() in text.lower(), heading
    # one section per audit that ran (fairness first, in registry order), and no other
    labels = [KINDS[k].label if k in KINDS else k.replace("_", " ").title()
              for k in ("fairness", "robustness", "privacy", "data_quality")]
    sections = set(re.findall(r"(?m)^\s*2\.(\d) (.+?)(?:\s*\.{3,}.*)?$", text))
    assert {label for _, label in sections} == set(labels) and {n for n, _ in sections} == {"1", "2", "3", "4"}
    assert report.report_number in text and version.artifact_sha256 in text
    assert "worker-7" in text  # the worker host of the stored runs, from the stored rows
    # signed by a development certificate: every page says so, in its top margin
    pages = text.split("\f")[:report.page_count]
    assert len(pages) == report.page_count
    marked = re.compile(r"DEVELOPMENT SIGNER\s*—\s*NOT FOR REGULATORS")
    assert [i for i, page in enumerate(pages, 1) if not marked.search(page)] == []
    # Evidence on the report's controls, and the audit trail.
    evidence = Evidence.objects.filter(kind="report", assessment__system=system)
    assert set(evidence.values_list("assessment__control__ref", flat=True)) == {"MEASURE 2.1", "GOVERN 4.2",
                                                                               "A.6.2.7", "A.8.3"}
    assert evidence.first().link == f"/reports/{report.pk}/download/"
    from governance.trail.models import AuditLogEntry

    entry = AuditLogEntry.objects.get(action="report.signed")
    assert entry.payload["sha256"] == report.sha256 and entry.payload["report_number"] == report.report_number


def test_pdfsig_as_outside_verifier_accepts_a_signed_report_and_reports_a_byte_flip(
        credit_system, personas, signing, enqueued, small_render, tmp_path):
    if shutil.which("pdfsig") is None:
        if os.environ.get("CI"):
            pytest.fail("pdfsig (poppler-utils) is required in CI")
        pytest.skip("pdfsig (poppler-utils) is not installed")
    _, version = credit_system
    report = build(service.report_generate(actor=personas["alice"], version=version))
    good = default_storage.path(report.file.name)
    outside = pdfsig_check(good)
    assert outside["signatures"] == 1 and outside["signature_valid"] and outside["total_document_signed"]
    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(_flip_a_signed_byte(report.file.read()))
    tampered = pdfsig_check(flipped)
    # pdfsig exits 0 either way; its text names the mismatch, and that is what is parsed.
    assert tampered["signature_valid"] is False and tampered["signatures"] == 1
    assert tampered["details"][0]["signature_validation"] == "Digest Mismatch."


def test_a_new_report_supersedes_the_previous_one_which_stays_as_it_was(
        credit_system, personas, signing, enqueued, small_render):
    _, version = credit_system
    first = build(service.report_generate(actor=personas["alice"], version=version))
    before = (first.sha256, first.file.name, first.signed_at)
    second = build(service.report_generate(actor=personas["bob"], version=version))
    first.refresh_from_db()
    assert first.superseded_by == second and second.superseded_by is None
    assert (first.sha256, first.file.name, first.signed_at) == before
    assert first.status == ReportStatus.SIGNED and default_storage.exists(first.file.name)


def test_a_failed_build_keeps_the_row_with_its_message_and_leaves_no_file_and_no_evidence(
        credit_system, personas, signing, enqueued, monkeypatch):
    _, version = credit_system

    def broken(*, report, generated_at):
        raise ValueError("the template could not be rendered")

    monkeypatch.setattr("audits.reports.service.report_render", broken)
    report = service.report_generate(actor=personas["alice"], version=version)
    assert build_report(str(report.pk)) == ReportStatus.FAILED
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error == "the template could not be rendered"
    assert not report.file and not (default_storage.exists("reports") and default_storage.listdir("reports")[1])
    assert not Evidence.objects.filter(kind="report").exists()


def test_a_report_that_its_own_verifier_would_reject_is_not_stored(
        credit_system, personas, signing, enqueued, small_render, settings, other_pki):
    _, version = credit_system
    settings.REPORT_TRUST_ROOTS = [other_pki["ca_cert_path"]]  # trusts someone else's CA only
    report = service.report_generate(actor=personas["alice"], version=version)
    assert build_report(str(report.pk)) == ReportStatus.FAILED
    report.refresh_from_db()
    assert report.error == service.SELF_CHECK_FAILED.format(status="invalid", message=MSG_UNTRUSTED)
    assert not report.file


def test_a_redelivered_build_message_does_nothing_twice(credit_system, personas, signing, enqueued, small_render):
    _, version = credit_system
    report = build(service.report_generate(actor=personas["alice"], version=version))
    assert build_report(str(report.pk)) == "skipped"
    assert Evidence.objects.filter(kind="report", assessment__control__ref="A.8.3").count() == 1


# ---------------------------------------------------------------- immutability


def test_a_signed_report_is_never_edited_only_superseded_once_and_never_deleted(
        credit_system, personas, signing, enqueued, small_render):
    _, version = credit_system
    old = build(service.report_generate(actor=personas["alice"], version=version))
    new = build(service.report_generate(actor=personas["alice"], version=version))
    old.refresh_from_db()
    message = SIGNED_REPORT_IMMUTABLE.format(number=old.report_number)
    old.sha256 = "0" * 64
    with pytest.raises(ConflictError, match=message):
        old.save()
    old.refresh_from_db()
    old.error = "edited"
    with pytest.raises(ConflictError, match=message):
        old.save(update_fields=["error"])
    old.refresh_from_db()
    old.superseded_by = None
    with pytest.raises(ConflictError, match="already superseded"):
        old.save()
    with pytest.raises(ConflictError, match=REPORT_NOT_DELETABLE.format(number=new.report_number)):
        new.delete()
    assert Report.objects.filter(pk=new.pk, superseded_by=None, status=ReportStatus.SIGNED).exists()


def test_the_database_refuses_to_edit_a_signed_report_too(credit_system):
    """What someone with raw database access meets (audits/reports/migrations/0002_signed_report_guard.py)."""
    from django.db import DatabaseError, transaction

    _, version = credit_system
    old, new, draft = (Report.objects.create(report_number=f"R-2026-000{n}", system=version.system, version=version,
                                             status=status, sha256=c * 64, signed_at=timezone.now())
                       for n, status, c in ((1, "signed", "a"), (2, "signed", "b"), (3, "generating", "")))
    table, pk = Report._meta.db_table, Report._meta.pk

    def raw(sql, *params):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.format(table=table),
                           [pk.get_db_prep_value(p, connection) if hasattr(p, "hex") else p for p in params])

    for column, value in (("sha256", "0" * 64), ("status", "failed"), ("file", "reports/other.pdf")):
        with pytest.raises(DatabaseError, match="signed report"):
            raw(f"UPDATE {{table}} SET {column} = %s WHERE id = %s", value, old.pk)
    raw("UPDATE {table} SET superseded_by_id = %s WHERE id = %s", new.pk, old.pk)  # superseded, once
    with pytest.raises(DatabaseError, match="signed report"):
        raw("UPDATE {table} SET superseded_by_id = NULL WHERE id = %s", old.pk)
    raw("UPDATE {table} SET error = %s WHERE id = %s", "worker lost", draft.pk)  # not signed: the workflow's
    if connection.vendor == "postgresql":  # SQLite test databases are flushed with DELETE, so it stays there
        with pytest.raises(DatabaseError, match="cannot be deleted"):
            raw("DELETE FROM {table} WHERE id = %s", new.pk)
    old.refresh_from_db()
    assert (old.sha256, old.status, old.superseded_by_id) == ("a" * 64, "signed", new.pk)


# ---------------------------------------------------------------- contents (HTML, no PDF)


def _html(report):
    context = report_context(report=report, generated_at=timezone.now())
    return render_to_string("reports/report.html", {**context, "base_css": ""}), context


def test_each_audit_kind_gets_its_section_only_its_latest_succeeded_run_counts(
        credit_system, personas, signing, enqueued):
    _, version = credit_system
    real_fairness_run(version, personas["alice"])
    stored_run(version, "robustness", results=ROBUSTNESS, finished=timezone.now() - timezone.timedelta(days=2))
    latest = stored_run(version, "robustness", outcome="fail", results={**ROBUSTNESS, "clean_accuracy": 0.88})
    stored_run(version, "data_quality", outcome="inconclusive", results=DATA_QUALITY)
    AuditRun.objects.create(system=version.system, version=version, kind="privacy", status=RunStatus.FAILED,
                            error="out of memory")
    report = service.report_generate(actor=personas["alice"], version=version)
    html, context = _html(report)

    assert [s["kind"] for s in context["audits"]] == ["fairness", "data_quality", "robustness"]
    robustness = context["audits"][2]
    assert robustness["run"] == latest and robustness["earlier_runs"] == 1
    assert robustness["template"] == "reports/sections/_generic.html"  # no template of its own yet
    assert context["audits"][0]["template"] == "kinds/fairness/report.html"
    assert 'id="audit-fairness"' in html and 'id="audit-robustness"' in html and 'id="audit-privacy"' not in html
    assert "Selection rate by sex" in html  # the fairness charts, drawn from the stored results
    assert "clean accuracy" in html and "0.880" in html  # generic section: the key numbers
    assert "attack success rate" in html and "0.250–0.370" in html  # with their interval
    assert "supersedes 1 earlier run" in html
    # a probe's own named checks become findings; its parameters are not "key numbers"
    assert "Label errors" in html and "12 rows look mislabelled." in html
    assert "n rows · train" in html and "leakage auc" not in html


def test_a_report_for_a_version_shows_its_own_and_system_wide_evidence_never_another_versions(
        credit_system, personas, signing, enqueued):
    system, old = credit_system
    old_runs = [stored_run(old, "robustness", results=ROBUSTNESS), stored_run(old, "drift", outcome="fail")]
    new = ModelVersion.objects.create(
        system=system, version="1.2.0", artifact=old.artifact.name, artifact_sha256="1" * 64,
        artifact_format="safetensors", created_by=old.created_by, train_dataset=old.train_dataset,
        eval_dataset=old.eval_dataset, parent=old,
        spec={**old.spec, "input": {**old.spec["input"], "numeric": ["credit_amount", "duration"],
                                    "categorical": ["job", "saving_accounts", "checking_account", "purpose"]}})
    mine = stored_run(new, "poisoning", outcome="pass")
    report = service.report_generate(actor=personas["alice"], version=new)
    html, context = _html(report)

    assert [s["kind"] for s in context["audits"]] == ["poisoning"]
    register = context["coverage"]["register"]
    assert {e["run_id"] for e in register if e["run_id"]} == {mine.pk}
    assert not {r.pk for r in old_runs} & {e["run_id"] for e in register}
    assert {e["scope"] for e in register} == {"version 1.2.0", "system-wide"}
    statuses = {c["ref"]: c["status"] for fw in context["coverage"]["frameworks"] for c in fw["controls"]}
    assert statuses["MEASURE 2.4"] == "not_started"  # 1.0.0's drift breach is not 1.2.0's finding
    assert statuses["MEASURE 2.7"] == "satisfied"
    for run in old_runs:
        assert str(run.pk) not in html
    # provenance: the data's columns, and the ones this version reads
    evaluation = next(d for d in context["provenance"]["datasets"] if d["used_as"] == "Evaluation")
    assert {"sex", "age", "housing"} <= set(evaluation["not_read"])
    assert "Not read by this version: " in html


def test_the_summary_says_pass_or_fail_per_threshold_and_what_it_means(credit_system, personas, signing, enqueued):
    _, version = credit_system
    checks = [
        {"metric": "demographic_parity_difference", "feature": "sex", "value": 0.31, "ci": [0.22, 0.40],
         "threshold": 0.1, "operator": "<=", "outcome": "fail", "explanation": "The gap is too wide."},
        {"metric": "demographic_parity_ratio", "feature": "sex", "value": 0.9, "ci": [0.85, 0.95],
         "threshold": 0.8, "operator": ">=", "outcome": "pass", "explanation": ""},
    ]
    stored_run(version, "robustness", outcome="fail", checks=checks)
    html, context = _html(service.report_generate(actor=personas["alice"], version=version))
    summary = context["summary"]
    assert summary["verdict"] == "fail" and summary["counts"] == {"pass": 1, "fail": 1, "inconclusive": 0}
    assert summary["headline"].startswith("This model version does not meet its policy: 1 of 2 threshold checks failed.")
    assert summary["missing"] == ["Fairness slices"]  # the high-risk policy requires fairness; it has not run
    assert [c["limit"] for c in summary["checks"]] == ["at most 0.1", "at least 0.8"]
    assert "The gap is too wide." in html
    assert "meets the policy limit even at the unfavourable end" in html  # the meaning, where no explanation was stored


def test_an_audit_that_failed_without_a_threshold_check_still_fails_the_summary(
        credit_system, personas, signing, enqueued):
    _, version = credit_system
    stored_run(version, "drift", outcome="fail", results={"breach": True, "breaches": ["Feature 'age' drifted."]})
    _, context = _html(service.report_generate(actor=personas["alice"], version=version))
    assert context["summary"]["verdict"] == "fail"
    assert context["summary"]["headline"].startswith("This model version does not meet its policy: the drift review failed.")


def test_approvals_so_far_list_role_name_decision_and_time(credit_system, personas, signing, enqueued):
    from governance.approvals.models import ApprovalDecision, ApprovalRequest
    from governance.policies.models import Policy

    _, version = credit_system
    html, _ = _html(service.report_generate(actor=personas["alice"], version=version))
    assert "None yet" in html
    request = ApprovalRequest.objects.create(version=version, environment="production", requested_by=personas["alice"],
                                             policy=Policy.objects.get(risk_tier="high", environment="production"),
                                             status="in_review", current_stage=2)
    ApprovalDecision.objects.create(request=request, stage=1, role="risk_officer", user=personas["bob"],
                                    decision="approve", comment="Intervals reviewed.")
    Report.objects.update(status=ReportStatus.FAILED)
    html, context = _html(service.report_generate(actor=personas["alice"], version=version))
    decision = context["approvals"]["decisions"][0]
    assert (decision["role"], decision["name"], decision["decision"]) == (
        "Risk officer (independent validator)", "Bob", "approve")
    assert "Intervals reviewed." in html and "None yet" not in html
    assert context["approvals"]["accepted_risks"] == [] and "Accepted risks" not in html


def test_accepted_risks_are_listed_with_who_why_and_until(credit_system, personas, signing, enqueued):
    from governance.approvals.risk import risk_accept

    _, version = credit_system
    run = stored_run(version, "fairness", outcome="inconclusive",
                     results={}, checks=[{"metric": "demographic_parity_difference", "outcome": "inconclusive"}])
    why = "300 held-out rows: intervals straddle the limits and no check failed."
    acceptance = risk_accept(actor=personas["bob"], run=run, environment="production", justification=why)
    html, context = _html(service.report_generate(actor=personas["alice"], version=version))
    assert context["approvals"]["accepted_risks"] == [{
        "kind": "fairness", "run": run.pk, "environment": "production", "role": "Risk officer (independent validator)",
        "name": "Bob", "justification": why, "accepted_at": acceptance.accepted_at,
        "expires_at": acceptance.expires_at}]
    assert "Accepted risks" in html and why in html


def test_an_approval_given_knowing_the_gaps_shows_them_with_the_justification(credit_system, personas, signing,
                                                                                 enqueued):
    from governance.approvals.models import ApprovalDecision, ApprovalRequest
    from governance.policies.models import Policy

    _, version = credit_system
    policy = Policy.objects.get(risk_tier="high", environment="production")
    gap = "The policy requires a signed report for this version; none is signed. Generate and sign one."
    why = "Fairness reviewed by hand; the report follows this one."
    request = ApprovalRequest.objects.create(version=version, environment="production", requested_by=personas["alice"],
                                             policy=policy, status="in_review", current_stage=2, justification=why,
                                             acknowledged_gaps=[gap])
    ApprovalDecision.objects.create(request=request, stage=1, role="risk_officer", user=personas["bob"],
                                    decision="approve", comment="Accepted until the report is signed.",
                                    acknowledged_gaps=[gap])
    html, context = _html(service.report_generate(actor=personas["alice"], version=version))
    assert context["approvals"]["requests"][0]["justification"] == why
    assert context["approvals"]["decisions"][0]["acknowledged_gaps"] == [gap]
    assert f"Requested knowing the version missed its policy: {gap}" in html
    assert f"Approved knowing the version missed its policy: {gap}" in html


def test_the_context_reads_a_constant_number_of_queries(credit_system, personas, signing, enqueued):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    stored_run(version, "robustness", results=ROBUSTNESS)

    def count():
        with CaptureQueriesContext(connection) as queries:
            report_context(report=Report.objects.select_related("system__owner", "version", "created_by")
                           .get(pk=report.pk), generated_at=timezone.now())
        return len(queries)

    few = count()
    stored_run(version, "privacy", results=PRIVACY)
    stored_run(version, "data_quality", results=DATA_QUALITY)
    stored_run(version, "robustness", results=ROBUSTNESS)
    assert count() == few


# ---------------------------------------------------------------- verification


def _flip_a_signed_byte(data: bytes) -> bytes:
    """Change one byte inside the first signed range (in the page content, well before the signature)."""
    index = len(data) // 3
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def _append_incremental_update(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    info = writer.trailer["/Info"]
    info[generic.NameObject("/Title")] = generic.TextStringObject("Changed after signing")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_verification_answers_valid_tampered_invalid_or_unknown_and_names_the_record(
        credit_system, personas, signing, enqueued, small_render, other_pki):
    _, version = credit_system
    report = build(service.report_generate(actor=personas["alice"], version=version))
    data = report.file.read()

    valid = service.report_verify(upload=data)
    assert (valid["status"], valid["report"], valid["matched_by"]) == ("valid", report, "sha256")
    assert valid["signer_fingerprint"] == report.signer_fingerprint

    flipped = service.report_verify(upload=_flip_a_signed_byte(data))
    assert flipped["status"] == "tampered"
    assert (flipped["report"], flipped["matched_by"]) == (report, "report_number")  # what it claims to be

    appended = service.report_verify(upload=_append_incremental_update(data))
    assert appended["status"] == "tampered" and "does not cover the entire file" in appended["message"]
    assert (appended["report"], appended["matched_by"]) == (report, "signed_revision")

    unsigned = _tiny_pdf("An unsigned copy")
    assert service.report_verify(upload=unsigned)["status"] == "unknown"
    assert service.report_verify(upload=unsigned)["message"] == MSG_UNSIGNED

    forged = sign_pdf(unsigned, pkcs12_path=other_pki["pkcs12_path"], passphrase=PASSPHRASE, reason="Forged")
    wrong = service.report_verify(upload=forged)
    assert (wrong["status"], wrong["message"], wrong["report"]) == ("invalid", MSG_UNTRUSTED, None)

    unrecorded = sign_pdf(unsigned, pkcs12_path=signing["pkcs12_path"], passphrase=PASSPHRASE, reason="Side copy")
    stray = service.report_verify(upload=unrecorded)
    assert (stray["status"], stray["message"], stray["report"]) == ("unknown", service.MSG_VALID_UNRECORDED, None)

    garbage = service.report_verify(upload=b"%PDF-1.7 not really")
    assert garbage["status"] == "invalid" and garbage["report"] is None


def test_the_verify_report_command_prints_the_verdict_and_exits_non_zero_unless_valid(
        credit_system, personas, signing, enqueued, small_render, tmp_path, capsys):
    _, version = credit_system
    report = build(service.report_generate(actor=personas["alice"], version=version))
    good = tmp_path / "good.pdf"
    good.write_bytes(report.file.read())
    call_command("verify_report", str(good))
    out = capsys.readouterr().out
    assert "VALID" in out and report.report_number in out and "matched by exact file" in out

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(_append_incremental_update(good.read_bytes()))
    with pytest.raises(SystemExit) as exited:
        call_command("verify_report", str(bad), "--json")
    assert exited.value.code == 2
    assert '"status": "tampered"' in capsys.readouterr().out


def test_the_report_lists_each_current_document_with_its_sha256_and_its_stale_controls(
        credit_system, personas, signing, enqueued):
    import datetime
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from governance.catalog.documents import document_attach
    from governance.catalog.models import ControlAssessment

    system, version = credit_system
    carla, today = personas["carla"], datetime.date.today()

    def attach(refs, body, **kw):
        assessments = ControlAssessment.objects.filter(system=system, control__ref__in=refs).select_related("control")
        return document_attach(actor=carla, system=system, assessments=list(assessments), kind="document", owner=carla,
                               effective_on=today - datetime.timedelta(days=400), upload=SimpleUploadedFile("p.md", body),
                               filename="p.md", **kw)

    old = attach(["GOVERN 1.1", "A.2.2"], b"# AI policy v1", title="AI policy v1", review_by=today + datetime.timedelta(days=9))
    attach([], b"# AI policy v2", title="AI policy v2", review_by=today + datetime.timedelta(days=300), replaces=old)
    attach(["GOVERN 2.1"], b"# Roles", title="Roles and responsibilities", review_by=today - datetime.timedelta(days=1))
    report = service.report_generate(actor=personas["alice"], version=version)
    html, context = _html(report)

    assert [(d["title"], d["sha256"], d["controls"], d["expired"]) for d in context["documents"]] == [
        ("Roles and responsibilities", hashlib.sha256(b"# Roles").hexdigest(), ["GOVERN 2.1"], True),
        ("AI policy v2", hashlib.sha256(b"# AI policy v2").hexdigest(), ["GOVERN 1.1", "A.2.2"], False)]
    assert hashlib.sha256(b"# AI policy v2").hexdigest() in html
    assert hashlib.sha256(b"# AI policy v1").hexdigest() not in html.split('id="documents"')[1].split("</table>")[0]
    statuses = {c["ref"]: c["status"] for fw in context["coverage"]["frameworks"] for c in fw["controls"]}
    assert (statuses["GOVERN 1.1"], statuses["GOVERN 2.1"]) == ("satisfied", "stale")
    assert context["coverage"]["frameworks"][0]["totals"]["stale"] == 1


def test_a_signed_file_already_under_the_reports_key_is_never_overwritten(
        credit_system, personas, signing, enqueued, small_render, monkeypatch):
    _, version = credit_system
    report = service.report_generate(actor=personas["alice"], version=version)
    create, names = service.object_create, []

    def another_writer_first(*, name, content):
        names.append(name)
        default_storage.save(name, ContentFile(b"%PDF- an earlier file"))
        return create(name=name, content=content)

    monkeypatch.setattr("audits.reports.service.object_create", another_writer_first)
    assert build_report(str(report.pk)) == ReportStatus.FAILED

    report.refresh_from_db()
    [name] = names
    assert name.startswith(f"reports/{report.report_number}-") and name.endswith(".pdf")
    assert report.status == ReportStatus.FAILED and not report.file
    assert report.error == f"The stored object {name} already exists and is never overwritten."
    with default_storage.open(name) as fh:
        assert fh.read() == b"%PDF- an earlier file"


def test_a_signed_reports_key_holds_its_number_and_sha256(credit_system, personas, signing, enqueued, small_render):
    _, version = credit_system
    report = build(service.report_generate(actor=personas["alice"], version=version))
    assert report.file.name == f"reports/{report.report_number}-{report.sha256}.pdf"
