from rest_framework.routers import SimpleRouter

from audits.runs import api

router = SimpleRouter()
router.register("audit-runs", api.AuditRunViewSet, basename="api-auditrun")

urlpatterns = router.urls
