from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "governance.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio"
