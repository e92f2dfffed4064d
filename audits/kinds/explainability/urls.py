"""The explainability audit's own page; the audits themselves are requested like any other."""

from django.urls import path

from audits.kinds.explainability import views

urlpatterns = [
    path("runs/<uuid:run_id>/explain-case/", views.explain_case, name="explainability-case"),
]
