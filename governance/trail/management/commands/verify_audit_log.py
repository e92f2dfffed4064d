from django.core.management.base import BaseCommand, CommandError

from governance.core.exceptions import ApplicationError
from governance.trail.services import parse_anchors, trail_verify


class Command(BaseCommand):
    help = "Walk the hash-chained audit trail; exit non-zero and name the first broken row if it was tampered with."

    def add_arguments(self, parser):
        parser.add_argument("--expect-head", help="the head hash recorded elsewhere earlier (detects cut-off rows)")
        parser.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                            help="a row recorded outside the database, e.g. the audit_trail of a stored gate "
                                 "attestation; it must still be in the chain (repeatable)")

    def handle(self, *args, expect_head=None, anchor=(), **options):
        try:
            anchors = parse_anchors(anchor)
        except ApplicationError as exc:
            raise CommandError(f"--{exc.message}") from None
        result = trail_verify(expect_head=expect_head, anchors=anchors)
        if not result.ok:
            raise CommandError(f"audit trail BROKEN at row {result.first_broken_seq} ({result.kind}): {result.problem}")
        self.stdout.write(self.style.SUCCESS(f"audit trail intact: {result.rows} rows; head hash {result.last_hash}"))
