"""The Celery app, in Celery's documented Django layout.

Start a worker and the scheduler against Redis (README, "Operations"):
    celery -A lrs_portal worker --loglevel=INFO
    celery -A lrs_portal beat --loglevel=INFO
"""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lrs_portal.settings")

app = Celery("lrs_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Carry the request id of whatever enqueued a task into the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)
