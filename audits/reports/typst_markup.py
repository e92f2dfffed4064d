"""The report's HTML as Typst markup, for the Typst typesetter (pdf.py).

The report is written once, as a Django template of plain HTML: headings, paragraphs, tables,
lists, links to anchors, SVG charts and a few classes (report.typ gives each its look). This
module reads that HTML and writes the same document as Typst markup, so the template stays the
one place the report's content lives. No Django import: it is pure and tested on its own.

Safety: every piece of text becomes a Typst string literal (backslashes, quotes, line ends escaped),
never markup, so no text of a report (a model's name, a reporter's words) can run Typst code,
import a file or a package. Images are only SVG given inline or as data: URLs; any other image
is left out, with its alternative text in its place, so rendering never reads a file or the
network.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote_to_bytes

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIPPED = {"head", "style", "script", "template", "noscript"}
INLINE = {"a", "abbr", "b", "br", "cite", "code", "em", "i", "img", "kbd", "mark", "q", "s", "samp", "small",
          "span", "strong", "sub", "sup", "svg-chart", "time", "u", "var"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Content width of an A4 page with 18 mm side margins, in points: a chart is never wider.
CONTENT_WIDTH_PT = (210 - 36) / 25.4 * 72
# CSS px to pt: a chart keeps the size the browser and the old renderer gave it.
PX = 0.75
# A word this long (identifiers, slices, hashes) may break after its punctuation, and every
# CHUNK characters between, instead of running out of its cell.
LONG_TOKEN = 12
CHUNK = 16

# The classes report.typ's blk() gives a look; a container with none of them is no block of
# its own (a page break may only stand outside every block).
# The classes report.typ gives an inline look, by a function of the same name (a span's or a cell's).
INLINE_CLASSES = ("mono", "small", "muted", "ci")
BLOCK_CLASSES = {"small", "muted", "explain", "lead", "refs", "attachment-note", "gaps", "dev-signer", "org",
                 "subtitle", "notice", "box"}

_SPACE = re.compile(r"\s+")
_WIDTH = re.compile(r"(?:^|;)\s*width\s*:\s*([\d.]+)\s*(%|mm|cm|pt|px)\s*(?:;|$)")
_FONT_SIZE = re.compile(r"(?:^|;)\s*font-size\s*:\s*([\d.]+)\s*pt\s*(?:;|$)")
_PAGE_BREAK = re.compile(r"break-before\s*:\s*page|page-break-before\s*:\s*always")
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S | re.I)
_SVG_SIZE = re.compile(r"<svg\b[^>]*?\bwidth=\"([\d.]+)(?:px)?\"", re.S)
_SVG_VIEWBOX = re.compile(r"<svg\b[^>]*?\bviewBox=\"[\d.\s-]+?\s([\d.]+)\s[\d.]+\"", re.S)
_SVG_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S)
_BREAKABLE_TOKEN = re.compile(r"[^ ]{%d,}" % LONG_TOKEN)
_AFTER_PUNCTUATION = re.compile(r"[^_=/.,:;&]*[_=/.,:;&]*")


@dataclass(frozen=True)
class TypstDocument:
    markup: str  # the body, calling report.typ's functions
    title: str  # the HTML's <title>, "" if none
    report_id: str | None  # the value of the element marked data-report-id
    lang: str | None  # the <html lang="...">


class _Node:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = attrs
        self.children = []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack = [self.root]
        self.title = ""
        self.report_id = None
        self.lang = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "html" and attrs.get("lang"):
            self.lang = attrs["lang"]
        if "data-report-id" in attrs and self.report_id is None:
            self.report_id = attrs["data-report-id"]
        if tag == "title":
            self._in_title = True
        node = _Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        for depth in range(len(self.stack) - 1, 0, -1):  # tolerant: close up to the matching tag
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.stack[-1].children.append(data)


def string(text: str) -> str:
    """A Typst string literal of ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def label(anchor: str) -> str:
    return "label(" + string(_LABEL_UNSAFE.sub("-", anchor)) + ")"


def html_to_typst(html: str) -> TypstDocument:
    charts = []

    def keep_chart(match):
        charts.append(match.group(0))
        return f'<svg-chart data-index="{len(charts) - 1}"></svg-chart>'

    builder = _TreeBuilder()
    builder.feed(_INLINE_SVG.sub(keep_chart, html))
    builder.close()
    writer = _Writer(charts, _anchors(builder.root))
    return TypstDocument(markup=writer.blocks(builder.root.children), title=_SPACE.sub(" ", builder.title).strip(),
                         report_id=builder.report_id, lang=builder.lang)


def _anchors(root):
    found, stack = set(), [root]
    while stack:
        node = stack.pop()
        if isinstance(node, _Node):
            if node.attrs.get("id"):
                found.add(node.attrs["id"])
            stack.extend(node.children)
    return found


def _is_inline(node):
    return isinstance(node, str) or node.tag in INLINE


def _chart_width(svg):
    match = _SVG_SIZE.search(svg) or _SVG_VIEWBOX.search(svg)
    width = float(match.group(1)) * PX if match else CONTENT_WIDTH_PT
    return f"{min(width, CONTENT_WIDTH_PT):.1f}pt"


def _svg_from_data_url(src):
    head, _, data = src.partition(",")
    if not head.lower().startswith("data:image/svg+xml"):
        return None
    raw = base64.b64decode(data) if head.lower().endswith(";base64") else unquote_to_bytes(data)
    return raw.decode("utf-8")


class _Writer:
    def __init__(self, charts, anchors):
        self.charts = charts
        self.anchors = anchors

    # ---------------------------------------------------------------- blocks

    def blocks(self, children, *, toc=False):
        """Markup for a mix of block elements and runs of inline content."""
        out, run = [], []
        for child in children:
            if isinstance(child, _Node) and child.tag in SKIPPED:
                continue
            if _is_inline(child):
                run.append(child)
                continue
            out.append(self._run(run))
            run = []
            out.append(self.block(child, toc=toc))
        out.append(self._run(run))
        # A blank line between blocks: two paragraphs in a row stay two paragraphs.
        return "\n\n".join(part for part in out if part)

    def _run(self, nodes):
        markup = self.trimmed(nodes)
        return markup if markup and markup != '#" "' else ""

    def trimmed(self, nodes):
        """Inline markup without the white space at its two ends, as HTML drops it at a block's edges."""
        nodes = list(nodes)
        if nodes and isinstance(nodes[0], str):
            nodes[0] = nodes[0].lstrip()
        if nodes and isinstance(nodes[-1], str):
            nodes[-1] = nodes[-1].rstrip()
        return self.inline(nodes).strip()

    def block(self, node, *, toc=False):
        tag, classes, style = node.tag, node.classes, node.attrs.get("style", "")
        prefix = "#pagebreak(weak: true)\n" if ("page-break" in classes or _PAGE_BREAK.search(style)) else ""
        anchor = node.attrs.get("id")
        if tag in HEADINGS:
            if "section" in classes:
                prefix = "#pagebreak(weak: true)\n"
            body = self.trimmed(node.children)
            size = _FONT_SIZE.search(style)
            if size:
                body = f"#text(size: {size.group(1)}pt)[{body}]"
            markup = f"#heading(level: {HEADINGS[tag]})[{body}]"
            return prefix + markup + (f"#{label(anchor)}" if anchor else "")
        marker = f"#metadata(none)#{label(anchor)}\n" if anchor else ""
        if tag == "table":
            return prefix + marker + self.table(node)
        if tag in ("ul", "ol"):
            if toc or "toc" in classes:
                return prefix + marker + self.blocks(node.children, toc=True)
            items = [f"[{self.blocks(li.children)}]" for li in node.children
                     if isinstance(li, _Node) and li.tag == "li"]
            function = "list" if tag == "ul" else "enum"
            body = f"#{function}({', '.join(items)})"
            if BLOCK_CLASSES.intersection(classes):
                body = _blk(classes, body)
            return prefix + marker + body
        if tag == "li" and toc:
            return prefix + marker + self._toc_entry(node)
        if tag == "figure":
            return prefix + marker + self.figure(node)
        if "cover" in classes:
            notice = next((c for c in node.children if isinstance(c, _Node) and "notice" in c.classes), None)
            rest = [c for c in node.children if c is not notice]
            notice_markup = self.block(notice) if notice is not None else ""
            return prefix + marker + f"#cover([{self.blocks(rest)}], [{notice_markup}])"
        body = self.blocks(node.children, toc=toc or "toc" in classes)
        if BLOCK_CLASSES.intersection(classes):
            body = _blk(classes, body)
        return prefix + marker + body

    def _toc_entry(self, li):
        link = next((c for c in li.children if isinstance(c, _Node) and c.tag == "a"), None)
        href = link.attrs.get("href", "") if link is not None else ""
        if not href.startswith("#") or href[1:] not in self.anchors:
            return f"#blk(())[{self.trimmed(li.children)}]"
        sub = ", sub: true" if "sub" in li.classes else ""
        return f"#toc-entry({label(href[1:])}{sub})[{self.trimmed(link.children)}]"

    def figure(self, node):
        caption = next((c for c in node.children if isinstance(c, _Node) and c.tag == "figcaption"), None)
        sources = [(c, self._chart_source(c)) for c in node.children if isinstance(c, _Node) and c.tag in ("img", "svg-chart")]
        images = [source for _, source in sources if source]
        # An image that is not an SVG is not drawn: its alternative text stands in.
        drawn = [c for c, source in sources if source]
        rest = [c for c in node.children if c is not caption and c not in drawn]
        caption_markup = f"[{self.trimmed(caption.children)}]" if caption is not None else "none"
        parts = [f"#chart(bytes({string(svg)}), {_chart_width(svg)}, {string(alt)}, "
                 f"{caption_markup if i == len(images) - 1 else 'none'})" for i, (svg, alt) in enumerate(images)]
        if not images and caption is not None:
            parts.append(f"#blk(())[{caption_markup[1:-1]}]")
        extra = self.blocks(rest)
        return "\n".join(part for part in parts + [extra] if part)

    def _chart_source(self, node):
        if node.tag == "svg-chart":
            svg = self.charts[int(node.attrs["data-index"])]
        else:
            svg = _svg_from_data_url(node.attrs.get("src", ""))
            if svg is None:
                return None
        alt = node.attrs.get("alt")
        if not alt:
            match = _SVG_TITLE.search(svg)
            alt = _SPACE.sub(" ", match.group(1)).strip() if match else "Chart"
        return svg, alt

    # ---------------------------------------------------------------- tables

    def table(self, node):
        rows, header_rows, caption = [], [], None
        for child in node.children:
            if not isinstance(child, _Node):
                continue
            if child.tag == "caption":
                caption = child
            elif child.tag == "thead":
                header_rows.extend(r for r in child.children if isinstance(r, _Node) and r.tag == "tr")
            elif child.tag in ("tbody", "tfoot"):
                rows.extend(r for r in child.children if isinstance(r, _Node) and r.tag == "tr")
            elif child.tag == "tr":
                rows.append(child)
        all_rows = header_rows + rows
        if not all_rows:
            return ""
        classes = node.classes
        n_columns = max(sum(_span(cell) for cell in _cells(row)) for row in all_rows) or 1
        widths = self._widths(all_rows, n_columns, classes)
        narrow = [_is_narrow(width) for width in widths]
        args = [f"columns: ({', '.join(widths)},)"]
        if "coverage" in classes:
            args.append("align: (x, y) => if x > 0 { right } else { left }")
        if header_rows:
            header_cells = [cell for row in header_rows for cell in self.row(row, narrow)]
            args.append(f"table.header(repeat: true, {', '.join(header_cells)})")
        args.extend(cell for row in rows for cell in self.row(row, narrow))
        size = "7.8pt" if "controls" in classes else "8.5pt"
        markup = f"#report-table(size: {size}, {', '.join(args)})"
        if caption is not None:
            markup = _blk(caption.classes, self.blocks(caption.children)) + "\n" + markup
        return markup

    def _widths(self, rows, n_columns, classes):
        widths = [None] * n_columns
        for row in rows:
            x = 0
            for cell in _cells(row):
                match = _WIDTH.search(cell.attrs.get("style", ""))
                if match and _span(cell) == 1 and widths[x] is None:
                    number, unit = match.groups()
                    widths[x] = f"{float(number) * PX:g}pt" if unit == "px" else f"{number}{unit}"
                x += _span(cell)
                if x >= n_columns:
                    break
        if "kv" in classes and n_columns == 2 and widths[0] is None:
            widths[0] = "42mm"
        return [w or "1fr" for w in widths]

    def row(self, row, narrow):
        cells, x = [], 0
        for cell in _cells(row):
            span = _span(cell)
            cells.append(self.cell(cell, hyphenate=any(narrow[x:x + span]) and all(narrow[x:x + span])))
            x += span
        return cells

    def cell(self, cell, *, hyphenate=False):
        args = []
        if _span(cell) > 1:
            args.append(f"colspan: {_span(cell)}")
        if "num" in cell.classes:
            args.append("align: right")
        body = self.blocks(cell.children)
        body = _styled(body, cell.classes)
        if hyphenate:  # a narrow column: a long word hyphenates rather than run into the next cell
            body = f"#text(hyphenate: true)[{body}]"
        function = "th" if cell.tag == "th" else "table.cell"
        return f"{function}({', '.join(args)})[{body}]" if args else f"{function}[{body}]"

    # ---------------------------------------------------------------- inline

    def inline(self, nodes):
        out = []
        for node in nodes:
            if isinstance(node, str):
                out.append(self.text(node))
                continue
            tag, classes = node.tag, node.classes
            if tag in SKIPPED:
                continue
            if tag == "br":
                out.append("#linebreak()")
                continue
            if tag in ("img", "svg-chart"):
                source = self._chart_source(node)
                if source:
                    svg, alt = source
                    out.append(f"#box(image(bytes({string(svg)}), format: \"svg\", width: {_chart_width(svg)}, "
                               f"alt: {string(alt)}))")
                elif node.attrs.get("alt"):
                    out.append(self.text(node.attrs["alt"]))
                continue
            body = self.inline(node.children) if _is_inline(node) else self.blocks(node.children)
            if tag in ("strong", "b"):
                body = f"#strong[{body}]"
            elif tag in ("em", "i", "cite", "var"):
                body = f"#emph[{body}]"
            elif tag == "sup":
                body = f"#super[{body}]"
            elif tag == "sub":
                body = f"#sub[{body}]"
            elif tag == "a":
                href = node.attrs.get("href", "")
                if href.startswith("#") and href[1:] in self.anchors:
                    body = f"#link({label(href[1:])})[{body}]"
                elif href.startswith(("https://", "http://", "mailto:")):
                    body = f"#link({string(href)})[{body}]"
            if tag in ("code", "kbd", "samp"):
                body = f"#mono[{body}]"
            body = _styled(body, classes)
            if "chip" in classes:
                kind = next((c for c in classes if c != "chip"), "")
                body = f"#chip({string(kind)})[{body}]"
            out.append(body)
        return "".join(out)

    def text(self, text):
        text = _SPACE.sub(" ", text)
        if not text:
            return ""
        if not _BREAKABLE_TOKEN.search(text):
            return f"#{string(text)}"
        # An identifier, a feature slice or a hash has no break opportunity a line breaker
        # knows of, and would run out of a narrow cell. Each of its pieces is set in its own
        # box: a line may break between boxes, and the text keeps no invisible break
        # character, so a copied hash is the hash.
        pieces, plain = [], []
        for part in re.split(r"( )", text):
            if not _BREAKABLE_TOKEN.fullmatch(part):
                plain.append(part)
                continue
            if plain:
                pieces.append(f"#{string(''.join(plain))}")
                plain = []
            for piece in _AFTER_PUNCTUATION.findall(part):
                pieces.extend(f"#box[#{string(piece[i:i + CHUNK])}]" for i in range(0, len(piece), CHUNK))
        if plain:
            pieces.append(f"#{string(''.join(plain))}")
        return "".join(pieces)


def _blk(classes, body):
    styled = [c for c in classes if c in BLOCK_CLASSES or c in ("pass", "fail", "inconclusive")]
    return f"#blk(({''.join(string(c) + ', ' for c in styled)}))[{body}]"


def _styled(body, classes):
    """``body`` inside report.typ's inline style of each class it has, in INLINE_CLASSES' order."""
    for cls in INLINE_CLASSES:
        if cls in classes:
            body = f"#{cls}[{body}]"
    return body


def _is_narrow(width):
    """Whether a column is narrower than about 30 mm (15% of the page's text width)."""
    number = re.match(r"[\d.]+", width)
    if number is None:
        return False  # 1fr: what the others leave, wide in the report's tables
    value, unit = float(number.group(0)), width[number.end():]
    return {"%": value < 15, "mm": value < 30, "cm": value < 3, "pt": value < 85}.get(unit, False)


def _cells(row):
    return [c for c in row.children if isinstance(c, _Node) and c.tag in ("td", "th")]


def _span(cell):
    try:
        return max(1, min(int(cell.attrs.get("colspan") or 1), 100))
    except ValueError:
        return 1
