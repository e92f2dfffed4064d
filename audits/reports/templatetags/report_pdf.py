"""Filters of the PDF report and the reports panel (the numbers use the `formatting` library)."""

from __future__ import annotations

import base64
import html as html_lib
import re

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def any_generating(reports) -> bool:
    return any(r.status == "generating" for r in reports or [])


_SVG_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S)


@register.filter
def pdf_figure(svg) -> str:
    """An inline SVG chart as an <img> with a data: URL, for the PDF only.

    The typesetter draws it as the vector image it is (typst_markup.py); the chart's <title>
    becomes the alt text.
    """
    svg = str(svg or "")
    match = _SVG_TITLE.search(svg)
    alt = html_lib.unescape(match.group(1)) if match else "Chart"
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return format_html('<img src="data:image/svg+xml;base64,{}" alt="{}">', data, alt)
