"""Files the signed report carries inside it, as PDF/A-3 associated files.

The control-coverage section of the PDF is a summary; the full table, one row per control
of each framework with its status, evidence references and notes, is this CSV, embedded in
the same PDF/A-3 file (so the signature covers it) with /AFRelationship /Data: it is the
data the section's tables and charts are drawn from. A machine reads it better than 12 pages
of table, and a person opens it from the PDF reader's attachments panel.
"""

from __future__ import annotations

import csv
import io

COVERAGE_COLUMNS = ["framework", "group", "group_title", "control", "text", "status", "status_label",
                    "evidence", "notes"]
# A spreadsheet runs a cell that starts with one of these as a formula; notes are typed by people,
# so such a cell is written with a leading apostrophe (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COVERAGE_DESCRIPTION = ("Control coverage of report {number}: every control of each framework with its status "
                        "for this version, its evidence (EV-nn, see the evidence register) and notes.")


def coverage_rows(coverage: dict) -> list[dict]:
    """One row per control, in the report's order (framework, then the catalogue's order)."""
    return [{"framework": fw["label"], "group": c["group"], "group_title": c["group_title"], "control": c["ref"],
             "text": c["text"], "status": c["status"], "status_label": c["status_label"],
             "evidence": " ".join(c["evidence"]), "notes": _inert(c["notes"] or "")}
            for fw in coverage["frameworks"] for c in fw["controls"]]


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def coverage_csv(coverage: dict) -> bytes:
    """The coverage table as UTF-8 CSV (RFC 4180: CRLF line ends, a header row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COVERAGE_COLUMNS)
    writer.writeheader()
    writer.writerows(coverage_rows(coverage))
    return out.getvalue().encode("utf-8")
