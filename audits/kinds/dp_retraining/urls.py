"""DP retraining's own pages and API; the audits themselves are requested like any other."""

from django.urls import path

from audits.kinds.dp_retraining import api, views

urlpatterns = [
    path("versions/<uuid:version_id>/dp-retraining/", views.dp_retraining_form, name="dp-retraining-form"),
    path("versions/<uuid:version_id>/privacy/", views.version_privacy, name="version-privacy"),
    path("retraining-recommendations/<uuid:pk>/dp-retrain/", views.recommendation_dp_retrain,
         name="retraining-recommendation-dp-retrain"),
]

# Under /api/v1/ (audits/kinds/api_urls.py).
api_urlpatterns = [
    path("retraining-recommendations/<uuid:pk>/dp-retrain/", api.RecommendationDpRetrainView.as_view(),
         name="api-retraining-recommendation-dp-retrain"),
    path("systems/<slug:slug>/privacy-budget/", api.PrivacyBudgetView.as_view(), name="api-privacy-budget"),
]
