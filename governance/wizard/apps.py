from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "governance.wizard"
    label = "wizard"
    verbose_name = "Guided registration"
