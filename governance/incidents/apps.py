from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "governance.incidents"
    label = "incidents"
    verbose_name = "Incidents, feedback and appeals"

    def ready(self):
        # Listens to the audits below it (a drift breach, a failed audit open an incident) and
        # gives the signed report its appeal figures through the reports' section registry.
        from governance.incidents import receivers  # noqa: F401
