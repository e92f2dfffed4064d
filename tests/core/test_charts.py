"""SVG charts: well-formed, accessible, escaped, and drawn where the numbers say.

Accessibility follows the W3C WAI-ARIA Graphics Module and SVG 2 (role="img",
<title>/<desc> referenced by aria-labelledby). Palette: Okabe & Ito (2008).
Geometry expectations are hand-computed from the layout constants noted in
each test.
"""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from governance.core.charts import (
    BINS_INVALID,
    CI_INVALID,
    COVERAGE_UNKNOWN_STATUS,
    HISTOGRAM_LENGTH_MISMATCH,
    ITEMS_INVALID,
    NEGATIVE_COUNT,
    NO_DATA,
    RANGE_INVALID,
    ROWS_INVALID,
    SERIES_INVALID,
    SIZE_INVALID,
    bar_chart_with_intervals,
    coverage_bars,
    line_chart,
    overlay_histogram,
)

SVG = "{http://www.w3.org/2000/svg}"
NASTY = "<script>alert('x')</script> & \"co\"\x00\x07"
CLEAN = "<script>alert('x')</script> & \"co\""


def bars(items=None, **options):
    items = [{"label": "A", "value": 0.5, "ci": [0.4, 0.6]}] if items is None else items
    return bar_chart_with_intervals(items, **{"title": "Bars", "x_label": "rate", **options})


def lines(series=None, **options):
    series = [{"name": "s", "points": [(0, 0.2), (1, 0.8)]}] if series is None else series
    return line_chart(series, **{"title": "Line", "x_label": "x", "y_label": "y", **options})


def hist(edges=(0, 1, 2), reference=(1, 3), current=(2, 2), **options):
    return overlay_histogram(list(edges), list(reference), list(current), **{"title": "Drift", **options})


def coverage(rows=None, **options):
    rows = [{"label": "NIST", "counts": {"satisfied": 1, "failed": 3}}] if rows is None else rows
    return coverage_bars(rows, **{"title": "Coverage", **options})


ALL = {"bars": bars, "lines": lines, "hist": hist, "coverage": coverage}


def parse(svg):
    return ET.fromstring(svg)


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_each_chart_is_an_accessible_standalone_svg(make):
    root = parse(make())

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text and desc.text
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert root.get("viewBox").startswith("0 0 ")


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_no_script_and_no_transparency(make):
    svg = make()

    assert "<script" not in svg and "opacity" not in svg and "rgba" not in svg


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_text_is_never_smaller_than_11_units(make):
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', make())]

    assert sizes and min(sizes) >= 11


@pytest.mark.parametrize(
    "svg",
    [
        pytest.param(lambda: bars([{"label": NASTY, "value": 0.5}], title=NASTY, x_label=NASTY), id="bars"),
        pytest.param(lambda: lines([{"name": NASTY, "points": [(0, 1)]}], title=NASTY, x_label=NASTY,
                                   y_label=NASTY), id="lines"),
        pytest.param(lambda: hist([NASTY, "b"], title=NASTY, x_label=NASTY, labels=(NASTY, NASTY)), id="hist"),
        pytest.param(lambda: coverage([{"label": NASTY, "counts": {"satisfied": 1}}], title=NASTY), id="coverage"),
    ],
)
def test_labels_and_titles_are_escaped(svg):
    output = svg()
    root = parse(output)  # would raise on an unescaped "<" or "&" or a NUL

    assert "<script" not in output
    assert root.find(f"{SVG}title").text == CLEAN
    assert CLEAN in root.find(f"{SVG}desc").text


@pytest.mark.parametrize(
    "make",
    [lambda: bars([]), lambda: lines([]), lambda: lines([{"name": "s", "points": [(0, None)]}]),
     lambda: hist([], [], []), lambda: hist(["a"], [0], [None]), lambda: coverage([])],
    ids=["bars", "lines", "lines-all-none", "hist", "hist-all-zero", "coverage"],
)
def test_empty_data_gives_a_no_data_chart(make):
    root = parse(make())

    assert root.find(f"{SVG}desc").text == NO_DATA
    assert NO_DATA in texts(root)


def test_bar_lengths_follow_the_scale():
    # Layout: labels take 170 units, values 120, so the plot spans x 170..520
    # for width 640; with x_range (0, 1) a value of 0.5 is 175 units long.
    root = parse(bars([{"label": "A", "value": 0.5}], x_range=(0, 1)))

    (bar,) = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#0072B2" and r.get("x") == "170.0"]
    assert bar.get("width") == "175.0"


def test_bar_ticks_are_nice_numbers_on_a_unit_scale():
    labels = texts(parse(bars()))

    assert [t for t in labels if t in {"0", "0.2", "0.4", "0.6", "0.8", "1"}] == ["0", "0.2", "0.4", "0.6", "0.8", "1"]


def test_bar_with_missing_value_and_half_interval_reads_na():
    root = parse(bars([{"label": "A", "value": None}, {"label": "B", "value": 0.7, "ci": [0.6, None]}],
                      threshold=0.8))

    assert "n/a" in texts(root)
    assert "0.7 [0.6, n/a]" in texts(root)
    desc = root.find(f"{SVG}desc").text
    assert "A: n/a" in desc and "Threshold: 0.8." in desc


def test_bar_threshold_is_a_dashed_line_at_its_value():
    root = parse(bars(threshold=0.8, x_range=(0, 1)))

    # 170 + 0.8 * 350 = 450
    dashed = [line for line in root.iter(f"{SVG}line")
              if line.get("stroke-dasharray") == "6 4" and line.get("x1") == "450.0"]
    assert dashed


def test_long_labels_are_shortened_but_kept_whole_in_a_title():
    label = "A very long group label that goes on and on"
    root = parse(bars([{"label": label, "value": 0.3}]))

    assert any(t.startswith("A very long group label") and t.endswith("\u2026") for t in texts(root))
    assert label in [t.text for t in root.iter(f"{SVG}title")]


def test_a_none_point_breaks_the_line_into_two_paths():
    root = parse(lines([{"name": "s", "points": [(0, 0.1), (1, 0.2), (2, None), (3, 0.4), (4, 0.5)]}]))

    drawn = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#0072B2"]
    assert len(drawn) == 2


def test_lines_differ_by_dash_as_well_as_colour():
    root = parse(lines([{"name": n, "points": [(0, 0.1), (1, 0.2)]} for n in "abc"]))

    styles = {(p.get("stroke"), p.get("stroke-dasharray")) for p in root.iter(f"{SVG}path")
              if p.get("fill") == "none" and p.get("stroke-width") == "2"}
    assert len({dash for _, dash in styles}) == 3 and len({colour for colour, _ in styles}) == 3


def test_lines_are_clipped_to_the_plot_area():
    root = parse(lines([{"name": "s", "points": [(0, 0.5), (1, 1.5)]}]))

    clip = root.find(f".//{SVG}clipPath")
    assert root.find(f".//{SVG}g[@clip-path='url(#{clip.get('id')})']") is not None


def test_x_ticks_may_carry_labels_such_as_dates():
    root = parse(lines(x_ticks=[(0, "2025-01"), (1, "2025-02")]))

    assert {"2025-01", "2025-02"} <= set(texts(root))


def test_histogram_normalises_each_distribution_to_shares():
    # reference (1, 3) -> 0.25, 0.75 ; current (2, 2) -> 0.5, 0.5
    desc = parse(hist()).find(f"{SVG}desc").text

    assert "0 to 1: Reference 0.25, Current 0.5" in desc
    assert "1 to 2: Reference 0.75, Current 0.5" in desc


def test_histogram_accepts_open_ended_edges_and_categories():
    edges = parse(hist([-math.inf, 0, math.inf], [1, 1], [1, 1]))
    categories = parse(hist(["north", "south"], [1, 0], [None, 2], normalize=False))

    assert "\u2212\u221e" in texts(edges) and "\u221e" in texts(edges)
    assert "north: Reference 1, Current 0" in categories.find(f"{SVG}desc").text


def test_coverage_segments_are_proportional_to_counts():
    # Bar spans 170..560 (width 640, 80 units for the total): 390 units;
    # 1 satisfied of 4 -> 97.5, 3 failed -> 292.5.
    # Segments are the rects as tall as a row (30) less 8 units of padding.
    root = parse(coverage())
    segments = [(r.get("fill"), r.get("width")) for r in root.iter(f"{SVG}rect")
                if r.get("height") == "22" and r.get("fill") != "none"]

    assert segments == [("#009E73", "97.5"), ("#D55E00", "292.5")]
    assert "1 / 4" in texts(root)


def test_coverage_describes_every_status():
    desc = parse(coverage()).find(f"{SVG}desc").text

    assert "NIST: 1 satisfied, 0 stale, 3 failed, 0 in progress, 0 not started, 0 not applicable (total 4)" in desc


def test_same_input_same_svg_and_different_charts_different_ids():
    assert bars() == bars()
    assert parse(bars()).find(f"{SVG}title").get("id") != parse(bars(title="Other")).find(f"{SVG}title").get("id")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: bars("nope"), ITEMS_INVALID),
        (lambda: bars([{"value": 1}]), ITEMS_INVALID),
        (lambda: bars([{"label": "a", "value": 1, "ci": [2, 1]}]), CI_INVALID),
        (lambda: bars([{"label": "a", "value": 1, "ci": [1]}]), CI_INVALID),
        (lambda: bars(x_range=(1, 0)), RANGE_INVALID.format(name="x_range")),
        (lambda: bars(width=0), SIZE_INVALID),
        (lambda: lines([{"points": []}]), SERIES_INVALID),
        (lambda: lines([{"name": "s", "points": [(1, 2, 3)]}]), SERIES_INVALID),
        (lambda: lines(y_range=(0, 0)), RANGE_INVALID.format(name="y_range")),
        (lambda: hist([2, 1, 3], [1, 1], [1, 1]), BINS_INVALID),
        (lambda: hist([0, 1, 2], [1], [1, 1]), HISTOGRAM_LENGTH_MISMATCH.format(bins=2)),
        (lambda: overlay_histogram("abc", [1], [1], title="t"), BINS_INVALID),
        (lambda: coverage([{"label": "x", "counts": {"done": 1}}]), COVERAGE_UNKNOWN_STATUS.format(status="done")),
        (lambda: coverage([{"label": "x", "counts": {"failed": -1}}]), NEGATIVE_COUNT),
        (lambda: coverage([{"counts": {}}]), ROWS_INVALID),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_large_axis_values_are_labelled_compactly_so_they_fit_the_margin():
    from governance.core.charts import line_chart

    svg = line_chart([{"name": "rows/s", "points": [(1, 0), (512, 5_000_000)]}], title="Throughput",
                     x_label="batch size", y_label="rows per second", y_range=(0, 5_000_000))
    assert ">5M<" in svg and ">1M<" in svg and "5,000,000<" not in svg
