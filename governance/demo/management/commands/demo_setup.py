from django.core.management.base import BaseCommand

from governance.demo.setup import demo_setup


class Command(BaseCommand):
    help = "Create the demo users, systems, datasets and models, and request the demo fairness audit. Idempotent."

    def handle(self, *args, **options):
        state = demo_setup(log=self.stdout.write)
        self.stdout.write(f"fairness audit run: {state.fairness_run.pk} ({state.fairness_run.status})")
