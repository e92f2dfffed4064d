from django.urls import path, re_path

from audits.exports import api

urlpatterns = [
    path("exports/oscal/catalogs/<str:framework>/", api.OscalCatalogExport.as_view(), name="export-oscal-catalog"),
    path("exports/oscal/assessment-results/<slug:slug>/", api.OscalAssessmentResultsExport.as_view(),
         name="export-oscal-assessment-results"),
    re_path(r"^exports/model-cards/(?P<version_id>[0-9a-f-]{36})\.(?P<fmt>md|json)$", api.ModelCardExport.as_view(),
            name="export-model-card"),
]
