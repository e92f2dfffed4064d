from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "governance.catalog"
    label = "catalog"
    verbose_name = "Controls catalog"

    def ready(self):
        from governance.catalog import receivers  # noqa: F401 - connects to the registry's signals
