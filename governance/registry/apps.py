from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "governance.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self):
        from governance.registry import schema  # noqa: F401 - registers the pipeline token's OpenAPI scheme
