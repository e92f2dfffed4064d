from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter()
router.register("systems", views.SystemViewSet, basename="system")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("controls", views.ControlViewSet, basename="control")
router.register("assessments", views.AssessmentViewSet, basename="assessment")
router.register("audit-runs", views.AuditRunViewSet, basename="auditrun")

urlpatterns = router.urls
