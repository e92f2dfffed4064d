"""The project's URLs: each app's pages, then one /api/v1/ list of each app's API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from governance.core import docs
from governance.core import views as core_views

api_v1 = [
    path("", include("governance.registry.api_urls")),
    path("", include("governance.catalog.api_urls")),
    path("", include("governance.trail.api_urls")),
    path("", include("audits.runs.api_urls")),
    path("", include("audits.drift.api_urls")),
    path("", include("audits.kinds.api_urls")),
    path("", include("audits.reports.api_urls")),
    path("", include("audits.exports.api_urls")),
    path("", include("governance.incidents.api_urls")),
    path("", include("governance.approvals.api_urls")),
    path("", include("governance.gate.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz/", core_views.healthz, name="healthz"),
    path("", include("governance.metrics.urls")),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("governance.portfolio.urls")),
    path("", include("governance.catalog.urls")),
    path("", include("governance.wizard.urls")),
    path("", include("governance.approvals.urls")),
    path("", include("governance.trail.urls")),
    path("", include("audits.runs.urls")),
    path("", include("audits.drift.urls")),
    path("", include("audits.kinds.urls")),
    path("", include("audits.reports.urls")),
    path("", include("governance.incidents.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs.LocalSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", docs.LocalRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.standalone.js", docs.redoc_bundle, name="redoc-bundle"),
]
