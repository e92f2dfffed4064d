from rest_framework.routers import SimpleRouter

from governance.catalog import api

router = SimpleRouter()
router.register("controls", api.ControlViewSet, basename="api-control")
router.register("assessments", api.AssessmentViewSet, basename="api-assessment")

urlpatterns = router.urls
