"""Sections that apps above the reports add to every signed report, registered in their
AppConfig.ready() (like the audit kinds' registry), so this app never imports them.

A section is a function `(report) -> dict | None`: {"id", "title", "template", "context"}, or
None when it has nothing to say about the report's version. It reads stored rows only, as the
rest of the report does.
"""

from __future__ import annotations

from collections.abc import Callable

SECTIONS: list[Callable] = []


def register_section(section: Callable) -> None:
    if section not in SECTIONS:
        SECTIONS.append(section)


def report_sections(report) -> list[dict]:
    return [found for found in (section(report) for section in SECTIONS) if found]
