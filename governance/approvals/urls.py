from django.urls import path

from governance.approvals import views

urlpatterns = [
    path("approvals/<uuid:pk>/submit/", views.approval_submit, name="approval-submit"),
    path("approvals/<uuid:pk>/revoke/", views.approval_revoke, name="approval-revoke"),
    path("approvals/<uuid:pk>/accept-risk/", views.approval_accept_risk, name="approval-accept-risk"),
    path("systems/<slug:slug>/approvals/request/", views.approval_create, name="approval-create"),
]
