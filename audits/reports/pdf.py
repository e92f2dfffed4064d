"""HTML -> archival PDF (PDF/A) with WeasyPrint.

The report template (owned by the Django side) renders to an HTML string;
this module turns it into PDF bytes and nothing else, so it can be timed,
tested and reused without Django.

PDF/A notes (what keeps the output valid):

* WeasyPrint's ``pdf_variant`` writes the ``pdfaid`` XMP identification,
  an sRGB output intent and a file identifier, and always embeds (subsets
  of) the fonts it uses. Only system fonts are used, so nothing is fetched.
* PDF/A-2 and -3 allow transparency when an output intent is present (only
  PDF/A-1 forbids it), so we do not offer PDF/A-1. Our charts draw no
  transparency anyway (see ``charts.py``), which keeps them print-friendly.
* Title, author, subject, keywords and creation date are written by
  WeasyPrint to both the Info dictionary and the XMP packet, so the two
  stay equivalent, as PDF/A requires.
* Signing later appends an incremental update; ``signing.py`` keeps the
  XMP identification and the Info/XMP equivalence intact.

Speed (what a worker process keeps between reports): one FontConfiguration,
so fontconfig and Pango load each font once per process instead of once per
report, and the stylesheets passed as ``stylesheets=`` parsed once per
process and distinct text. The user-agent stylesheet is WeasyPrint's own with
its universal pseudo-element rules (``::marker``, ``::footnote-*``,
``::note-*``) scoped to where they can apply: unscoped, they make WeasyPrint
compute six pseudo-element styles for every element of the document (about
20,000 for the demo report) that no box ever uses. A document that could use
them (footnotes, notes, list items other than <li>) gets the stock sheet.
"""

import io
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML, Attachment
from weasyprint.css.counters import CounterStyle
from weasyprint.html import UA
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from audits.reports import svg_text

SUPPORTED_VARIANTS = ("pdf/a-2b", "pdf/a-2u", "pdf/a-3b", "pdf/a-3u")

UNSUPPORTED_VARIANT = (
    "variant must be one of " + ", ".join(SUPPORTED_VARIANTS) + "."
)
HTML_NOT_STRING = "html must be a non-empty string."
STYLESHEETS_NOT_STRINGS = "stylesheets must be a sequence of CSS strings."
CREATED_NOT_AWARE = "created must be a timezone-aware datetime or a W3C date string."
FILE_URL_REFUSED = "Refusing to fetch a file outside the base directory: {url}"
# The relationships PDF/A-3 (ISO 19005-3, 6.8) allows an associated file to have.
AF_RELATIONSHIPS = ("Source", "Data", "Alternative", "Supplement", "Unspecified")
ATTACHMENTS_NOT_FILES = "attachments must be a sequence of PdfAttachment."
ATTACHMENTS_NEED_PDFA3 = "attachments need a PDF/A-3 variant (pdf/a-3b or pdf/a-3u); PDF/A-2 embeds PDF files only."
ATTACHMENT_INVALID = (
    "attachment {name!r}: needs a file name, bytes, and a relationship among " + ", ".join(AF_RELATIONSHIPS) + "."
)


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as a PDF/A-3 associated file of the document.

    ``relationship`` is its /AFRelationship: "Data" for the data a table or chart of the
    document is drawn from, "Source" for the file the document was made from, and so on.
    WeasyPrint takes the media type from the name's extension (``.csv``: text/csv).
    """

    name: str
    data: bytes
    description: str = ""
    relationship: str = "Data"

# A4 with a running footer: "Report <id>" on the left, "Page X of Y" on the
# right. The template marks one element with data-report-id="..." (for
# example <body data-report-id="R-2025-0007">); string-set copies the value
# into the page margin boxes of every page.
REPORT_CSS_BASE = """
@page {
  size: A4;
  margin: 20mm 18mm 22mm 18mm;
  @bottom-left {
    content: "Report " string(report-id);
    font: 8pt "DejaVu Sans", "Liberation Sans", sans-serif;
    color: #444;
  }
  @bottom-right {
    content: "Page " counter(page) " of " counter(pages);
    font: 8pt "DejaVu Sans", "Liberation Sans", sans-serif;
    color: #444;
  }
}
[data-report-id] { string-set: report-id attr(data-report-id); }
html {
  font-family: "DejaVu Sans", "Liberation Sans", sans-serif;
  font-size: 10pt;
  line-height: 1.4;
  color: #111;
  background: #fff;
}
h1, h2, h3 { break-after: avoid; line-height: 1.2; }
h1 { font-size: 18pt; }
h2 { font-size: 14pt; margin-top: 1.4em; }
h3 { font-size: 11.5pt; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
tr, figure, svg, img, pre { break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
figure { margin: 0 0 10pt 0; }
figcaption { font-size: 8.5pt; color: #333; }
svg { max-width: 100%; height: auto; }
a { color: #0b4f8a; }
.page-break { break-before: page; }
"""


# Words whose presence means a document may need the pseudo-elements that the scoped
# user-agent sheet leaves out: footnotes (float: footnote), notes (position: note()), and
# markers on elements made list items by CSS or <summary>.
_NEEDS_STOCK_UA = re.compile(r"footnote|note\(|list-item|<summary", re.IGNORECASE)
_UNIVERSAL_MARKER = "\n::marker {"
_UNIVERSAL_NOTES = re.compile(r"\n::(?:footnote|note)-[a-z]+ \{[^}]*\}")

# One FontConfiguration per process. Pango's font map is not thread-safe, so renders that
# share it take turns (a Celery worker process renders one report at a time anyway).
_RENDER_LOCK = threading.Lock()
_font_config = None


# Chart labels laid out once per label, not once per letter (svg_text.py).
SVG_TEXT_PER_LABEL = svg_text.install()


def _shared_font_config():
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


@lru_cache(maxsize=1)
def _scoped_ua_stylesheet():
    if UA.count(_UNIVERSAL_MARKER) != 1 or len(_UNIVERSAL_NOTES.findall(UA)) != 5:
        return None  # a WeasyPrint whose sheet reads differently: keep its own
    scoped = _UNIVERSAL_NOTES.sub("", UA.replace(_UNIVERSAL_MARKER, "\nli::marker, summary::marker {"))
    # Its @counter-style rules are the stock sheet's, which WeasyPrint registered when it
    # loaded; registering them again would only log that they exist.
    return CSS(string=scoped, counter_style=CounterStyle())


class _ScopedHTML(HTML):
    """An HTML document rendered with the scoped user-agent stylesheet."""

    def _ua_stylesheets(self, forms=False):
        scoped = _scoped_ua_stylesheet()
        if forms or scoped is None:
            return super()._ua_stylesheets(forms=forms)
        return [scoped]


@lru_cache(maxsize=16)
def _stylesheet(css):
    # Keyed by the CSS text: a changed sheet is a new entry, never a stale one. What it
    # loads while parsing (@import, @font-face) may be data: URLs only: no base directory.
    return CSS(string=css, font_config=_shared_font_config(), url_fetcher=_LocalOnlyFetcher(None))


class _LocalOnlyFetcher(URLFetcher):
    """Fetch data: URLs, and file: URLs under one directory; nothing else.

    Reports are rendered from stored results alone: no network access (no
    SSRF from a URL that slipped into the HTML) and no reading of files
    outside the template's own static directory.
    """

    def __init__(self, root):
        super().__init__(allowed_protocols={"data", "file"})
        self._root = root

    def fetch(self, url, headers=None):
        if url[:5].lower() == "file:":
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if self._root is None or not path.is_relative_to(self._root):
                raise ValueError(FILE_URL_REFUSED.format(url=url))
        return super().fetch(url, headers)


def _base_directory(base_url):
    if base_url is None:
        return None
    if base_url[:5].lower() == "file:":
        base_url = url2pathname(urlsplit(base_url).path)
    elif "://" in base_url:
        return None  # a remote base URL grants no local files
    path = Path(base_url).resolve()
    return path if base_url.endswith(("/", "\\")) or path.is_dir() else path.parent


def _w3c_date(created):
    if created is None or isinstance(created, str):
        return created
    if not isinstance(created, datetime) or created.utcoffset() is None:
        raise ValueError(CREATED_NOT_AWARE)
    return created.isoformat(timespec="seconds")


def render_pdf(
    html,
    *,
    base_url=None,
    variant="pdf/a-3b",
    title=None,
    author=None,
    subject=None,
    keywords=(),
    created=None,
    lang=None,
    stylesheets=(),
    attachments=(),
):
    """Render an HTML string to PDF/A bytes.

    Metadata passed here overrides what the HTML's <title> and <meta>
    elements say. ``base_url`` resolves relative URLs; only files below its
    directory (and data: URLs) are ever read. ``stylesheets`` are CSS
    strings of the user origin (WeasyPrint's ``stylesheets=``): above the
    user agent's, below the document's own <style> and style attributes,
    later ones over earlier ones; each distinct one is parsed once per
    process. Images they name are fetched like the document's own (data:
    URLs, files under the base directory); an @import or @font-face in
    them reads data: URLs only, as a cached sheet outlives any one
    document's base URL. ``attachments`` (PdfAttachment) are embedded as
    associated files of the document (the catalog's /AF, each with its
    /AFRelationship), which PDF/A-3 allows; PDF/A-2 does not (WeasyPrint would
    silently drop them), so they are refused with a PDF/A-2 variant.
    """
    if not isinstance(html, str) or not html.strip():
        raise ValueError(HTML_NOT_STRING)
    if variant not in SUPPORTED_VARIANTS:
        raise ValueError(UNSUPPORTED_VARIANT)
    if not isinstance(stylesheets, (list, tuple)) or not all(isinstance(css, str) for css in stylesheets):
        raise ValueError(STYLESHEETS_NOT_STRINGS)
    if not isinstance(attachments, (list, tuple)) or not all(isinstance(a, PdfAttachment) for a in attachments):
        raise ValueError(ATTACHMENTS_NOT_FILES)
    if attachments and not variant.startswith("pdf/a-3"):
        raise ValueError(ATTACHMENTS_NEED_PDFA3)
    for a in attachments:
        if not (isinstance(a.name, str) and a.name.strip() and isinstance(a.data, bytes)
                and a.relationship in AF_RELATIONSHIPS):
            raise ValueError(ATTACHMENT_INVALID.format(name=a.name))
    stamp = _attachment_time(created)
    created = _w3c_date(created)
    fetcher = _LocalOnlyFetcher(_base_directory(base_url))
    stock = _NEEDS_STOCK_UA.search(html) or any(_NEEDS_STOCK_UA.search(css) for css in stylesheets)
    document_class = HTML if stock else _ScopedHTML
    with _RENDER_LOCK:
        sheets = [_stylesheet(css) for css in stylesheets]
        document = document_class(string=html, base_url=base_url, url_fetcher=fetcher).render(
            pdf_variant=variant, stylesheets=sheets, font_config=_shared_font_config()
        )
        files = [Attachment(file_obj=io.BytesIO(a.data), name=a.name, description=a.description,
                            relationship=a.relationship, created=stamp, modified=stamp) for a in attachments]
        return _write(document, variant=variant, title=title, author=author, subject=subject,
                      keywords=keywords, created=created, lang=lang, attachments=files)


def _attachment_time(created):
    # WeasyPrint writes an attachment's dates as UTC ("D:...Z") from a naive datetime; the
    # document's own creation date keeps a re-rendered report byte-identical.
    if isinstance(created, datetime) and created.utcoffset() is not None:
        return created.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _write(document, *, variant, title, author, subject, keywords, created, lang, attachments=()):
    meta = document.metadata
    meta.title = title if title is not None else meta.title
    meta.authors = [author] if author is not None else meta.authors
    meta.description = subject if subject is not None else meta.description
    keywords = [keywords] if isinstance(keywords, str) else list(keywords)
    meta.keywords = keywords or meta.keywords
    meta.created = created if created is not None else meta.created
    meta.lang = lang if lang is not None else meta.lang
    return document.write_pdf(pdf_variant=variant, attachments=list(attachments) or None,
                              finisher=_unique_associated_files)


def _unique_associated_files(document, pdf):
    # WeasyPrint 70's PDF/A-3 step lists each attachment in the catalog's /AF twice (once from
    # the EmbeddedFiles name tree, once as a file specification); one entry per file is meant.
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))
