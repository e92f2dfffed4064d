"""The pages of the kinds that have their own (besides the run page every kind shares)."""

from django.urls import include, path

from audits.runs.registry import KINDS

urlpatterns = [path("", include(kind.urls)) for kind in KINDS.values() if kind.urls]
