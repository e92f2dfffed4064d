"""URL patterns owned by one feature; included from governance/urls.py.

Drift reviews: the system page's drift forms and the /api/v1/ endpoints (audits/api_drift.py).
"""

from django.urls import path

from audits import api_drift as api
from audits import views_drift as views

urlpatterns = [
    # Pages (forms on the system page)
    path("systems/<slug:slug>/drift/batches/", views.batch_upload, name="drift-batch-upload"),
    path("systems/<slug:slug>/drift/review/", views.review_request, name="drift-review-request"),
    path("systems/<slug:slug>/drift/schedule/", views.schedule_set, name="drift-schedule-set"),
    path("retraining-recommendations/<uuid:pk>/resolve/", views.recommendation_resolve,
         name="retraining-recommendation-resolve"),
    # API
    path("api/v1/batches/", api.BatchView.as_view(), name="api-batches"),
    path("api/v1/drift-schedules/", api.ScheduleView.as_view(), name="api-drift-schedules"),
    path("api/v1/retraining-recommendations/", api.RecommendationListView.as_view(),
         name="api-retraining-recommendations"),
    path("api/v1/retraining-recommendations/<uuid:pk>/resolve/", api.RecommendationResolveView.as_view(),
         name="api-retraining-recommendation-resolve"),
]
