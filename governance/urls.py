from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from audits import views as audit_views
from governance import views, views_inbox, views_wizard

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("systems/", views.system_list, name="system-list"),
    path("systems/<slug:slug>/", views.system_detail, name="system-detail"),
    path("systems/<slug:slug>/controls/<str:framework>/<str:ref>/", views.system_control, name="system-control"),
    path("controls/<str:framework>/<str:ref>/", views.control_detail, name="control-detail"),
    path("glossary/", views.glossary_page, name="glossary"),
    path("inbox/", views_inbox.inbox_page, name="inbox"),
    path("inbox/<uuid:pk>/decide/", views_inbox.inbox_decide, name="inbox-decide"),
    path("wizard/", views_wizard.wizard_start, name="wizard"),
    path("wizard/<slug:slug>/data/", views_wizard.wizard_data, name="wizard-data"),
    path("wizard/<slug:slug>/model/", views_wizard.wizard_model, name="wizard-model"),
    path("wizard/<slug:slug>/<uuid:version_id>/audits/", views_wizard.wizard_audits, name="wizard-audits"),
    path("wizard/<slug:slug>/<uuid:version_id>/results/", views_wizard.wizard_results, name="wizard-results"),
    path("wizard/<slug:slug>/<uuid:version_id>/approval/", views_wizard.wizard_approval, name="wizard-approval"),
    path("runs/", audit_views.run_list, name="run-list"),
    path("runs/new/<uuid:version_id>/", audit_views.run_create, name="run-create"),
    path("runs/<uuid:run_id>/", audit_views.run_detail, name="run-detail"),
    path("runs/<uuid:run_id>/progress/", audit_views.run_progress, name="run-progress"),
    # Feature areas own their URL modules (pages and /api/v1/ endpoints alike).
    path("", include("governance.urls_approvals")),
    path("", include("audits.urls_reports")),
    path("", include("audits.urls_drift")),
    path("", include("audits.urls_security")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz/", views.healthz, name="healthz"),
]
