"""Signed reports, the Django side: generate (row + task), build (render, sign, store), verify.

report_generate writes the Report row first and enqueues the build on commit, on the `cpu`
queue (the database is the truth, the broker only a signal). report_build claims the row
with a conditional UPDATE (a redelivered message does nothing twice), renders the PDF/A
from stored results only (see context.py), certifies it with the organisation's key, checks
that its own verifier accepts the result, then stores file, sha256 and signer fingerprint,
supersedes the version's previous report, records "report" evidence and appends to the
audit trail, all in one transaction. A failure leaves a "failed" row with its message and
no file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Length
from django.template.loader import render_to_string
from django.utils import timezone

from audits.reports.attachments import COVERAGE_DESCRIPTION, coverage_csv
from audits.reports.context import report_context
from audits.reports.models import Report, ReportStatus
from audits.reports.signing import DEV_LABEL, create_dev_pki, is_development_signer, sign_pdf
from audits.reports.verify import verify_pdf
from governance.catalog.evidence import evidence_record
from governance.core.exceptions import ApplicationError, ConflictError
from governance.core.heartbeat import Heartbeat
from governance.core.roles import require
from governance.core.storage import object_create, object_delete
from governance.registry.models import ModelVersion
from governance.trail.services import trail_append

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
# A build that has not finished after this long was abandoned by its worker.
STALE_AFTER = timedelta(minutes=15)
MAX_VERIFY_BYTES = 50 * 1024 * 1024

# Printed at the top of every page of a report signed with the development certificate.
DEVELOPMENT_HEADER = "DEVELOPMENT SIGNER \u2014 NOT FOR REGULATORS"
SIGNING_NOT_CONFIGURED = (
    "Report signing is not configured: set REPORT_SIGNING_P12 to the organisation's PKCS#12 file and "
    "REPORT_SIGNING_PASSPHRASE (or REPORT_SIGNING_PASSPHRASE_FILE) to its passphrase. The development "
    "certificate under var/pki is used only when DEBUG is on."
)
SIGNING_FILE_MISSING = "REPORT_SIGNING_P12 points to {path}, which does not exist or is not a file."
PASSPHRASE_WITHOUT_FILE = "REPORT_SIGNING_P12 ({path}) needs REPORT_SIGNING_PASSPHRASE; none is set."
ALREADY_GENERATING = "Report {number} for this version is being generated; wait for it to finish."
SELF_CHECK_FAILED = "The signed report does not verify against REPORT_TRUST_ROOTS ({status}: {message})"
ABANDONED = "Abandoned: the build did not finish within {minutes} minutes."
WORKER_LOST = "Abandoned: the worker building this report stopped answering, {times} times."
VERIFY_NO_FILE = "Upload the PDF file to verify."
VERIFY_TOO_LARGE = "The file is {size:,} bytes; reports are verified up to {limit:,} bytes."
MSG_VALID_UNRECORDED = (
    "The signature is valid and trusted, but no report in this registry has this file's SHA-256: "
    "it was not issued here."
)
MSG_RECORD_SIGNER = "The file matches report {number}, but it was signed by a different certificate than recorded."
DEV_README = f"""{DEV_LABEL}

This folder holds a development certificate authority and report-signing certificate that
`make demo` generated for this machine. Reports signed with it prove nothing to anyone else.
In production set REPORT_SIGNING_P12, REPORT_SIGNING_PASSPHRASE and REPORT_TRUST_ROOTS to
the organisation's own certificate (see .env.example); with DEBUG off this folder is ignored.
"""
_REPORT_NUMBER = re.compile(r"R-\d{4}-\d{4,}")
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


class SigningNotConfigured(ApplicationError):
    status_code = 503


class TransientReportError(Exception):
    """A passing problem (database): the task retries."""


# ---------------------------------------------------------------- signing configuration


@dataclass(frozen=True)
class SigningConfig:
    pkcs12_path: Path
    passphrase: bytes
    tsa_url: str | None
    development: bool


def _dev_passphrase(directory: Path) -> bytes:
    """The generated development passphrase, created once (never a hard-coded secret)."""
    path = directory / "dev-passphrase.txt"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    return value.encode()


def dev_pki_ensure() -> dict:
    """Create (or reuse) the development CA and signer under REPORT_DEV_PKI_DIR."""
    directory = Path(settings.REPORT_DEV_PKI_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    readme = directory / "README-DEVELOPMENT-ONLY.txt"
    if not readme.exists():
        readme.write_text(DEV_README, encoding="utf-8")
    passphrase = _dev_passphrase(directory)
    info = create_dev_pki(directory, organisation=settings.REPORT_ORGANISATION[:64], passphrase=passphrase)
    return {**info, "passphrase": passphrase}


def signing_config() -> SigningConfig:
    path = Path(settings.REPORT_SIGNING_P12)
    tsa = settings.REPORT_TSA_URL or None
    passphrase = settings.REPORT_SIGNING_PASSPHRASE
    if passphrase:
        if not path.is_file():
            raise SigningNotConfigured(SIGNING_FILE_MISSING.format(path=path))
        return SigningConfig(path, passphrase.encode("utf-8"), tsa, False)
    if not settings.DEBUG:
        raise SigningNotConfigured(SIGNING_NOT_CONFIGURED)
    dev_path = Path(settings.REPORT_DEV_PKI_DIR) / "signer.p12"
    if path.resolve() != dev_path.resolve():
        raise SigningNotConfigured(PASSPHRASE_WITHOUT_FILE.format(path=path))
    info = dev_pki_ensure()
    return SigningConfig(Path(info["pkcs12_path"]), info["passphrase"], tsa, True)


def trust_roots(setting: str = "REPORT_TRUST_ROOTS") -> list[bytes]:
    """The PEM files of REPORT_TRUST_ROOTS that exist (none: nothing is trusted)."""
    roots = []
    for name in getattr(settings, setting):
        path = Path(name)
        if path.is_file():
            roots.append(path.read_bytes())
        else:
            log.warning("%s: %s does not exist", setting, path)
    return roots


def _verify(data: bytes):
    roots = trust_roots()
    # A TSA's timestamp certificates chain to the TSA's own root, not to the organisation's.
    return verify_pdf(data, trust_roots=roots, timestamp_trust_roots=roots + trust_roots("REPORT_TSA_TRUST_ROOTS"))


# ---------------------------------------------------------------- generate


def _next_number(now) -> str:
    prefix = f"R-{now.year}-"
    last = (Report.objects.filter(report_number__startswith=prefix)
            .order_by(Length("report_number").desc(), "-report_number")
            .values_list("report_number", flat=True).first())
    return f"{prefix}{int(last.rsplit('-', 1)[1]) + 1 if last else 1:04d}"


def _abandon_stale(version) -> None:
    now = timezone.now()
    # A backstop for an installation without beat; a build whose worker still beats is not abandoned.
    alive = now - timedelta(seconds=settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS)
    Report.objects.filter(version=version, status=ReportStatus.GENERATING, created_at__lt=now - STALE_AFTER).exclude(
        heartbeat_at__gte=alive).update(
        status=ReportStatus.FAILED, error=ABANDONED.format(minutes=int(STALE_AFTER.total_seconds() // 60)))


def report_generate(*, actor, version: ModelVersion) -> Report:
    """Write the report row and enqueue its build once the row is committed."""
    # Who may ask for a report: the same people who may request the audits it reports.
    require(actor, "report.generate", version.system)
    signing_config()  # a report that cannot be signed is refused now, not in the worker
    _abandon_stale(version)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                busy = (Report.objects.select_for_update().filter(version=version, status=ReportStatus.GENERATING)
                        .values_list("report_number", flat=True).first())
                if busy:
                    raise ConflictError(ALREADY_GENERATING.format(number=busy), field="version")
                report = Report(system=version.system, version=version, created_by=actor,
                                report_number=_next_number(timezone.now()))
                report.full_clean(exclude=["file"])
                report.save()
                transaction.on_commit(lambda: report_enqueue(report_id=report.pk), robust=True)
            return report
        except IntegrityError:  # two requests took the same number: take the next one
            continue
    raise ConflictError("Could not allocate a report number; try again.")


def report_enqueue(*, report_id) -> bool:
    """Send the build's message. A broker that is down is logged, not raised: the row is
    committed, and the sweeper sends a report that has no `enqueued_at`."""
    from audits.reports.tasks import build_report  # the task module imports this one

    try:
        build_report.apply_async(args=[str(report_id)], queue="cpu")
    except Exception:  # noqa: BLE001 - any broker failure: the sweeper delivers later
        log.warning("could not enqueue report %s; the sweeper will send it", report_id, exc_info=True)
        return False
    Report.objects.filter(pk=report_id).update(enqueued_at=timezone.now())
    return True


def reports_sweep(*, now=None) -> dict:
    """Deliver what the broker did not take, and take back builds whose worker died.

    Same rules as the audit runs' sweeper (audits/runs/services.py): a report never sent is sent
    after AUDIT_UNSENT_GRACE_SECONDS, one sent but not started after AUDIT_STALE_QUEUED_SECONDS;
    a build whose heartbeat is older than AUDIT_HEARTBEAT_TIMEOUT_SECONDS is released and sent
    again, or failed after AUDIT_MAX_ATTEMPTS (which frees its version for a new report)."""
    now = now or timezone.now()
    dead = now - timedelta(seconds=settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS)
    generating = Report.objects.filter(status=ReportStatus.GENERATING)
    resend, failed = [], []
    for report in generating.filter(started_at__isnull=False, heartbeat_at__lt=dead):
        if report.attempts + 1 >= settings.AUDIT_MAX_ATTEMPTS:
            report_fail(report_id=report.pk, message=WORKER_LOST.format(times=report.attempts + 1))
            failed.append(report.pk)
        elif generating.filter(pk=report.pk, heartbeat_at__lt=dead).update(
                started_at=None, heartbeat_at=None, attempts=report.attempts + 1):
            resend.append(report.pk)
    unsent = now - timedelta(seconds=settings.AUDIT_UNSENT_GRACE_SECONDS)
    lost = now - timedelta(seconds=settings.AUDIT_STALE_QUEUED_SECONDS)
    resend += list(generating.filter(started_at__isnull=True).exclude(pk__in=resend).filter(
        Q(enqueued_at__isnull=True, created_at__lt=unsent) | Q(enqueued_at__lt=lost)).values_list("pk", flat=True))
    sent = [pk for pk in resend if report_enqueue(report_id=pk)]
    return {"requeued": [str(pk) for pk in resend], "sent": len(sent), "failed": [str(pk) for pk in failed]}


def report_beat(*, report_id, started_at) -> bool:
    """The building worker's heartbeat: only the build that started at `started_at` beats."""
    return bool(Report.objects.filter(pk=report_id, status=ReportStatus.GENERATING, started_at=started_at).update(
        heartbeat_at=timezone.now()))


# ---------------------------------------------------------------- build


def report_render(*, report: Report, generated_at) -> bytes:
    """The unsigned PDF/A-3b of ``report``, from stored results only."""
    from audits.reports.pdf import PdfAttachment, render_pdf  # typst: loaded by workers only

    context = report_context(report=report, generated_at=generated_at)
    try:  # a development signer marks every page, so the PDF cannot pass for the organisation's
        config = signing_config()
        context["development_signer"] = is_development_signer(config.pkcs12_path, config.passphrase)
    except SigningNotConfigured:
        context["development_signer"] = False
    html = render_to_string("reports/report.html", context)
    return render_pdf(
        html, variant="pdf/a-3b", lang="en", created=generated_at,
        title=f"Audit report {report.report_number}: {report.system.name} {report.version.version}",
        author=settings.REPORT_ORGANISATION,
        subject=f"Signed audit report for {report.system.name} ({report.system.slug}) version {report.version.version}",
        keywords=["AI audit report", "NIST AI RMF 1.0", "ISO/IEC 42001:2023", report.report_number],
        header=DEVELOPMENT_HEADER if context["development_signer"] else None,
        # The full per-control table, which the coverage section summarises (attachments.py).
        attachments=[PdfAttachment(name=context["coverage"]["attachment"], data=coverage_csv(context["coverage"]),
                                   description=COVERAGE_DESCRIPTION.format(number=report.report_number),
                                   relationship="Data")],
    )


def report_sign(*, report: Report, pdf: bytes, config: SigningConfig) -> bytes:
    return sign_pdf(
        pdf, pkcs12_path=config.pkcs12_path, passphrase=config.passphrase, tsa_url=config.tsa_url,
        reason=f"Certified audit report {report.report_number}; no changes allowed",
        signer_name=settings.REPORT_ORGANISATION, location=settings.SITE_URL,
    )


def _page_count(pdf: bytes) -> int | None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - the count is informational only
        return None


def report_build(*, report_id) -> str:
    """Render, sign and store one report. Returns its final status, or "skipped"."""
    now = timezone.now()
    # A redelivered message for a build whose worker died (no heartbeat) takes it back.
    dead = now - timedelta(seconds=settings.AUDIT_HEARTBEAT_TIMEOUT_SECONDS)
    claimable = Q(started_at__isnull=True) | Q(heartbeat_at__lt=dead, attempts__lt=settings.AUDIT_MAX_ATTEMPTS - 1)
    if not Report.objects.filter(claimable, pk=report_id, status=ReportStatus.GENERATING).update(
            started_at=now, heartbeat_at=now,
            attempts=Case(When(started_at__isnull=True, then=F("attempts")), default=F("attempts") + 1)):
        return "skipped"
    report = Report.objects.select_related(
        "system__owner", "version__parent", "version__train_dataset", "version__eval_dataset", "created_by",
    ).get(pk=report_id)
    try:
        config = signing_config()
        with Heartbeat(lambda: report_beat(report_id=report_id, started_at=now),
                       interval=settings.AUDIT_HEARTBEAT_INTERVAL_SECONDS, name=f"heartbeat-{report_id}"):
            signed = report_sign(report=report, pdf=report_render(report=report, generated_at=now), config=config)
        check = _verify(signed)
        if check.status != "valid":
            raise ApplicationError(SELF_CHECK_FAILED.format(status=check.status, message=check.message))
    except TRANSIENT as exc:
        Report.objects.filter(pk=report_id, status=ReportStatus.GENERATING).update(started_at=None)
        raise TransientReportError(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - any failure fails this report, with its message
        log.exception("report %s failed", report.report_number)
        report_fail(report_id=report_id, message=getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        return ReportStatus.FAILED
    try:
        # Written once, under its number and sha256 (numbers start again with a new database; the
        # bucket may outlive it): a signed file already under this key is never replaced.
        path = object_create(name=f"reports/{report.report_number}-{hashlib.sha256(signed).hexdigest()}.pdf",
                             content=io.BytesIO(signed))
    except ConflictError as exc:
        report_fail(report_id=report_id, message=exc.message)
        return ReportStatus.FAILED
    try:
        _finish(report_id=report_id, path=path, signed=signed, check=check)
    except Exception as exc:
        object_delete(path)  # nothing half-written: no signed row without its file, no orphan file
        if isinstance(exc, TRANSIENT):
            Report.objects.filter(pk=report_id, status=ReportStatus.GENERATING).update(started_at=None)
            raise TransientReportError(str(exc)) from exc
        report_fail(report_id=report_id, message=f"Could not store the signed report: {exc}")
        raise
    return ReportStatus.SIGNED


@transaction.atomic
def _finish(*, report_id, path: str, signed: bytes, check) -> Report:
    # of=self: PostgreSQL cannot lock the nullable side of the outer join to created_by.
    report = (Report.objects.select_for_update(of=("self",)).select_related("system", "version", "created_by")
              .get(pk=report_id))
    now = timezone.now()
    report.status = ReportStatus.SIGNED
    report.file.name = path
    report.sha256 = hashlib.sha256(signed).hexdigest()
    report.signer_fingerprint = check.signer_fingerprint
    report.signer_subject = (check.signer_subject or "")[:300]
    report.page_count = _page_count(signed)
    report.size_bytes = len(signed)
    report.signed_at = now
    report.error = ""
    report.full_clean(exclude=["file"], validate_unique=False)
    report.save()
    earlier = (Report.objects.select_for_update()
               .filter(version=report.version, status=ReportStatus.SIGNED, superseded_by__isnull=True,
                       signed_at__lte=now).exclude(pk=report.pk))
    superseded = []
    for old in earlier:
        old.superseded_by = report
        old.save(update_fields=["superseded_by"])
        superseded.append(old.report_number)
    evidence_record(
        system=report.system, kind="report", outcome="pass", link=f"/reports/{report.pk}/download/",
        version=report.version, actor=report.created_by,
        summary=(f"Signed report {report.report_number} for version {report.version.version} "
                 f"({report.page_count or '?'} pages, sha256 {report.sha256[:16]}…) documents the test sets, "
                 "metrics, tools, results and provenance of its audits."),
    )
    trail_append(actor=report.created_by, action="report.signed", obj=report, seal=[report], payload={
        "report_number": report.report_number, "version": str(report.version_id), "sha256": report.sha256,
        "signer_fingerprint": report.signer_fingerprint, "supersedes": superseded,
    })
    return report


def report_fail(*, report_id, message: str) -> None:
    Report.objects.filter(pk=report_id, status=ReportStatus.GENERATING).update(
        status=ReportStatus.FAILED, error=message[:5000])


# ---------------------------------------------------------------- verify


def _read_upload(upload) -> bytes:
    if upload is None:
        raise ApplicationError(VERIFY_NO_FILE, field="file")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_VERIFY_BYTES:
        raise ApplicationError(VERIFY_TOO_LARGE.format(size=size, limit=MAX_VERIFY_BYTES), field="file")
    data = upload if isinstance(upload, (bytes, bytearray)) else upload.read(MAX_VERIFY_BYTES + 1)
    if len(data) > MAX_VERIFY_BYTES:
        raise ApplicationError(VERIFY_TOO_LARGE.format(size=len(data), limit=MAX_VERIFY_BYTES), field="file")
    if not data:
        raise ApplicationError("The file is empty.", field="file")
    return bytes(data)


def _signed_revision_sha256(data: bytes) -> str | None:
    """SHA-256 of the bytes up to the end of the first signature's byte range (the signed file)."""
    match = _BYTE_RANGE.search(data)
    if not match:
        return None
    start, length = int(match.group(3)), int(match.group(4))
    end = start + length
    return hashlib.sha256(data[:end]).hexdigest() if 0 < end < len(data) else None


def _claimed_numbers(data: bytes) -> set[str]:
    """Report numbers named in the signatures' /Reason ("Certified audit report R-2026-0007; ...")."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        reasons = " ".join(str(sig.sig_object.get("/Reason", "")) for sig in reader.embedded_signatures)
    except Exception:  # noqa: BLE001 - a file too broken to read claims nothing
        return set()
    return set(_REPORT_NUMBER.findall(reasons))


def _match_record(data: bytes, sha256: str) -> tuple[Report | None, str]:
    """Which report the file is: by its sha256; or, for a changed file, by its signed revision or by the
    report number written in it (what the file claims to be)."""
    signed = Report.objects.filter(status=ReportStatus.SIGNED).select_related("system", "version", "superseded_by")
    record = signed.filter(sha256=sha256).first()
    if record:
        return record, "sha256"
    prefix = _signed_revision_sha256(data)
    record = signed.filter(sha256=prefix).first() if prefix else None
    if record:
        return record, "signed_revision"
    numbers = _claimed_numbers(data)
    record = signed.filter(report_number__in=sorted(numbers)).first() if numbers else None
    return (record, "report_number") if record else (None, "")


def report_verify(*, upload) -> dict:
    """valid / invalid / tampered / unknown, and which report record the file is."""
    data = _read_upload(upload)
    result = _verify(data).to_dict()
    record, matched_by = _match_record(data, result["sha256"])
    if result["status"] == "valid" and matched_by != "sha256":
        result.update(status="unknown", message=MSG_VALID_UNRECORDED)
        record, matched_by = None, ""
    elif result["status"] == "valid" and record.signer_fingerprint != result["signer_fingerprint"]:
        result.update(status="invalid", message=MSG_RECORD_SIGNER.format(number=record.report_number))
    return {**result, "report": record, "matched_by": matched_by}


def report_ensure(*, actor, version: ModelVersion) -> Report:
    """The version's current or in-progress report, or a new one (idempotent, for the demo)."""
    existing = (Report.objects.filter(version=version).exclude(status=ReportStatus.FAILED)
                .filter(superseded_by__isnull=True).order_by("-created_at").first())
    return existing or report_generate(actor=actor, version=version)
