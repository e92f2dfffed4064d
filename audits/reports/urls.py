from django.urls import path

from audits.reports import views

urlpatterns = [
    path("reports/new/", views.report_create, name="report-create"),
    path("reports/verify/", views.report_verify_page, name="report-verify"),
    path("reports/<uuid:report_id>/download/", views.report_download, name="report-download"),
    path("reports/<uuid:report_id>/badge/", views.report_badge, name="report-badge"),
    path("systems/<slug:slug>/reports/panel/", views.report_panel, name="report-panel"),
]
