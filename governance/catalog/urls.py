from django.urls import path

from governance.catalog import views

urlpatterns = [
    path("systems/<slug:slug>/controls/<str:framework>/<str:ref>/", views.system_control, name="system-control"),
    path("controls/<str:framework>/<str:ref>/", views.control_detail, name="control-detail"),
]
