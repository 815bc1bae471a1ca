"""Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

# Every task parks a message that killed its worker 3 times instead of looping on it.
app = Celery("portal", task_cls="portal.celery_reliability:ParkingTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
