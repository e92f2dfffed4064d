"""URL patterns owned by one feature; included from governance/urls.py.

Security audits (issues 4 and 5): DP retraining's pages and API. The audits themselves are
requested like any other (the system page's audit form, POST /api/v1/audit-runs/).
"""

from django.urls import path

from audits import api_security as api
from audits import views_security as views

urlpatterns = [
    # Pages
    path("versions/<uuid:version_id>/dp-retraining/", views.dp_retraining_form, name="dp-retraining-form"),
    path("versions/<uuid:version_id>/privacy/", views.version_privacy, name="version-privacy"),
    path("retraining-recommendations/<uuid:pk>/dp-retrain/", views.recommendation_dp_retrain,
         name="retraining-recommendation-dp-retrain"),
    # API
    path("api/v1/retraining-recommendations/<uuid:pk>/dp-retrain/", api.RecommendationDpRetrainView.as_view(),
         name="api-retraining-recommendation-dp-retrain"),
    path("api/v1/systems/<slug:slug>/privacy-budget/", api.PrivacyBudgetView.as_view(), name="api-privacy-budget"),
]
