from django.apps import AppConfig


class GateConfig(AppConfig):
    name = "governance.gate"
    label = "gate"
    verbose_name = "Deploy gate"

    def ready(self):
        from governance.gate import receivers  # noqa: F401 - connects the gate to the approvals' signals and hooks
