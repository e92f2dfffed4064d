from django.urls import path

from governance.metrics import views

urlpatterns = [path("metrics", views.metrics, name="metrics")]
