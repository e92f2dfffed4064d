"""`python manage.py verify_report FILE.pdf`: valid / invalid / tampered / unknown, and which
report record the file is. Exit status 0 only for "valid" (1 otherwise), so scripts can use it."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audits.reports.service import report_verify
from governance.core.exceptions import ApplicationError

EXIT_CODES = {"valid": 0, "unknown": 1, "tampered": 2, "invalid": 3}


class Command(BaseCommand):
    help = "Verify a signed report PDF and name the report record it is."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the PDF file")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the result as JSON")

    def handle(self, *args, file, as_json: bool = False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            result = report_verify(upload=path.read_bytes())
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        record = result["report"]
        if as_json:
            self.stdout.write(_dumps(result, record))
        else:
            self._print(path, result, record)
        if result["status"] != "valid":
            raise SystemExit(EXIT_CODES[result["status"]])

    def _print(self, path, result, record):
        style = self.style.SUCCESS if result["status"] == "valid" else self.style.ERROR
        verdict = result["status"].upper() + (", DEVELOPMENT SIGNER (not for regulators)"
                                              if result["status"] == "valid" and result.get("development") else "")
        self.stdout.write(style(f"{path}: {verdict}"))
        self.stdout.write(f"  {result['message']}")
        self.stdout.write(f"  sha256:  {result['sha256']}")
        if record is None:
            self.stdout.write("  report:  none in this registry matches this file")
        else:
            how = {"sha256": "exact file", "signed_revision": "its signed revision, with content appended",
                   "report_number": "the report number it carries (the file does not match the record)"}
            state = f"superseded by {record.superseded_by.report_number}" if record.superseded_by_id else "current"
            self.stdout.write(f"  report:  {record.report_number} ({record.system.slug} {record.version.version}, "
                              f"signed {record.signed_at:%Y-%m-%d %H:%M} UTC, {state}); matched by "
                              f"{how[result['matched_by']]}")
        if result.get("signer_subject"):
            self.stdout.write(f"  signer:  {result['signer_subject']}")
            self.stdout.write(f"  cert sha256: {result['signer_fingerprint']}")


def _dumps(result: dict, record) -> str:
    out = {k: v for k, v in result.items() if k != "report"}
    out["report"] = None if record is None else {
        "id": str(record.pk), "report_number": record.report_number, "system": record.system.slug,
        "version": record.version.version, "sha256": record.sha256,
        "signed_at": record.signed_at.isoformat() if record.signed_at else None,
        "superseded_by": record.superseded_by.report_number if record.superseded_by_id else None,
    }
    return json.dumps(out, indent=2)
