"""The Celery app. Configured from Django settings (CELERY_* names); finds each app's tasks.py.
(The worker sets Django up first, so governance/core/apps.py has made the broker's folders.)"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

