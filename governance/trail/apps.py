from django.apps import AppConfig


class TrailConfig(AppConfig):
    name = "governance.trail"
    label = "trail"
    verbose_name = "Audit trail"

    def ready(self):
        from governance.trail import receivers  # noqa: F401 - writes admin changes to the trail
