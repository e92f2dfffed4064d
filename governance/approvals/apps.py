from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "governance.approvals"
    label = "approvals"
    verbose_name = "Approvals"

    def ready(self):
        from governance.approvals import receivers  # noqa: F401 - connects to the audits' signals
