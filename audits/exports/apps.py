from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "audits.exports"
    label = "exports"
    verbose_name = "Exports (OSCAL, model cards)"
