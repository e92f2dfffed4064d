from django.apps import AppConfig


class DriftConfig(AppConfig):
    name = "audits.drift"
    label = "drift"
    verbose_name = "Drift reviews"
