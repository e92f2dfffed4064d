"""HTML -> archival PDF (PDF/A) with the Typst typesetter.

The report template (owned by the Django side) renders to an HTML string; this module turns it
into PDF bytes and nothing else, so it can be timed, tested and reused without Django.
``typst_markup`` writes the HTML as Typst markup, ``report.typ`` gives it its look, and Typst
(a compiled typesetter, bundled in its wheel: no system library) lays it out and writes the
PDF/A file.

Why Typst: the report used to be laid out by WeasyPrint, which took 0.06–0.09 s of CPU per page
here (2.8–3.9 s for the demo's 44 pages), nearly all of it table layout, line breaking and
drawing in Python, with nothing left that a cache could keep. Typst does the same document in a
small fraction of that (BENCHMARKS.md).

PDF/A notes (what keeps the output valid):

* Typst's PDF/A export (``pdf_standards``) writes the ``pdfaid`` XMP identification, an sRGB
  output intent and the file identifier, embeds (subsets of) every font it uses, and refuses
  what the standard forbids with an error, not a silently non-conforming file.
* Title, author, subject, keywords and creation date go to both the Info dictionary and the
  XMP packet, so the two stay equivalent, as PDF/A requires.
* Attachments are PDF/A-3 associated files of the document (``/AF`` with their
  ``/AFRelationship``); PDF/A-2 allows only PDF files, so they are refused there.
* Signing later appends an incremental update; ``signing.py`` keeps the XMP identification and
  the Info/XMP equivalence intact.

Fonts: system fonts only (DejaVu Sans and Sans Mono; Typst's own when they are missing); one
compiler per process keeps what it has loaded of them between reports.
"""

from __future__ import annotations

import mimetypes
import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import typst

from audits.reports.typst_markup import html_to_typst, string

SUPPORTED_VARIANTS = ("pdf/a-2b", "pdf/a-2u", "pdf/a-3b", "pdf/a-3u")

UNSUPPORTED_VARIANT = (
    "variant must be one of " + ", ".join(SUPPORTED_VARIANTS) + "."
)
HTML_NOT_STRING = "html must be a non-empty string."
CREATED_NOT_AWARE = "created must be a timezone-aware datetime or a W3C date string."
# The relationships PDF/A-3 (ISO 19005-3, 6.8) allows an associated file to have.
AF_RELATIONSHIPS = ("Source", "Data", "Alternative", "Supplement", "Unspecified")
ATTACHMENTS_NOT_FILES = "attachments must be a sequence of PdfAttachment."
ATTACHMENTS_NEED_PDFA3 = "attachments need a PDF/A-3 variant (pdf/a-3b or pdf/a-3u); PDF/A-2 embeds PDF files only."
ATTACHMENT_INVALID = (
    "attachment {name!r}: needs a file name, bytes, and a relationship among " + ", ".join(AF_RELATIONSHIPS) + "."
)
RENDER_FAILED = "The report could not be typeset: {message}"

# The report's look, read once per process like the template it styles.
STYLE = Path(__file__).with_name("report.typ").read_text(encoding="utf-8")
_LANG = re.compile(r"^([a-z]{2,3})(?:[-_]([A-Za-z]{2}))?$")


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as a PDF/A-3 associated file of the document.

    ``relationship`` is its /AFRelationship: "Data" for the data a table or chart of the
    document is drawn from, "Source" for the file the document was made from, and so on.
    The media type comes from the name's extension (``.csv``: text/csv).
    """

    name: str
    data: bytes
    description: str = ""
    relationship: str = "Data"


# One compiler per process: Typst finds and loads fonts once, not once per report. Compiles
# that share it take turns (a Celery worker process renders one report at a time anyway).
_RENDER_LOCK = threading.Lock()
_compiler = None


def _shared_compiler():
    global _compiler
    if _compiler is None:
        # An empty root: the markup reads no file (all text is string literals, images are
        # inline), and even a file name that slipped in would resolve to nothing.
        _compiler = typst.Compiler(root=tempfile.mkdtemp(prefix="report-typst-"))
    return _compiler


def _created(created):
    if created is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    if isinstance(created, str):
        try:
            created = datetime.fromisoformat(created)
        except ValueError:
            raise ValueError(CREATED_NOT_AWARE) from None
    if not isinstance(created, datetime) or created.utcoffset() is None:
        raise ValueError(CREATED_NOT_AWARE)
    return created.astimezone(timezone.utc).replace(microsecond=0)


def _check(html, variant, attachments):
    if not isinstance(html, str) or not html.strip():
        raise ValueError(HTML_NOT_STRING)
    if variant not in SUPPORTED_VARIANTS:
        raise ValueError(UNSUPPORTED_VARIANT)
    if not isinstance(attachments, (list, tuple)) or not all(isinstance(a, PdfAttachment) for a in attachments):
        raise ValueError(ATTACHMENTS_NOT_FILES)
    if attachments and not variant.startswith("pdf/a-3"):
        raise ValueError(ATTACHMENTS_NEED_PDFA3)
    for a in attachments:
        if not (isinstance(a.name, str) and a.name.strip() and "/" not in a.name and isinstance(a.data, bytes)
                and a.relationship in AF_RELATIONSHIPS):
            raise ValueError(ATTACHMENT_INVALID.format(name=a.name))


def render_pdf(
    html,
    *,
    variant="pdf/a-3b",
    title=None,
    author=None,
    subject=None,
    keywords=(),
    created=None,
    lang=None,
    header=None,
    attachments=(),
):
    """Render an HTML string to PDF/A bytes.

    Metadata passed here overrides what the HTML's <title> and <html lang> say; ``created`` (a
    timezone-aware datetime or a W3C date string; now if None) is the document's creation date,
    so the same HTML and date give the same file. ``header`` is a line printed at the top of
    every page. The footer reads "Report <id>" (the value of the element marked
    ``data-report-id``) on every page but the first, and "Page X of Y". ``attachments``
    (PdfAttachment) are embedded as associated files of the document, which PDF/A-3 allows;
    PDF/A-2 does not, so they are refused with a PDF/A-2 variant.
    """
    _check(html, variant, attachments)
    created = _created(created)
    document = html_to_typst(html)
    source = "\n".join([
        STYLE,
        _document_settings(document, title=title, author=author, subject=subject, keywords=keywords, lang=lang),
        *(_attachment(a) for a in attachments),
        f"#show: report.with(report-id: {_optional(document.report_id)}, header: {_optional(header)})",
        document.markup,
    ])
    with _RENDER_LOCK:
        try:
            return _shared_compiler().compile(input=source.encode("utf-8"), format="pdf",
                                              pdf_standards=variant.removeprefix("pdf/"), timestamp=created)
        except typst.TypstError as error:
            raise RuntimeError(RENDER_FAILED.format(message=error.message)) from error


def _optional(text):
    return "none" if text is None else string(text)


def _document_settings(document, *, title, author, subject, keywords, lang):
    keywords = [keywords] if isinstance(keywords, str) else list(keywords)
    fields = [f"title: {string(title if title is not None else document.title)}"]
    if author:
        fields.append(f"author: {string(author)}")
    if subject:
        fields.append(f"description: {string(subject)}")
    if keywords:
        fields.append("keywords: (" + "".join(string(str(k)) + ", " for k in keywords) + ")")
    settings = [f"#set document({', '.join(fields)})"]
    match = _LANG.match(lang or document.lang or "")
    if match:
        region = f", region: {string(match.group(2).upper())}" if match.group(2) else ""
        settings.append(f"#set text(lang: {string(match.group(1))}{region})")
    return "\n".join(settings)


def _attachment(attachment):
    try:
        data = f"bytes({string(attachment.data.decode('utf-8'))})"
    except UnicodeDecodeError:
        data = "bytes((" + ", ".join(map(str, attachment.data)) + ",))"
    media_type = mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
    return (f"#pdf.attach({string(attachment.name)}, {data}, relationship: {string(attachment.relationship.lower())}, "
            f"mime-type: {string(media_type)}, description: {string(attachment.description)})")
