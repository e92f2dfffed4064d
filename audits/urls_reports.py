"""URL patterns owned by one feature; included from governance/urls.py."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from audits import api_reports, views_reports

router = SimpleRouter()
router.register("api/v1/reports", api_reports.ReportViewSet, basename="api-report")

urlpatterns = [
    path("reports/new/", views_reports.report_create, name="report-create"),
    path("reports/verify/", views_reports.report_verify_page, name="report-verify"),
    path("reports/<uuid:report_id>/download/", views_reports.report_download, name="report-download"),
    path("reports/<uuid:report_id>/badge/", views_reports.report_badge, name="report-badge"),
    path("systems/<slug:slug>/reports/panel/", views_reports.report_panel, name="report-panel"),
    path("api/v1/exports/oscal/catalogs/<str:framework>/", api_reports.OscalCatalogExport.as_view(),
         name="export-oscal-catalog"),
    path("api/v1/exports/oscal/assessment-results/<slug:slug>/", api_reports.OscalAssessmentResultsExport.as_view(),
         name="export-oscal-assessment-results"),
    re_path(r"^api/v1/exports/model-cards/(?P<version_id>[0-9a-f-]{36})\.(?P<fmt>md|json)$",
            api_reports.ModelCardExport.as_view(), name="export-model-card"),
    *router.urls,
]
