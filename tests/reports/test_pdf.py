"""render_pdf: HTML to PDF/A bytes.

PDF/A identification is checked the way ISO 19005-2/-3 clause 6.6.4 states
it: the XMP packet carries pdfaid:part and pdfaid:conformance; an output
intent (clause 6.2.3) and embedded fonts (clause 6.2.11.4) are required.
"""

import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from audits.reports import pdf as pdf_module
from governance.core import charts
from audits.reports.pdf import (
    ATTACHMENT_INVALID,
    ATTACHMENTS_NEED_PDFA3,
    ATTACHMENTS_NOT_FILES,
    CREATED_NOT_AWARE,
    HTML_NOT_STRING,
    UNSUPPORTED_VARIANT,
    PdfAttachment,
    render_pdf,
)

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"


def require_tool(name):
    """Poppler tools are part of the image; only a developer laptop may lack them."""
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (poppler-utils) is required in CI")
        pytest.skip(f"{name} (poppler-utils) is not installed")


def three_pages(body_attrs=""):
    return (
        f"<html lang='en'><head><title>Three</title></head>"
        f"<body {body_attrs}><h1>One</h1><p class='page-break'>Two</p>"
        "<p class='page-break'>Three</p></body></html>"
    )


def read(pdf):
    return PdfFileReader(io.BytesIO(pdf))


def xmp_of(reader):
    return ET.fromstring(reader.root["/Metadata"].get_object().data)


def pdfa_identification(xmp):
    """(part, conformance), whether written as attributes or as elements."""
    found = {}
    for description in xmp.iter(f"{RDF}Description"):
        for key in ("part", "conformance"):
            value = description.get(PDFAID + key)
            child = description.find(PDFAID + key)
            value = value if value is not None else (child.text if child is not None else None)
            if value is not None:
                found[key] = value
    return found.get("part"), found.get("conformance")


def embedded_files(reader):
    """{name: (file specification, stream)} of the document's embedded files."""
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return {str(names[i]): (names[i + 1].get_object(), names[i + 1].get_object()["/EF"]["/F"].get_object())
            for i in range(0, len(names), 2)}


def test_an_attachment_is_a_pdfa3_associated_file_of_the_document_with_its_relationship():
    data = b"control,status\r\nGOVERN 1.1,satisfied\r\n"
    created = datetime.fromisoformat("2026-03-01T10:30:00+01:00")
    reader = read(render_pdf(three_pages(), created=created, attachments=[
        PdfAttachment(name="coverage.csv", data=data, description="Every control", relationship="Data")]))

    spec, stream = embedded_files(reader)["coverage.csv"]
    assert stream.data == data
    assert (spec["/AFRelationship"], spec["/UF"], spec["/Desc"]) == ("/Data", "coverage.csv", "Every control")
    assert stream["/Subtype"] == "/text/csv"
    assert str(stream["/Params"]["/ModDate"]) == "D:20260301093000Z"  # the document's date, in UTC
    assert [f.get_object()["/UF"] for f in reader.root["/AF"]] == ["coverage.csv"]
    assert pdfa_identification(xmp_of(reader)) == ("3", "B")


@pytest.mark.parametrize("attachments, message", [
    ("coverage.csv", ATTACHMENTS_NOT_FILES),
    ([b"bytes"], ATTACHMENTS_NOT_FILES),
    ([PdfAttachment(name="", data=b"x")], ATTACHMENT_INVALID.format(name="")),
    ([PdfAttachment(name="a.csv", data="text")], ATTACHMENT_INVALID.format(name="a.csv")),
    ([PdfAttachment(name="a.csv", data=b"x", relationship="Appendix")], ATTACHMENT_INVALID.format(name="a.csv")),
])
def test_render_pdf_refuses_attachments_that_are_not_named_bytes_with_a_pdfa3_relationship(attachments, message):
    with pytest.raises(ValueError) as raised:
        render_pdf(three_pages(), attachments=attachments)

    assert str(raised.value) == message


def test_render_pdf_refuses_attachments_in_a_pdfa2_file_which_would_drop_them():
    with pytest.raises(ValueError) as raised:
        render_pdf(three_pages(), variant="pdf/a-2b", attachments=[PdfAttachment(name="a.csv", data=b"x")])

    assert str(raised.value) == ATTACHMENTS_NEED_PDFA3


def test_render_pdf_returns_a_pdf_with_one_page_per_page_break():
    pdf = render_pdf(three_pages())

    assert pdf.startswith(b"%PDF-")
    assert read(pdf).root["/Pages"]["/Count"] == 3


@pytest.mark.parametrize(
    "variant, part, conformance",
    [("pdf/a-3b", "3", "B"), ("pdf/a-2b", "2", "B"), ("pdf/a-3u", "3", "U")],
)
def test_render_pdf_declares_the_pdfa_variant_in_xmp(variant, part, conformance):
    reader = read(render_pdf(three_pages(), variant=variant))

    assert pdfa_identification(xmp_of(reader)) == (part, conformance)


def test_render_pdf_defaults_to_pdfa_3b_with_an_output_intent():
    reader = read(render_pdf(three_pages()))

    assert pdfa_identification(xmp_of(reader)) == ("3", "B")
    intent = reader.root["/OutputIntents"][0]
    assert intent["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intent


def _fonts(reader):
    for page in reader.root["/Pages"]["/Kids"]:
        for font in page.get_object()["/Resources"]["/Font"].values():
            font = font.get_object()
            yield font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font


def test_render_pdf_embeds_every_font_it_uses():
    fonts = list(_fonts(read(render_pdf(three_pages()))))

    assert fonts
    for font in fonts:
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())


def test_metadata_passed_in_is_written_to_info_and_xmp_alike():
    html = "<html><head><title>From HTML</title></head><body>x</body></html>"

    reader = read(render_pdf(html, title="Audit <R-1> & co", author="Risk Office",
                             created=datetime.fromisoformat("2025-03-01T10:00:00+00:00")))

    info = reader.trailer["/Info"]
    assert info["/Title"] == "Audit <R-1> & co"
    assert info["/Author"] == "Risk Office"
    assert info["/CreationDate"].startswith("D:20250301100000")
    xmp = xmp_of(reader)
    assert xmp.find(f".//{DC}title//{RDF}li").text == "Audit <R-1> & co"
    assert xmp.find(f".//{DC}creator//{RDF}li").text == "Risk Office"


def test_title_comes_from_the_html_when_not_passed_in():
    html = "<html><head><title>From HTML</title></head><body>x</body></html>"

    assert read(render_pdf(html)).trailer["/Info"]["/Title"] == "From HTML"


def test_footer_shows_the_report_id_after_the_cover_and_page_x_of_y(tmp_path):
    pages = _text(render_pdf(three_pages("data-report-id='R-2025-0007'")), tmp_path).split("\f")

    assert "Page 2 of 3" in pages[1]
    assert ["Report R-2025-0007" in page for page in pages[:3]] == [False, True, True]


def test_all_charts_render_inline_in_the_pdf():
    svgs = [
        charts.bar_chart_with_intervals([{"label": "A", "value": 0.8, "ci": [0.7, 0.9]}],
                                        title="Bars", x_label="rate", threshold=0.75),
        charts.line_chart([{"name": "s", "points": [(0, 0.9), (1, 0.5)]}],
                          title="Line", x_label="eps", y_label="acc"),
        charts.overlay_histogram([0, 1, 2], [1, 2], [2, 1], title="Drift"),
        charts.coverage_bars([{"label": "NIST", "counts": {"satisfied": 3, "failed": 1}}],
                             title="Coverage"),
    ]
    html = "<html><body>" + "".join(f"<figure>{svg}</figure>" for svg in svgs) + "</body></html>"

    assert read(render_pdf(html)).root["/Pages"]["/Count"] >= 1


@pytest.mark.parametrize("variant", ["pdf/a-1b", "pdf/ua-1", None, "PDF/A-3B"])
def test_unsupported_variants_are_refused(variant):
    with pytest.raises(ValueError, match=re.escape(UNSUPPORTED_VARIANT)):
        render_pdf("<p>x</p>", variant=variant)


@pytest.mark.parametrize("html", ["", "   ", None, b"<p>x</p>"])
def test_html_must_be_a_non_empty_string(html):
    with pytest.raises(ValueError, match=re.escape(HTML_NOT_STRING)):
        render_pdf(html)


def test_created_must_be_timezone_aware():
    with pytest.raises(ValueError, match=re.escape(CREATED_NOT_AWARE)):
        render_pdf("<p>x</p>", created=datetime(2025, 3, 1, 10, 0))


# ---------------------------------------------------------------- what the typesetter may read and run


def _text(pdf, tmp_path):
    require_tool("pdftotext")
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _image_count(reader):
    count = 0
    for page in reader.root["/Pages"]["/Kids"]:
        xobjects = page.get_object()["/Resources"].get("/XObject", {})
        count += sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")
    return count


def test_no_image_is_read_from_a_file_or_the_network_and_its_alt_text_stands_in(tmp_path):
    Image.new("RGB", (4, 4), (0, 114, 178)).save(tmp_path / "secret.png")
    html = (f"<p><img src='{(tmp_path / 'secret.png').as_uri()}' alt='local picture'>"
            "<img src='http://127.0.0.1:9/x.png' alt='remote picture'><img src='secret.png'></p>")

    pdf = render_pdf(html)

    assert _image_count(read(pdf)) == 0
    text = _text(pdf, tmp_path)
    assert "local picture" in text and "remote picture" in text


@pytest.mark.parametrize("words", [
    '#read("/etc/passwd")', '#import "@preview/cetz:0.3.0"', "*bold* _em_ $x^2$ <label> @ref",
    '"]#panic("x")#["', "\\ \\n \\u{41}", "= Heading - item + item / term: x",
])
def test_text_of_the_report_is_printed_as_it_is_and_never_runs_as_markup(words, tmp_path):
    html = f"<p>{words.replace('<', '&lt;')}</p>"

    text = _text(render_pdf(html), tmp_path)

    assert " ".join(words.split()) in " ".join(text.split())


def test_a_header_passed_in_is_printed_on_every_page(tmp_path):
    text = _text(render_pdf(three_pages(), header="DEVELOPMENT SIGNER"), tmp_path)

    assert text.count("DEVELOPMENT SIGNER") == 3


def test_the_same_html_and_date_give_the_same_file():
    created = datetime.fromisoformat("2026-03-01T10:30:00+00:00")

    assert render_pdf(three_pages(), created=created) == render_pdf(three_pages(), created=created)


def test_a_typesetting_error_is_reported_as_such(monkeypatch):
    monkeypatch.setattr(pdf_module, "_document_settings", lambda *a, **k: "#panic(\"broken\")")

    with pytest.raises(RuntimeError, match="could not be typeset"):
        render_pdf("<p>x</p>")
