from django.core.management.base import BaseCommand, CommandError

from governance.trail import trail_verify


class Command(BaseCommand):
    help = "Walk the hash-chained audit trail; exit non-zero and name the first broken row if it was tampered with."

    def add_arguments(self, parser):
        parser.add_argument("--expect-head", help="the head hash recorded elsewhere earlier (detects cut-off rows)")

    def handle(self, *args, expect_head=None, **options):
        result = trail_verify(expect_head=expect_head)
        if not result.ok:
            raise CommandError(f"audit trail BROKEN at row {result.first_broken_seq}: {result.problem}")
        self.stdout.write(self.style.SUCCESS(f"audit trail intact: {result.rows} rows; head hash {result.last_hash}"))
