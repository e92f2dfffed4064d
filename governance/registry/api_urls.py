# Basenames carry an "api-" prefix so they never shadow the page URL names (system-detail, ...).
from rest_framework.routers import SimpleRouter

from governance.registry import api

router = SimpleRouter()
router.register("systems", api.SystemViewSet, basename="api-system")
router.register("datasets", api.DatasetViewSet, basename="api-dataset")
router.register("versions", api.VersionViewSet, basename="api-version")

urlpatterns = router.urls
