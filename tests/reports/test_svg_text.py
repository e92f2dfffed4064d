"""SVG chart labels: one Pango layout per label (audits/reports/svg_text.py), same page.

WeasyPrint's own SVG text code lays out every letter on its own; the report's labels are one
run at one point, so they are laid out whole. What a reader sees must not change: the same
words, at the same place (pixels compared at 40 dpi), and anchored the same way.
"""

import shutil
import subprocess

import pytest
from PIL import Image, ImageChops
from weasyprint import svg as weasy_svg
from weasyprint.text import line_break

from audits.reports import pdf as pdf_module
from audits.reports import svg_text
from audits.reports.templatetags.report_pdf import pdf_figure
from governance.core import charts



def require_tool(name):
    if shutil.which(name) is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")


def chart():
    return charts.coverage_bars([{"label": "GOVERN", "counts": {"satisfied": 2, "failed": 1, "not_started": 16}},
                                  {"label": "MEASURE", "counts": {"satisfied": 5, "in_progress": 3}}],
                                 title="Control status by function")


def chart_page():
    return f"<html lang='en'><body><figure>{pdf_figure(chart())}</figure></body></html>"


def use_stock_svg_text(monkeypatch):
    """WeasyPrint's own SVG text drawing, for comparison."""
    for tag, fn in list(weasy_svg.TAGS.items()):
        if fn is svg_text.text:
            monkeypatch.setitem(weasy_svg.TAGS, tag, svg_text._stock_text)
    monkeypatch.setattr(weasy_svg, "text", svg_text._stock_text)


def layouts(monkeypatch, html):
    """How many Pango line layouts rendering html makes, over every caller."""
    count = [0]
    real = line_break.split_first_line

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    # WeasyPrint's SVG text imports it when it runs; the others when they load.
    monkeypatch.setattr(line_break, "split_first_line", counting)
    for module in ("audits.reports.svg_text", "weasyprint.layout.inline"):
        monkeypatch.setattr(f"{module}.split_first_line", counting)
    pdf_module.render_pdf(html)
    return count[0]


def test_the_report_renders_chart_labels_through_the_per_label_path():
    assert pdf_module.SVG_TEXT_PER_LABEL is True
    assert weasy_svg.TAGS["text"] is svg_text.text and weasy_svg.text is svg_text.text
    assert svg_text.install() is True  # installing twice changes nothing


def test_a_chart_label_is_laid_out_once_not_once_per_letter(monkeypatch):
    html = chart_page()
    labels = str(chart()).count("<text")
    fast = layouts(monkeypatch, html)
    monkeypatch.undo()
    use_stock_svg_text(monkeypatch)
    stock = layouts(monkeypatch, html)

    assert fast == labels
    assert stock > 5 * labels  # one per letter, plus one per label for its width


def _page(pdf_bytes, tmp_path, name):
    require_tool("pdftoppm")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-singlefile", str(path), str(tmp_path / name)], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return Image.open(tmp_path / f"{name}.png").convert("L"), text


def test_a_chart_reads_and_looks_the_same_as_with_weasyprints_own_text_drawing(tmp_path, monkeypatch):
    html = chart_page()
    fast, fast_text = _page(pdf_module.render_pdf(html), tmp_path, "fast")
    use_stock_svg_text(monkeypatch)
    stock, stock_text = _page(pdf_module.render_pdf(html), tmp_path, "stock")

    for label in ("Satisfied", "Failed", "GOVERN", "MEASURE", "2 / 19"):
        assert label in fast_text and label in stock_text, label
    assert fast_text.split() == stock_text.split()
    diff = ImageChops.difference(fast, stock)
    changed = sum(diff.histogram()[65:])
    assert changed <= fast.width * fast.height * 0.002, changed  # kerning moves a few glyph edges at most


@pytest.mark.parametrize("attrs", ['x="10 20 30" y="40"', 'x="10" y="40" dx="2"', 'x="10" y="40" rotate="5"',
                                   'x="10" y="40" textLength="80"', 'x="10" y="40" letter-spacing="2"'])
def test_a_label_with_per_letter_positions_keeps_weasyprints_own_drawing(attrs):
    from xml.etree import ElementTree

    node = ElementTree.fromstring(f"<text {attrs}>Label</text>")
    assert svg_text._simple(node) is False
    assert svg_text._simple(ElementTree.fromstring('<text x="10" y="40" text-anchor="end">Label</text>')) is True
