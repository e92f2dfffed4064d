"""The API of the kinds that have their own (under /api/v1/; every kind's runs are /api/v1/audit-runs/)."""

from importlib import import_module

from django.urls import include, path

from audits.runs.registry import KINDS

urlpatterns = [path("", include(getattr(import_module(kind.urls), "api_urlpatterns", []))) for kind in KINDS.values() if kind.urls]
