"""WSGI entry point (gunicorn lrs_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lrs_portal.settings")

application = get_wsgi_application()

# In production, never serve as a database superuser or the tables' owner.
from lrs_portal.checks import refuse_unsafe_database_role  # noqa: E402

refuse_unsafe_database_role("The web process")
