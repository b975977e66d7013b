# Celery's Django layout: the app loads when Django starts so @shared_task binds to it.
from lrs_portal.celery import app as celery_app

__all__ = ("celery_app",)
