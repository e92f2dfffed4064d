from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "governance.demo"
    label = "demo"
    verbose_name = "Demo"
