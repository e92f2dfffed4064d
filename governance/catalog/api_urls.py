from rest_framework.routers import SimpleRouter

from governance.catalog import api

router = SimpleRouter()
router.register("controls", api.ControlViewSet, basename="api-control")
router.register("assessments", api.AssessmentViewSet, basename="api-assessment")
router.register("documents", api.DocumentViewSet, basename="api-document")

urlpatterns = router.urls
