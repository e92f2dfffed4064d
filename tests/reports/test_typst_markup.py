"""typst_markup: the report's HTML as Typst markup (pure; the PDF side is in test_pdf.py)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from audits.reports.pdf import render_pdf
from audits.reports.typst_markup import BLOCK_CLASSES, html_to_typst, string

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [
    ROOT / "audits/reports/templates/reports/report.html",
    ROOT / "audits/reports/templates/reports/sections/_generic.html",
    *(ROOT / "audits/kinds").glob("*/templates/kinds/*/report.html"),
    *(ROOT / "governance").glob("*/templates/*/report_section.html"),
]
# Classes the writer reads itself (tables, cells, spans, the cover and the contents) besides
# the block classes report.typ styles; a class outside both would be dropped without a look.
WRITER_CLASSES = {"chip", "mono", "small", "muted", "ci", "num", "kv", "coverage", "controls", "cover", "notice",
                  "toc", "sub", "section", "page-break"}
# Classes that only name what a cell or row holds, and need no look of their own in the PDF.
NAMING_CLASSES = {"status", "ev", "avoid-break"}


def test_text_becomes_string_literals_so_nothing_in_it_is_markup():
    markup = html_to_typst('<p>#read("x") *y* <em>and</em> \\ "q"</p>').markup

    assert markup == '#"#read(\\"x\\") *y* "#emph[#"and"]#" \\\\ \\"q\\""'


def test_a_string_literal_escapes_backslashes_quotes_and_line_ends():
    assert string('a\\b"c\nd\r\te') == '"a\\\\b\\"c\\nd\\r\\te"'


def test_the_title_report_id_and_language_are_read_from_the_html():
    document = html_to_typst("<html lang='en'><head><title> Audit  R-1 </title></head>"
                             "<body data-report-id='R-1'><p>x</p></body></html>")

    assert (document.title, document.report_id, document.lang) == ("Audit R-1", "R-1", "en")
    assert "Audit" not in document.markup  # the <head> is not printed


def test_column_widths_come_from_the_first_row_and_the_header_repeats_on_every_page():
    markup = html_to_typst(
        "<table><thead><tr><th style='width:24%'>Audit</th><th style='width:35mm'>Result</th><th>Summary</th></tr>"
        "</thead><tbody><tr><td>a</td><td class='num'>1.0</td><td>s</td></tr></tbody></table>").markup

    assert "columns: (24%, 35mm, 1fr,)" in markup
    assert 'table.header(repeat: true, th[#"Audit"], th[#"Result"], th[#"Summary"])' in markup
    assert 'table.cell(align: right)[#"1.0"]' in markup


def test_a_cell_spanning_columns_keeps_its_span():
    markup = html_to_typst("<table><tr><td colspan='2'>wide</td></tr><tr><td>a</td><td>b</td></tr></table>").markup

    assert "columns: (1fr, 1fr,)" in markup
    assert 'table.cell(colspan: 2)[#"wide"]' in markup


def test_links_to_anchors_of_the_document_are_links_and_others_plain_text():
    markup = html_to_typst("<h2 id='summary'>Summary</h2><p><a href='#summary'>up</a> <a href='#gone'>gone</a> "
                           "<a href='javascript:alert(1)'>js</a></p>").markup

    assert '#heading(level: 2)[#"Summary"]#label("summary")' in markup
    assert '#link(label("summary"))[#"up"]' in markup
    assert '#"gone"' in markup and "gone\")" not in markup
    assert "javascript" not in markup


def test_a_section_heading_and_a_marked_section_start_a_new_page():
    markup = html_to_typst("<h2 class='section'>A</h2><section style='break-before: page'><p>B</p></section>").markup

    assert markup.count("#pagebreak(weak: true)") == 2


def test_an_svg_chart_is_drawn_with_its_caption_and_its_title_as_alternative_text():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"><title>Rates</title></svg>'
    markup = html_to_typst(f"<figure>{svg}<figcaption>Selection rate</figcaption></figure>").markup

    assert markup.startswith("#chart(bytes(")
    assert '300.0pt, "Rates", [#"Selection rate"])' in markup  # 400 px at 0.75 pt a px


def test_a_chart_is_never_wider_than_the_page():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="100"></svg>'

    assert "493.2pt" in html_to_typst(f"<figure>{svg}</figure>").markup


def _text(pdf, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_hash_in_a_narrow_cell_breaks_over_lines_yet_copies_as_the_hash(tmp_path):
    digest = "3f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
    html = (f"<table><tr><th style='width:80%'>Document</th><td class='mono'>{digest}</td></tr></table>")

    text = _text(render_pdf(html), tmp_path)

    assert digest not in text  # broken over lines: it would run out of its cell otherwise
    assert digest in "".join(text.split())
    assert "\u200b" not in text


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_class_the_report_templates_use_has_a_look_or_is_named_as_needing_none(template):
    html = template.read_text(encoding="utf-8")
    used = {c for attr in re.findall(r'class="([^"{]*)', html) for c in attr.split()}
    chips = {c for attr in re.findall(r'class="chip ([^"{]*)"', html) for c in attr.split()}  # status words

    assert not used - BLOCK_CLASSES - WRITER_CLASSES - NAMING_CLASSES - chips


def test_only_a_narrow_column_hyphenates_its_words():
    markup = html_to_typst("<table><tr><td style='width:8%'>Permutation</td><td style='width:30%'>Permutation</td>"
                           "<td>Permutation</td></tr></table>").markup

    assert markup.count("#text(hyphenate: true)") == 1
    assert 'table.cell[#text(hyphenate: true)[#"Permutation"]], table.cell[#"Permutation"]' in markup
