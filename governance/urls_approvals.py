"""URL patterns owned by one feature; included from governance/urls.py.

Approvals, risk acceptance, the deploy gate and the audit trail: pages and /api/v1/ endpoints.
"""

from django.urls import path

from governance import views_approvals as views
from governance.api import approvals as api

urlpatterns = [
    # Pages
    path("approvals/", views.approval_list, name="approval-list"),
    path("approvals/<uuid:pk>/", views.approval_detail, name="approval-detail"),
    path("approvals/<uuid:pk>/submit/", views.approval_submit, name="approval-submit"),
    path("approvals/<uuid:pk>/decide/", views.approval_decide, name="approval-decide"),
    path("approvals/<uuid:pk>/revoke/", views.approval_revoke, name="approval-revoke"),
    path("approvals/<uuid:pk>/accept-risk/", views.approval_accept_risk, name="approval-accept-risk"),
    path("systems/<slug:slug>/approvals/request/", views.approval_create, name="approval-create"),
    path("audit-log/", views.trail_list, name="trail-list"),
    path("audit-log/export.jsonl", views.trail_download, name="trail-download"),
    # API
    path("api/v1/gate/public-key/", api.GatePublicKeyView.as_view(), name="api-gate-public-key"),
    path("api/v1/gate/<slug:slug>/<str:version>/", api.GateView.as_view(), name="api-gate"),
    path("api/v1/rollback/<slug:slug>/", api.RollbackView.as_view(), name="api-rollback"),
    path("api/v1/approvals/", api.ApprovalListView.as_view(), name="api-approval-list"),
    path("api/v1/approvals/<uuid:pk>/", api.ApprovalDetailView.as_view(), name="api-approval-detail"),
    path("api/v1/approvals/<uuid:pk>/submit/", api.ApprovalSubmitView.as_view(), name="api-approval-submit"),
    path("api/v1/approvals/<uuid:pk>/decisions/", api.ApprovalDecisionView.as_view(), name="api-approval-decide"),
    path("api/v1/approvals/<uuid:pk>/revoke/", api.ApprovalRevokeView.as_view(), name="api-approval-revoke"),
    path("api/v1/runs/<uuid:run_id>/risk-acceptances/", api.RiskAcceptanceView.as_view(),
         name="api-risk-acceptances"),
    path("api/v1/audit-log/export/", api.TrailExportView.as_view(), name="api-trail-export"),
    path("api/v1/audit-log/verify/", api.TrailVerifyView.as_view(), name="api-trail-verify"),
]
