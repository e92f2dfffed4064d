from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "audits.runs"
    label = "runs"
    verbose_name = "Audit runs"
