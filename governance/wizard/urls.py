from django.urls import path

from governance.wizard import views

urlpatterns = [
    path("wizard/", views.wizard_start, name="wizard"),
    path("wizard/<slug:slug>/data/", views.wizard_data, name="wizard-data"),
    path("wizard/<slug:slug>/model/", views.wizard_model, name="wizard-model"),
    path("wizard/<slug:slug>/<uuid:version_id>/audits/", views.wizard_audits, name="wizard-audits"),
    path("wizard/<slug:slug>/<uuid:version_id>/results/", views.wizard_results, name="wizard-results"),
    path("wizard/<slug:slug>/<uuid:version_id>/approval/", views.wizard_approval, name="wizard-approval"),
]
