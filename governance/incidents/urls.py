from django.urls import path

from governance.incidents import views

urlpatterns = [
    # Public: no sign-in (tests/core/test_access.py lists them), CSRF-protected, rate-limited.
    path("report/<slug:slug>/", views.report_public, name="report-public"),
    path("report/<slug:slug>/follow/", views.report_public_status, name="report-public-status"),
    path("systems/<slug:slug>/incidents/", views.incident_list, name="incident-list"),
    path("systems/<slug:slug>/incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<int:number>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:number>/regulator/", views.incident_regulator, name="incident-regulator"),
    path("incidents/<int:number>/<str:action>/", views.incident_act, name="incident-act"),
    path("public-reports/<uuid:pk>/answer/", views.public_report_answer, name="public-report-answer"),
]
