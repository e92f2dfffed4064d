from django.urls import path

from audits.drift import views

urlpatterns = [
    path("systems/<slug:slug>/drift/batches/", views.batch_upload, name="drift-batch-upload"),
    path("systems/<slug:slug>/drift/review/", views.review_request, name="drift-review-request"),
    path("systems/<slug:slug>/drift/schedule/", views.schedule_set, name="drift-schedule-set"),
    path("retraining-recommendations/<uuid:pk>/resolve/", views.recommendation_resolve,
         name="retraining-recommendation-resolve"),
]
