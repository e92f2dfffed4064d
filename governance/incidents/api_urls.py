from django.urls import path

from governance.incidents import api

urlpatterns = [
    path("public/systems/<slug:slug>/reports/", api.PublicReportsView.as_view(), name="api-public-reports"),
    path("public/systems/<slug:slug>/reports/<str:reference>/", api.PublicReportStatusView.as_view(),
         name="api-public-report-status"),
    path("incidents/", api.IncidentListView.as_view(), name="api-incident-list"),
    path("incidents/<int:number>/", api.IncidentDetailView.as_view(), name="api-incident-detail"),
    path("incidents/<int:number>/transition/", api.IncidentTransitionView.as_view(), name="api-incident-transition"),
    path("incidents/<int:number>/regulator-report/", api.IncidentRegulatorView.as_view(),
         name="api-incident-regulator"),
]
