from django.urls import path

from governance.catalog import views

urlpatterns = [
    path("systems/<slug:slug>/controls/<str:framework>/<str:ref>/", views.system_control, name="system-control"),
    path("systems/<slug:slug>/controls/<str:framework>/<str:ref>/documents/new/", views.document_attach,
         name="document-attach"),
    path("documents/<uuid:pk>/download/", views.document_download, name="document-download"),
    path("controls/<str:framework>/<str:ref>/", views.control_detail, name="control-detail"),
]
