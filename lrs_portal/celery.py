"""The Celery app, in Celery's documented Django layout.

Start a worker and the scheduler against Redis (README, "Operations"):
    celery -A lrs_portal worker --loglevel=INFO
    celery -A lrs_portal beat --loglevel=INFO
"""

import os
from typing import Any

from celery import Celery, signals
from django.utils.module_loading import import_string
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lrs_portal.settings")

app = Celery("lrs_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Carry the request id of whatever enqueued a task into the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


# Celery logs and swallows a signal handler's exception; SystemExit stops it.
def _refuse_unsafe_database_role(process: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from lrs_portal.checks import refuse_unsafe_database_role

    try:
        refuse_unsafe_database_role(process)
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


@signals.worker_init.connect
def _refuse_unsafe_database_role_worker(**_: Any) -> None:
    _refuse_unsafe_database_role("The Celery worker")


@signals.beat_init.connect
def _refuse_unsafe_database_role_beat(**_: Any) -> None:
    _refuse_unsafe_database_role("Celery beat")


def task_named(name: str) -> Any:
    """The task of that dotted name (its module path and function), its module
    imported if need be: a web process never autodiscovers tasks, so Celery's
    registry alone would not know it.

    Services enqueue their tasks through this rather than importing the tasks
    module, which imports the services: the one direction keeps the two out of
    an import loop (tests/lrs_portal/test_import_direction.py). The object is the
    task itself, so whatever patches its delay sees the call.
    """
    return import_string(name)
