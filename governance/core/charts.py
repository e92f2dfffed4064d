"""Standalone, accessible SVG charts shared by web pages and the PDF report.

Every function returns one ``<svg>`` string: ``role="img"`` with a
``<title>`` and a ``<desc>`` (a text version of the data, for screen
readers and for anyone reading the PDF's text layer), no script, no
transparency (print-friendly and trouble-free in PDF/A), text at 11 px or
more in a 640-unit-wide viewBox (about 8 pt when printed full width on A4).

Colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color
Universal Design"), which stays distinguishable under the common forms of
colour-vision deficiency; lines also differ by dash pattern and charts
carry legends and value labels, so colour is never the only cue.

All text is XML-escaped; characters XML 1.0 cannot carry are dropped.
Element ids derive from a hash of the chart's content, so several charts
can sit inline in one HTML page and the output is reproducible.
"""

import hashlib
import html
import math
import re

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "1 2")
COVERAGE_STATUSES = ("satisfied", "stale", "failed", "in_progress", "not_started", "not_applicable")
# Counts are printed in near-black on every fill: it contrasts more (>= 4.5:1,
# WCAG AA) than white does on the green and vermillion.
COVERAGE_STYLE = {  # label, fill
    "satisfied": ("Satisfied", "#009E73"),
    "stale": ("Stale", "#E69F00"),
    "failed": ("Failed", "#D55E00"),
    "in_progress": ("In progress", "#56B4E9"),
    "not_started": ("Not started", "#BBBBBB"),
    "not_applicable": ("Not applicable", "#FFFFFF"),
}

SIZE_INVALID = "width and height must be positive numbers."
ITEMS_INVALID = "items must be a list of dicts, each with a 'label' and a 'value'."
CI_INVALID = "ci must be None or a [low, high] pair with low <= high."
SERIES_INVALID = "series must be a list of dicts, each with a 'name' and a list of (x, y) 'points'."
RANGE_INVALID = "{name} must be None or a (low, high) pair with low < high."
BINS_INVALID = "edges_or_categories must be bin edges (increasing numbers) or category labels."
HISTOGRAM_LENGTH_MISMATCH = "reference and current must each hold one value per bin ({bins} bins)."
ROWS_INVALID = "rows must be a list of dicts, each with a 'label' and a 'counts' dict."
COVERAGE_UNKNOWN_STATUS = "Unknown coverage status {status!r}; expected one of " + ", ".join(COVERAGE_STATUSES) + "."
NEGATIVE_COUNT = "Coverage counts must be non-negative integers."

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
INK, MUTED, GRID = "#1a1a1a", "#555555", "#d9d9d9"
NO_DATA = "No data available."

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- primitives ----------------------------------------------------------------

def _esc(value):
    return html.escape(_XML_INVALID.sub("", str(value)), quote=True)


def _short(label, limit):
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _num(value):
    """A finite float, or None for None/NaN/inf/non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _fmt(value):
    if value is None:
        return "n/a"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _tick(value):
    """An axis label that fits the margin: 5,000,000 reads 5M, 250,000 reads 250k (from 10,000 up)."""
    for start, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(value) >= start:
            return _fmt(value / unit) + suffix
    return _fmt(value)


def _check_size(width, height):
    for size in (width, height):
        if _num(size) is None or size <= 0:
            raise ValueError(SIZE_INVALID)


def _check_range(pair, name):
    if pair is None:
        return None
    try:
        low, high = (_num(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(RANGE_INVALID.format(name=name)) from None
    if low is None or high is None or not low < high:
        raise ValueError(RANGE_INVALID.format(name=name))
    return low, high


def _nice_step(span, count):
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _auto_range(values, *, include_zero, unit=True):
    """A (low, high) range that covers ``values`` and ends on nice numbers."""
    values = [v for v in values if v is not None] + ([0.0] if include_zero else [])
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if low >= 0 and high <= 1 and include_zero and unit:
        return 0.0, 1.0  # shares, rates and scores read best on their full scale
    if low == high:
        low, high = low - 1, high + 1
    step = _nice_step(high - low, 5)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def _ticks(low, high, count=5):
    step = _nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _scale(low, high, start, end, *, clamp=True):
    span = (high - low) or 1.0
    if not clamp:  # the caller clips instead, so slopes stay true at the edges
        return lambda v: start + (v - low) / span * (end - start)
    return lambda v: start + (min(max(v, low), high) - low) / span * (end - start)


def _chart_id(kind, *parts):
    digest = hashlib.sha1(repr((kind, parts)).encode("utf-8", "replace")).hexdigest()
    return f"chart-{kind}-{digest[:10]}"


def _text(x, y, content, *, size=12, anchor="start", weight=None, fill=INK, extra=""):
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"'
            f' fill="{fill}"{bold}{extra}>{_esc(content)}</text>')


def _el(tag, **attrs):
    """One empty SVG element; floats get one decimal, ``stroke_width`` -> ``stroke-width``."""
    def value(v):
        return f"{v:.1f}" if isinstance(v, float) else _esc(v)
    rendered = " ".join(f'{k.rstrip("_").replace("_", "-")}="{value(v)}"' for k, v in attrs.items() if v is not None)
    return f"<{tag} {rendered}/>"


def _svg(chart_id, width, height, title, desc, body):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' font-family="{FONT}" font-size="12">'
        f'<title id="{chart_id}-title">{_esc(title)}</title>'
        f'<desc id="{chart_id}-desc">{_esc(desc)}</desc>'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        + _text(12, 22, title, size=15, weight="bold")
        + "".join(body)
        + "</svg>"
    )


def _empty(kind, title, width, height):
    chart_id = _chart_id(kind, title, "empty")
    return _svg(chart_id, width, height, title, NO_DATA,
                [_text(width / 2, height / 2, NO_DATA, size=13, anchor="middle", fill=MUTED)])


LEGEND_CHARS = 64


def _legend(entries, *, x, y, width):
    """Legend swatches laid out left to right, wrapping; returns (svg, height)."""
    parts, cx, cy = [], x, y
    for label, swatch in entries:
        # Long names wrap to the next line rather than being cut: a legend must name its series.
        text = _short(label, LEGEND_CHARS)
        item_width = 40 + 7 * len(text)
        if cx > x and cx + item_width > width - 12:
            cx, cy = x, cy + 18
        parts.append(swatch(cx, cy) + _text(cx + 26, cy + 4, text, size=11))
        cx += item_width
    return "".join(parts), (cy - y) + 18


def _axes_corner(left, right, top, bottom):
    return _el("path", d=f"M{left},{top:.1f}V{bottom:.1f}H{right}", fill="none", stroke=MUTED, stroke_width=1)


def _x_axis(scale, ticks, *, top, bottom, label, width, fmt=_fmt):
    parts = []
    for tick in ticks:
        x = scale(tick)
        parts.append(_el("line", x1=x, y1=float(top), x2=x, y2=float(bottom), stroke=GRID, stroke_width=1))
        parts.append(_text(x, bottom + 15, fmt(tick), size=11, anchor="middle", fill=MUTED))
    if label:
        parts.append(_text(width / 2, bottom + 34, label, size=12, anchor="middle"))
    return parts


# --- bar chart with intervals --------------------------------------------------

def _bar_items(items):
    if not isinstance(items, (list, tuple)):
        raise ValueError(ITEMS_INVALID)
    parsed = []
    for item in items:
        if not isinstance(item, dict) or "label" not in item:
            raise ValueError(ITEMS_INVALID)
        ci = item.get("ci")
        low = high = None
        if ci is not None:
            if not isinstance(ci, (list, tuple)) or len(ci) != 2:
                raise ValueError(CI_INVALID)
            low, high = _num(ci[0]), _num(ci[1])
            if low is not None and high is not None and low > high:
                raise ValueError(CI_INVALID)
        parsed.append((str(item["label"]), _num(item.get("value")), low, high))
    return parsed


def _bar_desc(parsed, x_label, threshold):
    parts = []
    for label, value, low, high in parsed:
        text = f"{label}: {_fmt(value)}"
        if low is not None or high is not None:
            text += f" (interval {_fmt(low)} to {_fmt(high)})"
        parts.append(text)
    desc = f"Bar chart of {x_label} for {len(parsed)} groups. " + "; ".join(parts) + "."
    return desc + (f" Threshold: {_fmt(threshold)}." if threshold is not None else "")


def _bar_row(parsed_item, y, row_h, scale, base, value_x, label_w):
    label, value, low, high = parsed_item
    mid = y + row_h / 2
    parts = [f"<g><title>{_esc(label)}</title>",
             _text(label_w - 8, mid + 4, _short(label, 24), anchor="end")]
    if value is not None:
        x0, x1 = sorted((scale(base), scale(value)))
        parts.append(_el("rect", x=x0, y=y + row_h * 0.2, width=max(x1 - x0, 1.0),
                         height=row_h * 0.6, fill=OKABE_ITO[0]))
    if low is not None and high is not None:
        a, b = scale(low), scale(high)
        parts.append(f'<path d="M{a:.1f},{mid - 6:.1f}V{mid + 6:.1f}M{a:.1f},{mid:.1f}H{b:.1f}'
                     f'M{b:.1f},{mid - 6:.1f}V{mid + 6:.1f}" stroke="{INK}" stroke-width="1.5" fill="none"/>')
    interval = f" [{_fmt(low)}, {_fmt(high)}]" if low is not None or high is not None else ""
    parts.append(_text(value_x, mid + 4, _fmt(value) + interval, size=11, anchor="end"))
    return "".join(parts) + "</g>"


def _box_swatch(fill, stroke=None, stroke_width=None):
    return lambda x, y: _el("rect", x=x, y=y - 5, width=20, height=10, fill=fill,
                            stroke=stroke, stroke_width=stroke_width)


def _line_swatch(colour, dash, stroke_width=2.5):
    return lambda x, y: _el("line", x1=x, y1=y, x2=x + 20, y2=y, stroke=colour,
                            stroke_width=stroke_width, stroke_dasharray=dash or None)


def _interval_swatch(x, y):
    return _el("path", d=f"M{x},{y - 5}V{y + 5}M{x},{y}H{x + 20}M{x + 20},{y - 5}V{y + 5}",
               stroke=INK, stroke_width=1.5, fill="none")


def _bar_legend(parsed, threshold, width):
    entries = [("Value", _box_swatch(OKABE_ITO[0]))]
    if any(low is not None and high is not None for _, _, low, high in parsed):
        entries.append(("Interval", _interval_swatch))
    if threshold is not None:
        entries.append((f"Threshold {_fmt(threshold)}", _line_swatch(OKABE_ITO[1], "6 4", 2)))
    return _legend(entries, x=12, y=42, width=width)


def bar_chart_with_intervals(items, *, title, x_label, threshold=None, x_range=None, width=640, height=None):
    """Horizontal bars (one per group) with optional intervals and a threshold line.

    ``items``: ``[{"label": str, "value": float|None, "ci": [lo, hi]|None}]``.
    ``height`` defaults to what the rows need.
    """
    parsed = _bar_items(items)
    threshold = _num(threshold)
    x_range = _check_range(x_range, "x_range")
    row_h, label_w, value_w = 28, 170, 120
    legend, legend_h = _bar_legend(parsed, threshold, width)
    top = 42 + legend_h + 4
    height = height if height is not None else top + max(len(parsed), 1) * row_h + 52
    _check_size(width, height)
    if not parsed:
        return _empty("bar", title, width, height)
    values = [v for item in parsed for v in item[1:]] + [threshold]
    low, high = x_range or _auto_range(values, include_zero=True)
    scale = _scale(low, high, label_w, width - value_w)
    bottom = top + len(parsed) * row_h
    body = [legend] + _x_axis(scale, _ticks(low, high), top=top, bottom=bottom, label=x_label, width=width)
    base = min(max(0.0, low), high)
    body += [_bar_row(item, top + i * row_h, row_h, scale, base, width - 8, label_w)
             for i, item in enumerate(parsed)]
    if threshold is not None:
        x = scale(threshold)
        body.append(_el("line", x1=x, y1=float(top - 4), x2=x, y2=float(bottom),
                        stroke=OKABE_ITO[1], stroke_width=2, stroke_dasharray="6 4"))
    zero = scale(base)
    body.append(_el("line", x1=zero, y1=float(top), x2=zero, y2=float(bottom), stroke=MUTED, stroke_width=1))
    chart_id = _chart_id("bar", title, x_label, parsed, threshold, x_range)
    return _svg(chart_id, width, height, title, _bar_desc(parsed, x_label, threshold), body)


# --- line chart ------------------------------------------------------------------

def _parse_series(series):
    if not isinstance(series, (list, tuple)):
        raise ValueError(SERIES_INVALID)
    parsed = []
    for entry in series:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError(SERIES_INVALID)
        points = entry.get("points") or []
        if not isinstance(points, (list, tuple)) or any(
            not isinstance(p, (list, tuple)) or len(p) != 2 for p in points
        ):
            raise ValueError(SERIES_INVALID)
        parsed.append((str(entry["name"]), [(_num(x), _num(y)) for x, y in points]))
    return parsed


def _segments(points):
    """Split a series at missing values, so a gap is drawn as a gap."""
    segments = [[]]
    for x, y in points:
        if x is None or y is None:
            segments.append([])
        else:
            segments[-1].append((x, y))
    return [segment for segment in segments if segment]


def _series_style(index):
    return OKABE_ITO[index % len(OKABE_ITO)], DASHES[index % len(DASHES)]


def _series_path(index, points, sx, sy):
    colour, dash = _series_style(index)
    parts = []
    for segment in _segments(points):
        d = "M" + "L".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in segment)
        parts.append(_el("path", d=d, fill="none", stroke=colour, stroke_width=2, stroke_dasharray=dash or None))
        if len(points) <= 40:  # markers help on short series, clutter long ones
            parts += [_el("circle", cx=sx(x), cy=sy(y), r=2.5, fill=colour) for x, y in segment]
    return parts


def _line_desc(parsed, x_label, y_label):
    parts = []
    for name, points in parsed:
        ys = [y for _, y in points if y is not None]
        span = f", {y_label} from {_fmt(min(ys))} to {_fmt(max(ys))}" if ys else ""
        parts.append(f"{name} ({len(ys)} points{span})")
    return f"Line chart of {y_label} against {x_label}. Series: " + "; ".join(parts) + "."


def _y_axis(scale, ticks, *, left, right, label, top, bottom):
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(_el("line", x1=float(left), y1=y, x2=float(right), y2=y, stroke=GRID, stroke_width=1))
        parts.append(_text(left - 6, y + 4, _tick(tick), size=11, anchor="end", fill=MUTED))
    mid = (top + bottom) / 2
    parts.append(_text(14, mid, label, size=12, anchor="middle",
                       extra=f' transform="rotate(-90 14 {mid:.1f})"'))
    return parts


def line_chart(series, *, title, x_label, y_label, y_range=(0, 1), x_range=None,
               x_ticks=None, width=640, height=360):
    """Lines over a numeric x axis: robustness curves, ROC curves, metric history.

    ``series``: ``[{"name": str, "points": [(x, y), ...]}]``; a None x or y
    breaks the line. ``y_range``/``x_range``: (low, high) or None for
    automatic. ``x_ticks``: optional ``[(x, label)]``, e.g. dates for history.
    """
    _check_size(width, height)
    parsed = _parse_series(series)
    y_range, x_range = _check_range(y_range, "y_range"), _check_range(x_range, "x_range")
    if not any(x is not None and y is not None for _, points in parsed for x, y in points):
        return _empty("line", title, width, height)
    legend, legend_h = _legend([(name, _line_swatch(*_series_style(i))) for i, (name, _) in enumerate(parsed)],
                               x=12, y=42, width=width)
    left, right, top, bottom = 64, width - 20, 42 + legend_h + 6, height - 52
    x_low, x_high = x_range or _auto_range([x for _, p in parsed for x, _ in p], include_zero=False)
    y_low, y_high = y_range or _auto_range([y for _, p in parsed for _, y in p], include_zero=False)
    sx = _scale(x_low, x_high, left, right, clamp=False)
    sy = _scale(y_low, y_high, bottom, top, clamp=False)
    chart_id = _chart_id("line", title, x_label, y_label, parsed, y_range, x_range, x_ticks)
    tick_values = [t for t, _ in x_ticks] if x_ticks else _ticks(x_low, x_high)
    labels = dict(x_ticks) if x_ticks else {}
    body = [legend]
    body += _x_axis(sx, [t for t in tick_values if x_low <= t <= x_high], top=top, bottom=bottom,
                    label=x_label, width=(left + right), fmt=lambda t: labels.get(t, _fmt(t)))
    body += _y_axis(sy, _ticks(y_low, y_high), left=left, right=right, label=y_label, top=top, bottom=bottom)
    clip = _el("rect", x=left, y=float(top), width=right - left, height=float(bottom - top))
    body.append(f'<clipPath id="{chart_id}-clip">{clip}</clipPath>')
    body.append(f'<g clip-path="url(#{chart_id}-clip)">')
    for index, (_, points) in enumerate(parsed):
        body += _series_path(index, points, sx, sy)
    body.append("</g>")
    body.append(_axes_corner(left, right, top, bottom))
    return _svg(chart_id, width, height, title, _line_desc(parsed, x_label, y_label), body)


# --- overlay histogram (drift) -------------------------------------------------

def _bins(edges_or_categories):
    """(labels at boundaries or None, labels at centres or None, bin count)."""
    if not isinstance(edges_or_categories, (list, tuple)):
        raise ValueError(BINS_INVALID)
    values = list(edges_or_categories)
    if not values or any(isinstance(v, str) for v in values):
        return None, [str(v) for v in values], len(values)
    # Edges may be infinite (open first/last bins); bins are drawn with
    # equal widths anyway, so only the order matters.
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) for v in values):
        raise ValueError(BINS_INVALID)
    if len(values) < 2 or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(BINS_INVALID)
    boundaries = ["\u2212\u221e" if v == -math.inf else "\u221e" if v == math.inf else _fmt(float(v)) for v in values]
    return boundaries, None, len(values) - 1


def _shares(values, bins, normalize):
    if not isinstance(values, (list, tuple)) or len(values) != bins:
        raise ValueError(HISTOGRAM_LENGTH_MISMATCH.format(bins=bins))
    numbers = [max(_num(v) or 0.0, 0.0) for v in values]
    total = sum(numbers)
    return [v / total for v in numbers] if normalize and total > 0 else numbers


def _hist_desc(names, centre_labels, boundaries, ref, cur, x_label):
    names_per_bin = centre_labels or [f"{a} to {b}" for a, b in zip(boundaries, boundaries[1:])]
    parts = [f"{n}: {names[0]} {_fmt(r)}, {names[1]} {_fmt(c)}" for n, r, c in zip(names_per_bin, ref, cur)]
    shown = "; ".join(parts[:40]) + ("; \u2026" if len(parts) > 40 else "")
    return f"Overlay of {names[0]} and {names[1]} distributions of {x_label} over {len(parts)} bins. {shown}."


def _rotate_labels(centre_labels, bin_w):
    if centre_labels is None:
        return False
    return len(centre_labels) > 8 or max(len(_short(c, 16)) for c in centre_labels) * 6.5 > bin_w


def _hist_x_labels(boundaries, centre_labels, left, bin_w, bottom):
    parts = []
    if centre_labels is not None:
        rotate = _rotate_labels(centre_labels, bin_w)
        for i, label in enumerate(centre_labels):
            x, y = left + (i + 0.5) * bin_w, bottom + 15
            extra = f' transform="rotate(-40 {x:.1f} {y:.1f})"' if rotate else ""
            parts.append(_text(x, y, _short(label, 16), size=11, anchor="end" if rotate else "middle",
                               fill=MUTED, extra=extra))
        return parts
    every = max(1, math.ceil(len(boundaries) / 9))
    for i, label in enumerate(boundaries):
        if i % every == 0 or i == len(boundaries) - 1:
            parts.append(_text(left + i * bin_w, bottom + 15, label, size=11, anchor="middle", fill=MUTED))
    return parts


def overlay_histogram(edges_or_categories, reference, current, *, title, x_label="", y_label=None,
                      labels=("Reference", "Current"), normalize=True, width=640, height=320):
    """Reference (filled bars) and current (outlined bars) over the same bins.

    ``edges_or_categories``: n+1 increasing bin edges (may be +-inf) or n
    category labels; ``reference``/``current``: n counts or shares (None is
    0). With ``normalize`` both are drawn as shares of their own total, so
    samples of different sizes compare.
    """
    _check_size(width, height)
    boundaries, centre_labels, bins = _bins(edges_or_categories)
    ref, cur = _shares(reference, bins, normalize), _shares(current, bins, normalize)
    y_label = y_label or ("Share" if normalize else "Count")
    if bins == 0 or not any(ref + cur):
        return _empty("hist", title, width, height)
    names = [str(n) for n in labels]
    legend, legend_h = _legend([(names[0], _box_swatch(OKABE_ITO[5])),
                                (names[1], _box_swatch("none", OKABE_ITO[1], 2))], x=12, y=42, width=width)
    left, right, top = 64, width - 20, 42 + legend_h + 6
    bin_w = (right - left) / bins
    bottom = height - (90 if _rotate_labels(centre_labels, bin_w) else 52)
    y_low, y_high = _auto_range(ref + cur, include_zero=True, unit=False)
    sy = _scale(y_low, y_high, bottom, top)
    body = [legend] + _y_axis(sy, _ticks(y_low, y_high), left=left, right=right, label=y_label,
                              top=top, bottom=bottom)
    for i, (r, c) in enumerate(zip(ref, cur)):
        x = left + i * bin_w
        body.append(_el("rect", x=x + 1, y=sy(r), width=max(bin_w - 2, 1.0), height=bottom - sy(r),
                        fill=OKABE_ITO[5]))
        body.append(_el("rect", x=x + 2, y=sy(c), width=max(bin_w - 4, 1.0), height=bottom - sy(c),
                        fill="none", stroke=OKABE_ITO[1], stroke_width=2))
    body += _hist_x_labels(boundaries, centre_labels, left, bin_w, bottom)
    if x_label:
        body.append(_text((left + right) / 2, height - 8, x_label, anchor="middle"))
    body.append(_axes_corner(left, right, top, bottom))
    chart_id = _chart_id("hist", title, x_label, boundaries, centre_labels, ref, cur, names)
    return _svg(chart_id, width, height, title, _hist_desc(names, centre_labels, boundaries, ref, cur, x_label), body)


# --- control coverage ----------------------------------------------------------

def _coverage_rows(rows):
    if not isinstance(rows, (list, tuple)):
        raise ValueError(ROWS_INVALID)
    parsed = []
    for row in rows:
        if not isinstance(row, dict) or "label" not in row or not isinstance(row.get("counts", {}), dict):
            raise ValueError(ROWS_INVALID)
        counts = dict.fromkeys(COVERAGE_STATUSES, 0)
        for status, count in (row.get("counts") or {}).items():
            if status not in counts:
                raise ValueError(COVERAGE_UNKNOWN_STATUS.format(status=status))
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise ValueError(NEGATIVE_COUNT)
            counts[status] = count or 0
        parsed.append((str(row["label"]), counts))
    return parsed


def _coverage_row(label, counts, y, row_h, left, right, total_x):
    total = sum(counts.values())
    parts = [f"<g><title>{_esc(label)}</title>",
             _text(left - 8, y + row_h / 2 + 4, _short(label, 24), anchor="end")]
    x, bar_w = left, right - left
    for status in COVERAGE_STATUSES:
        if not counts[status]:
            continue
        fill = COVERAGE_STYLE[status][1]
        w = bar_w * counts[status] / total
        parts.append(_el("rect", x=float(x), y=float(y + 4), width=float(w), height=row_h - 8,
                         fill=fill, stroke="#ffffff", stroke_width=1))
        if w >= 8 * len(str(counts[status])) + 6:
            parts.append(_text(x + w / 2, y + row_h / 2 + 4, counts[status], size=11, anchor="middle"))
        x += w
    parts.append(_el("rect", x=left, y=float(y + 4), width=bar_w, height=row_h - 8,
                     fill="none", stroke=MUTED, stroke_width=1))
    parts.append(_text(total_x, y + row_h / 2 + 4, f"{counts['satisfied']} / {total}", size=11, anchor="end"))
    return "".join(parts) + "</g>"


def coverage_bars(rows, *, title, width=640, height=None):
    """One 100 % stacked bar per row (framework, function, system) of control statuses.

    ``rows``: ``[{"label": str, "counts": {"satisfied": int, "failed": int,
    "in_progress": int, "not_started": int, "not_applicable": int}}]``;
    missing statuses count 0. The right column reads "satisfied / total".
    """
    parsed = _coverage_rows(rows)
    row_h, label_w = 30, 170
    legend, legend_h = _legend([(COVERAGE_STYLE[s][0], _box_swatch(COVERAGE_STYLE[s][1], MUTED, 0.5))
                                for s in COVERAGE_STATUSES], x=12, y=42, width=width)
    top = 42 + legend_h + 6
    height = height if height is not None else top + max(len(parsed), 1) * row_h + 16
    _check_size(width, height)
    if not parsed:
        return _empty("coverage", title, width, height)
    body = [legend] + [_coverage_row(label, counts, top + i * row_h, row_h, label_w, width - 80, width - 8)
                       for i, (label, counts) in enumerate(parsed)]
    desc = f"Control coverage for {len(parsed)} rows. " + "; ".join(
        f"{label}: " + ", ".join(f"{counts[s]} {COVERAGE_STYLE[s][0].lower()}" for s in COVERAGE_STATUSES)
        + f" (total {sum(counts.values())})" for label, counts in parsed) + "."
    return _svg(_chart_id("coverage", title, parsed), width, height, title, desc, body)
