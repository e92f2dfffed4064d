"""SVG <text> in one Pango layout per label instead of one per letter.

WeasyPrint 70 draws every SVG <text> letter by letter: a Pango layout, a line break and a
text object for each character, so that per-letter x/dx/rotate lists and textLength can be
honoured. The report's charts (governance/core/charts.py) use none of those: each label is
one run at one (x, y). For such a label this module lays out and draws the whole string once,
with the same font selection, anchor, fill and bounding box as WeasyPrint's own code; for
every other text node (per-letter positions, rotate, letter-spacing, textLength, <tspan>,
<textPath>) WeasyPrint's function runs unchanged. On the demo report this is about 5,000 of
the 9,000 Pango line layouts of a render. The one visible difference is kerning: a whole
string is shaped as text, so pairs such as "Te" sit as they do in the body text.

Installed once, by pdf.py, and only onto the WeasyPrint it was written against (the
function it replaces must be the one named here); otherwise nothing is changed.
"""

from __future__ import annotations

from math import inf

from weasyprint import svg as weasy_svg
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.draw.text import draw_emojis, draw_first_line
from weasyprint.matrix import Matrix
from weasyprint.svg.text import Style, TextBox
from weasyprint.svg.text import text as _stock_text
from weasyprint.svg.bounding_box import extend_bounding_box
from weasyprint.svg.utils import normalize, size
from weasyprint.text.line_break import split_first_line

# Attributes that make a label's letters move independently: those keep WeasyPrint's path.
_PER_LETTER = ("dx", "dy", "rotate", "letter-spacing", "textLength", "lengthAdjust")


def _one_value(node, name):
    value = node.attrib.get(name)
    return value is not None and len(normalize(value).strip().split(" ")) == 1


def _simple(node) -> bool:
    return (node.tag == "text" and bool(node.text) and _one_value(node, "x") and _one_value(node, "y")
            and not any(name in node.attrib for name in _PER_LETTER))


def _style(svg, node, font_size):
    # As WeasyPrint's text() builds it (svg/text.py), so both paths pick the same font.
    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")]
    style["font_style"] = node.get("font-style", "normal")
    weight = node.get("font-weight", 400)
    weight = {"normal": 400, "bold": 700}.get(weight, weight)
    try:
        style["font_weight"] = int(weight)
    except ValueError:
        style["font_weight"] = 400
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    return style


def _y_align(node, font_size, height):
    ascent, descent = font_size * 0.8, font_size * 0.2  # WeasyPrint's own approximation
    anchor = node.get("display-anchor")
    baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if anchor == "middle":
        return -height / 2
    if anchor == "top":
        return 0
    if anchor == "bottom":
        return -height
    if baseline in ("central", "middle"):
        return (ascent + descent) / 2 - descent
    if baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        return ascent
    if baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        return -descent
    return 0


def text(svg, node, font_size):
    """Draw a text node: a simple label in one layout, anything else as WeasyPrint does."""
    if not _simple(node):
        return _stock_text(svg, node, font_size)
    style = _style(svg, node, font_size)
    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    x = size(normalize(node.attrib["x"]).strip(), font_size, svg.inner_width)
    y = size(normalize(node.attrib["y"]).strip(), font_size, svg.inner_height)
    svg.cursor_d_position = [0, 0]
    svg.cursor_position = x + width, y
    y_position = y + _y_align(node, font_size, height)
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box, ((x, y_position - baseline), (x + width, y_position - baseline + height)))

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x, f=y_position))
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


def install() -> bool:
    """Route WeasyPrint's SVG text through `text`; False (and nothing changed) if its code differs."""
    if weasy_svg.text is text:
        return True
    if weasy_svg.text is not _stock_text or weasy_svg.TAGS.get("text") is not _stock_text:
        return False
    # draw_node compares TAGS entries with the module's `text` to decide text anchoring, so
    # both are replaced together.
    weasy_svg.TAGS.update({tag: text for tag, fn in weasy_svg.TAGS.items() if fn is _stock_text})
    weasy_svg.text = text
    return True
