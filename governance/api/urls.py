# Basenames carry an "api-" prefix so they never shadow the page URL names (system-detail, ...).
from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter()
router.register("systems", views.SystemViewSet, basename="api-system")
router.register("datasets", views.DatasetViewSet, basename="api-dataset")
router.register("versions", views.VersionViewSet, basename="api-version")
router.register("controls", views.ControlViewSet, basename="api-control")
router.register("assessments", views.AssessmentViewSet, basename="api-assessment")
router.register("audit-runs", views.AuditRunViewSet, basename="api-auditrun")

urlpatterns = router.urls
