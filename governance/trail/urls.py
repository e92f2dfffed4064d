from django.urls import path

from governance.trail import views

urlpatterns = [
    path("audit-log/", views.trail_list, name="trail-list"),
    path("audit-log/export.jsonl", views.trail_download, name="trail-download"),
]
