from django.urls import path

from governance.gate import api

urlpatterns = [
    path("gate/public-key/", api.GatePublicKeyView.as_view(), name="api-gate-public-key"),
    path("gate/<slug:slug>/<str:version>/", api.GateView.as_view(), name="api-gate"),
    path("rollback/<slug:slug>/", api.RollbackView.as_view(), name="api-rollback"),
]
