import sys

from django.core.management.base import BaseCommand

from governance.trail.services import trail_export


class Command(BaseCommand):
    help = "Export the audit trail as JSON Lines (one row a line, with seq, prev_hash and hash) for auditors."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--since-seq", type=int, default=0, help="only rows after this seq")

    def handle(self, *args, output=None, since_seq=0, **options):
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                count = trail_export(fh, since_seq=since_seq)
            self.stderr.write(f"wrote {count} rows to {output}")
        else:
            count = trail_export(sys.stdout, since_seq=since_seq)
            self.stderr.write(f"exported {count} rows")
