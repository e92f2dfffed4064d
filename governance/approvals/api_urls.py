from django.urls import path

from governance.approvals import api

urlpatterns = [
    path("approvals/", api.ApprovalListView.as_view(), name="api-approval-list"),
    path("approvals/<uuid:pk>/", api.ApprovalDetailView.as_view(), name="api-approval-detail"),
    path("approvals/<uuid:pk>/submit/", api.ApprovalSubmitView.as_view(), name="api-approval-submit"),
    path("approvals/<uuid:pk>/decisions/", api.ApprovalDecisionView.as_view(), name="api-approval-decide"),
    path("approvals/<uuid:pk>/revoke/", api.ApprovalRevokeView.as_view(), name="api-approval-revoke"),
    path("runs/<uuid:run_id>/risk-acceptances/", api.RiskAcceptanceView.as_view(), name="api-risk-acceptances"),
]
