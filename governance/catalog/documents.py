"""Documentary evidence: a policy, procedure or record, or a written attestation, attached to
one or more controls of a system until its review-by date.

Most controls (policies, roles, resources, impact assessments, suppliers, communication,
incidents) are not spoken to by any audit; a document keeps them current instead. Like all
evidence it is append-only: the document row and one evidence row per control, sealed in
the trail; a new version of the document is a new row that supersedes the old one (and its
evidence rows), never an edit. Its evidence passes until the end of its review-by day, then
counts as expired and the control goes stale (catalog/evidence.py, catalog/freshness.py).
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from governance.catalog.evidence import assessment_status_refresh
from governance.catalog.models import ControlAssessment, DocumentKind, Evidence, EvidenceDocument, EvidenceOutcome
from governance.catalog.sniff import DocumentRefused, sniff
from governance.core.exceptions import ApplicationError, ConflictError
from governance.core.roles import require, user_roles
from governance.registry.uploads import stored, validation_error
from governance.trail.services import actor_label, trail_append

TOO_LARGE = "file: the document is {size:,} bytes; the limit is {limit:,} bytes (DOCUMENT_MAX_BYTES)."
NEEDS_FILE = "file: attach the document (PDF, DOCX, Markdown or plain text)."
EMPTY_FILE = "file: the document is empty."
NEEDS_TEXT = "text: write the attestation (at least {n} characters)."
FILE_AND_TEXT = "file: an attestation is its text; do not attach a file to it."
BAD_KIND = "kind must be one of: {choices}."
NEEDS_TITLE = "title: name the document (for example 'AI policy v3')."
BAD_DATES = "review_by: the review-by date must come after the effective date ({effective})."
OWNER_INACTIVE = "owner: {name} cannot own a document: the account is inactive or has no role."
NO_CONTROLS = "controls: choose at least one control of this system."
OTHER_SYSTEM = "controls: {ref} is not a control of {system}."
REPLACED_ELSEWHERE = "replaces: that document belongs to another system."
ALREADY_REPLACED = "This document was replaced already; replace the newest version."
MIN_ATTESTATION = 20
MAX_ATTESTATION = 20000


def _read(upload, *, limit: int) -> bytes:
    """Read an upload within the limit, without reading more than one byte past it."""
    if upload is None:
        raise ApplicationError(NEEDS_FILE, field="file")
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ApplicationError(TOO_LARGE.format(size=size, limit=limit), field="file")
    data = upload if isinstance(upload, bytes) else upload.read(limit + 1)
    if len(data) > limit:
        raise ApplicationError(TOO_LARGE.format(size=len(data), limit=limit), field="file")
    if not data:
        raise ApplicationError(EMPTY_FILE, field="file")
    return data


def valid_until(review_by: datetime.date) -> datetime.datetime:
    """A document is current to the end of its review-by day (UTC)."""
    return datetime.datetime.combine(review_by + datetime.timedelta(days=1), datetime.time.min,
                                     tzinfo=datetime.timezone.utc)


def _check(*, actor, system, assessments, kind, title, effective_on, review_by, owner, text, upload):
    if kind not in DocumentKind.values:
        raise ApplicationError(BAD_KIND.format(choices=", ".join(DocumentKind.values)), field="kind")
    if not assessments:
        raise ApplicationError(NO_CONTROLS, field="controls")
    for a in assessments:
        if a.system_id != system.pk:
            raise ApplicationError(OTHER_SYSTEM.format(ref=a.control.ref, system=system.name), field="controls")
        require(actor, "document.attach", system, assessment=a)
    if not (title or "").strip():
        raise ApplicationError(NEEDS_TITLE, field="title")
    if review_by <= effective_on:
        raise ApplicationError(BAD_DATES.format(effective=effective_on.isoformat()), field="review_by")
    if owner is None or not (owner.is_active and user_roles(owner)):
        raise ApplicationError(OWNER_INACTIVE.format(name=owner.get_username() if owner else "nobody"), field="owner")
    if kind == DocumentKind.ATTESTATION:
        if upload is not None:
            raise ApplicationError(FILE_AND_TEXT, field="file")
        if not (MIN_ATTESTATION <= len((text or "").strip()) <= MAX_ATTESTATION):
            raise ApplicationError(NEEDS_TEXT.format(n=MIN_ATTESTATION), field="text")


def document_attach(*, actor, system, assessments: list[ControlAssessment], kind: str, title: str,
                    effective_on: datetime.date, review_by: datetime.date, owner, upload=None, filename: str = "",
                    text: str = "", replaces: EvidenceDocument | None = None) -> EvidenceDocument:
    """Attach a document (`upload`, checked by its content) or a written attestation (`text`)
    to the controls of `assessments` (one system's), with one evidence row per control.

    `replaces`: a new version of a document; it also covers every control the old one
    covered, and its rows supersede the old ones. The compliance officer may attach to any
    control, a control's owner to the controls they own (core/roles.py). Everything is checked
    before anything is stored: on a refusal no row and no file is left."""
    assessments = list(assessments)
    if replaces is not None:
        if replaces.system_id != system.pk:
            raise ApplicationError(REPLACED_ELSEWHERE, field="replaces")
        old_rows = _current_rows(replaces)
        have = {a.pk for a in assessments}
        assessments += [row.assessment for row in old_rows if row.assessment_id not in have]
    _check(actor=actor, system=system, assessments=assessments, kind=kind, title=title, effective_on=effective_on,
           review_by=review_by, owner=owner, text=text, upload=upload)
    data, found = b"", None
    if kind == DocumentKind.DOCUMENT:
        limit = settings.DOCUMENT_MAX_BYTES
        data = _read(upload, limit=limit)
        filename = (filename or getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200]
        try:
            found = sniff(data, name=filename, max_inflated=10 * limit)
        except DocumentRefused as exc:
            raise ApplicationError(str(exc), field="file") from None
    sha = hashlib.sha256(data if found else text.strip().encode("utf-8")).hexdigest()
    with transaction.atomic():
        if replaces is not None:
            # Under the lock, so two replacements of one version cannot both win.
            EvidenceDocument.objects.select_for_update().filter(pk=replaces.pk).get()
            if EvidenceDocument.objects.filter(supersedes=replaces).exists():
                raise ConflictError(ALREADY_REPLACED)
        if found:
            with stored("documents", sha, found.extension, data) as path:
                return _write(actor=actor, system=system, assessments=assessments, kind=kind, title=title.strip(),
                              effective_on=effective_on, review_by=review_by, owner=owner, sha=sha, replaces=replaces,
                              file=path, filename=filename, content_type=found.content_type, size_bytes=len(data))
        return _write(actor=actor, system=system, assessments=assessments, kind=kind, title=title.strip(),
                      effective_on=effective_on, review_by=review_by, owner=owner, sha=sha, replaces=replaces,
                      text=text.strip(), content_type="text/plain; charset=utf-8", size_bytes=len(text.strip().encode()))


def _current_rows(document: EvidenceDocument) -> list[Evidence]:
    """The document's evidence rows that nothing superseded yet."""
    return list(document.evidence.exclude(pk__in=Evidence.objects.filter(supersedes__isnull=False).values("supersedes"))
                .select_related("assessment__control"))


def _write(*, actor, system, assessments, replaces, sha, **fields) -> EvidenceDocument:
    doc = EvidenceDocument(system=system, sha256=sha, supersedes=replaces, recorded_by=actor_label(actor), **fields)
    try:
        doc.full_clean(exclude=["file"])
    except ValidationError as exc:
        raise validation_error(exc) from None
    doc.save()
    previous = {row.assessment_id: row for row in _current_rows(replaces)} if replaces is not None else {}
    until = valid_until(doc.review_by)
    label = "Attestation" if doc.kind == DocumentKind.ATTESTATION else "Document"
    summary = f"{label} \u201c{doc.title}\u201d (sha256 {sha[:12]}\u2026), effective {doc.effective_on}, review by {doc.review_by}."
    link = reverse("document-download", args=[doc.pk])
    locked = {a.pk: a for a in ControlAssessment.objects.select_for_update(of=("self",)).select_related("control")
              .filter(pk__in=[a.pk for a in assessments])}
    rows = []
    for pk in sorted(locked, key=lambda pk: (locked[pk].control.framework, locked[pk].control.sort_key)):
        assessment = locked[pk]
        rows.append(Evidence.objects.create(
            assessment=assessment, kind=doc.kind, outcome=EvidenceOutcome.PASS, summary=summary, link=link,
            document=doc, valid_until=until, supersedes=previous.get(pk), recorded_by=doc.recorded_by))
        assessment_status_refresh(assessment, doc.kind)
    trail_append(actor=actor, action="document.attached", obj=system, seal=[doc, *rows], payload={
        "document": str(doc.pk), "kind": doc.kind, "title": doc.title, "sha256": sha,
        "review_by": doc.review_by.isoformat(), "owner": doc.owner.get_username(),
        "replaces": str(replaces.pk) if replaces else None,
        "controls": [r.assessment.control.ref for r in rows]})
    return doc
