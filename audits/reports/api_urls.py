from rest_framework.routers import SimpleRouter

from audits.reports import api

router = SimpleRouter()
router.register("reports", api.ReportViewSet, basename="api-report")

urlpatterns = router.urls
