"""WSGI entry point (gunicorn lrs_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lrs_portal.settings")

application = get_wsgi_application()

# A web request's statements have a time budget (DATABASE_STATEMENT_TIMEOUT_MS):
# set on every connection this process opens, from the first.
from lrs_portal.pg import statement_timeout_for_web  # noqa: E402

statement_timeout_for_web()

# In production, never serve as a database superuser or the tables' owner.
from lrs_portal.checks import refuse_unsafe_database_role  # noqa: E402

refuse_unsafe_database_role("The web process")
