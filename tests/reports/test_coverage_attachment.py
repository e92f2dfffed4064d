"""The report's control coverage: a summary in the body, every control in an attached CSV.

The body shows each framework's counts, the controls a reader must act on (failed, stale, in
progress, or carrying a note) in full, and the others by reference; the full table travels in
the signed PDF/A-3 as an associated file with /AFRelationship /Data. Nothing is lost: every
control is in the attachment, and in the body either in full or by reference.
"""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from audits.reports import service
from audits.reports.attachments import COVERAGE_COLUMNS, coverage_csv
from audits.reports.context import COVERAGE_CSV_NAME, report_context
from audits.reports.verify import pdfsig_check, verify_pdf
from audits.runs.models import AuditRun, RunStatus
from governance.catalog.evidence import evidence_record
from governance.catalog.models import ControlAssessment

pytestmark = pytest.mark.django_db
PASSPHRASE = b"coverage-tests-passphrase"


@pytest.fixture
def signing(settings, tmp_path):
    from audits.reports.signing import create_dev_pki

    pki = create_dev_pki(tmp_path / "pki", organisation="Test Org", passphrase=PASSPHRASE)
    settings.DEBUG = False
    settings.REPORT_SIGNING_P12 = pki["pkcs12_path"]
    settings.REPORT_SIGNING_PASSPHRASE = PASSPHRASE.decode()
    settings.REPORT_TRUST_ROOTS = [pki["ca_cert_path"]]
    settings.REPORT_TSA_URL = ""
    return pki


@pytest.fixture
def audited(credit_system, personas, monkeypatch):
    """Version 1.0.0 with a failed robustness run and a passed privacy run (evidence on their
    controls), a note on one control that has no evidence, and a report row."""
    monkeypatch.setattr("audits.reports.service.report_enqueue", lambda *, report_id: None)
    system, version = credit_system
    for kind, outcome in (("robustness", "fail"), ("privacy", "pass")):
        run = AuditRun.objects.create(
            system=system, version=version, kind=kind, status=RunStatus.SUCCEEDED, outcome=outcome,
            results={}, checks=[], log=f"{kind} audit: {outcome}.", progress=100,
            started_at=timezone.now(), finished_at=timezone.now())
        evidence_record(system=system, kind=kind, outcome=outcome, summary=run.log, audit_run=run)
    ControlAssessment.objects.filter(system=system, control__ref="GOVERN 1.2").update(
        notes="Owned by the group's AI policy board; reviewed yearly.")
    from audits.reports.models import Report

    report = Report.objects.create(system=system, version=version, created_by=personas["alice"],
                                   report_number="R-2026-0042")
    return Report.objects.select_related("system__owner", "version__parent", "version__train_dataset",
                                         "version__eval_dataset", "created_by").get(pk=report.pk)


def _context(report):
    return report_context(report=report, generated_at=timezone.now())


def test_the_controls_that_need_attention_are_shown_in_full_and_every_other_one_by_reference(audited):
    context = _context(audited)
    html = render_to_string("reports/report.html", context)
    coverage = html[html.index('id="coverage"'):html.index('id="evidence-register"')]

    for fw in context["coverage"]["frameworks"]:
        attention = {c["ref"] for c in fw["attention"]}
        listed = [c["ref"] for g in fw["listed"] for c in g["controls"]]
        # each control once: in full or by reference
        assert sorted(attention) + sorted(listed) == sorted(attention) + sorted(set(listed))
        assert attention | set(listed) == {c["ref"] for c in fw["controls"]} and not attention & set(listed)
        for c in fw["controls"]:
            needs = c["status"] in ("failed", "stale", "in_progress") or bool(c["notes"])
            assert (c["ref"] in attention) == needs, c["ref"]
        for g in fw["listed"]:
            assert {c["status"] for c in g["controls"]} == {g["status"]}
            assert f"{g['label']} ({len(g['controls'])}):" in coverage
    rmf = context["coverage"]["frameworks"][0]
    failed = next(c for c in rmf["attention"] if c["status"] == "failed")
    assert failed["evidence"] and failed["text"] in coverage and ", ".join(failed["evidence"]) in coverage
    noted = next(c for c in rmf["attention"] if c["ref"] == "GOVERN 1.2")
    assert noted["status"] == "not_started" and "Note: Owned by the group&#x27;s AI policy board" in coverage
    quiet = next(c for g in rmf["listed"] if g["status"] == "not_started" for c in g["controls"])
    assert quiet["ref"] in coverage and quiet["text"] not in coverage  # its text is in the attachment
    satisfied = next(c for g in rmf["listed"] if g["status"] == "satisfied" for c in g["controls"])
    assert f"{satisfied['ref']} ({', '.join(satisfied['evidence'])})" in coverage
    assert COVERAGE_CSV_NAME in coverage and "attached to this PDF" in coverage


def test_the_coverage_csv_has_one_row_per_control_as_the_report_states_it(audited):
    context = _context(audited)
    rows = list(csv.DictReader(io.StringIO(coverage_csv(context["coverage"]).decode("utf-8"))))

    controls = [(fw["label"], c) for fw in context["coverage"]["frameworks"] for c in fw["controls"]]
    assert len(rows) == len(controls) == ControlAssessment.objects.filter(system=audited.system).count()
    assert list(rows[0]) == COVERAGE_COLUMNS
    for row, (label, c) in zip(rows, controls):
        assert (row["framework"], row["control"], row["text"], row["status"], row["group"]) == (
            label, c["ref"], c["text"], c["status"], c["group"])
        assert row["evidence"].split() == c["evidence"] and row["notes"] == c["notes"]
    assert {r["framework"] for r in rows} == {"NIST AI RMF 1.0", "ISO/IEC 42001:2023 Annex A"}


def test_the_signed_report_carries_the_coverage_csv_as_a_pdfa3_data_file_and_still_verifies(audited, signing):
    context = _context(audited)
    signed = service.report_sign(report=audited, pdf=service.report_render(report=audited, generated_at=timezone.now()),
                                 config=service.signing_config())
    reader = PdfFileReader(io.BytesIO(signed))

    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert len(names) == 2 and str(names[0]) == COVERAGE_CSV_NAME
    spec = names[1]
    stream = spec["/EF"]["/F"].get_object()
    assert spec["/AFRelationship"] == "/Data" and stream["/Subtype"] == "/text/csv"
    assert "R-2026-0042" in str(spec["/Desc"])
    assert [f.get_object()["/UF"] for f in reader.root["/AF"]] == [COVERAGE_CSV_NAME]
    assert stream.data == coverage_csv(context["coverage"])
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    roots = [open(signing["ca_cert_path"], "rb").read()]
    assert verify_pdf(signed, trust_roots=roots).status == "valid"


def test_pdfsig_finds_the_signature_of_a_report_with_its_attachment_valid(audited, signing, tmp_path):
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(service.report_sign(report=audited, config=service.signing_config(),
                                         pdf=service.report_render(report=audited, generated_at=timezone.now())))

    outside = pdfsig_check(path)
    assert outside["signatures"] == 1 and outside["signature_valid"] and outside["total_document_signed"]


def test_a_note_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    control = {"group": "GOVERN", "group_title": "Govern", "ref": "GOVERN 1.1", "text": "Legal requirements.",
               "status": "in_progress", "status_label": "In progress", "evidence": []}
    coverage = {"frameworks": [{"label": "NIST AI RMF 1.0", "controls": [
        {**control, "notes": '=HYPERLINK("http://example.com","x")'}, {**control, "notes": "-1 day late"},
        {**control, "notes": "Reviewed = fine"}]}]}

    rows = list(csv.DictReader(io.StringIO(coverage_csv(coverage).decode("utf-8"))))

    assert [r["notes"] for r in rows] == ["'=HYPERLINK(\"http://example.com\",\"x\")", "'-1 day late", "Reviewed = fine"]
