from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "governance.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from celery.signals import worker_ready

        from governance.core.heartbeat import on_worker_ready

        worker_ready.connect(on_worker_ready, dispatch_uid="governance.core.worker_heartbeat")
        # kombu's filesystem transport does not create its folders; do it before first use.
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
