from django.urls import path

from governance.trail import api

urlpatterns = [
    path("audit-log/export/", api.TrailExportView.as_view(), name="api-trail-export"),
    path("audit-log/verify/", api.TrailVerifyView.as_view(), name="api-trail-verify"),
]
