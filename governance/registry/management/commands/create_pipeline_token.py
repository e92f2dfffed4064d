from django.core.management.base import BaseCommand, CommandError

from governance.core.exceptions import ApplicationError
from governance.registry.models import TokenScope
from governance.registry.tokens import pipeline_token_create


class Command(BaseCommand):
    help = "Create a deploy pipeline's scoped API token (and its service account). The token is printed once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="e.g. ci-deploy (the service account is pipeline-<name>)")
        parser.add_argument("--scopes", default=TokenScope.GATE_READ.value,
                            help=f"comma-separated, of: {', '.join(TokenScope.values)} (default gate:read)")
        parser.add_argument("--system", dest="systems", action="append", default=[], metavar="SLUG",
                            help="an AI system the token may act on (repeat for several; at least one)")

    def handle(self, *args, name, scopes, systems, **options):
        try:
            token, key = pipeline_token_create(name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                                               systems=systems)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"pipeline token {token.name!r} for {token.user.username} with scopes {', '.join(token.scopes)} "
                          f"on {', '.join(sorted(systems))}; "
                          "store it in your CI secret store now, it is not shown again:")
        self.stdout.write(key)
