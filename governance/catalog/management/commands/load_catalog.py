from django.core.management.base import BaseCommand

from governance.catalog.loader import catalog_load


class Command(BaseCommand):
    help = "Load (or update) the NIST AI RMF 1.0 / ISO/IEC 42001 Annex A catalog and crosswalk. Idempotent."

    def handle(self, *args, **options):
        stats = catalog_load()
        self.stdout.write(f"catalog: {stats.created} controls created, {stats.updated} updated, {stats.links} crosswalk links")
