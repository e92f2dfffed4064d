from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "governance.metrics"
    label = "metrics"
    verbose_name = "Metrics"
