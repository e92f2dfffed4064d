from django.urls import path

from audits.runs import views

urlpatterns = [
    path("runs/", views.run_list, name="run-list"),
    path("runs/new/<uuid:version_id>/", views.run_create, name="run-create"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<uuid:run_id>/progress/", views.run_progress, name="run-progress"),
]
