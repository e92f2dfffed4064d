from django.urls import path

from audits.drift import api

urlpatterns = [
    path("batches/", api.BatchView.as_view(), name="api-batches"),
    path("drift-schedules/", api.ScheduleView.as_view(), name="api-drift-schedules"),
    path("retraining-recommendations/", api.RecommendationListView.as_view(), name="api-retraining-recommendations"),
    path("retraining-recommendations/<uuid:pk>/resolve/", api.RecommendationResolveView.as_view(),
         name="api-retraining-recommendation-resolve"),
]
