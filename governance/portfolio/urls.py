from django.urls import path

from governance.portfolio import views

urlpatterns = [
    path("systems/", views.system_list, name="system-list"),
    path("systems/<slug:slug>/", views.system_detail, name="system-detail"),
    path("glossary/", views.glossary_page, name="glossary"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/<uuid:pk>/decide/", views.inbox_decide, name="inbox-decide"),
    path("approvals/", views.approval_list, name="approval-list"),
    path("approvals/<uuid:pk>/", views.approval_detail, name="approval-detail"),
    path("approvals/<uuid:pk>/decide/", views.approval_decide_page, name="approval-decide"),
]
