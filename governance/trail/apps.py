from django.apps import AppConfig


class TrailConfig(AppConfig):
    name = "governance.trail"
    label = "trail"
    verbose_name = "Audit trail"
