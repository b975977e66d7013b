"""Deploy checks: the web and worker processes refuse to run in production as a
database role that could rewrite the trail (a superuser, or the tables' owner);
with GOV.UK Notify on, every kind of email has its template (E007).

``check --deploy`` reports it as an Error, and gunicorn (lrs_portal.wsgi), Celery
workers and beat (lrs_portal.celery) run the same check as they start when DEBUG
is off, and stop. The one worker that consumes the ``maintenance`` queue must be
the owner (it creates and drops the log's partitions): it sets
DATABASE_ROLE_MAY_OWN_TABLES=true, and may still not be a superuser.

``check_production_services`` names each service production needs and this
environment lacks (PostgreSQL, the broker, a shared cache, the host names): `make
serve` runs ``check --deploy`` first and starts nothing while any is missing.
"""

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

from lrs_portal import pg
from lrs_portal.email_kinds import EMAIL_KINDS

HINT = (
    "Connect as the application role that setup_database_roles creates "
    "(docs/runbooks/database-roles.md); only migrate, maintain_partitions and the "
    "maintenance worker run as the owner."
)


def database_role_problems() -> list[str]:
    """Why the connected role must not run the web or the workers, if it must not."""
    problems = pg.connected_role_problems()
    if settings.DATABASE_ROLE_MAY_OWN_TABLES:
        problems = [problem for problem in problems if "owns" not in problem]
    return problems


@checks.register(checks.Tags.security, checks.Tags.database, deploy=True)
def check_database_role(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        problems = database_role_problems()
    except DatabaseError as exc:
        return [
            checks.Error(
                f"Cannot tell which database role this process connects as: {exc}",
                hint=HINT,
                id="lrs_portal.E002",
            )
        ]
    return [
        checks.Error(
            f"The web and worker processes must not run as this database role: "
            f"{problem}.",
            hint=HINT,
            id="lrs_portal.E001",
        )
        for problem in problems
    ]


@checks.register(checks.Tags.compatibility, deploy=True)
def check_notify_email_templates(**kwargs: Any) -> list[checks.CheckMessage]:
    """With NOTIFY_API_KEY set, every kind of email needs its Notify template."""
    if not settings.NOTIFY_API_KEY:
        return []
    missing = [
        kind.setting
        for kind in EMAIL_KINDS
        if not settings.NOTIFY_EMAIL_TEMPLATE_IDS.get(kind.name)
    ]
    if not missing:
        return []
    return [
        checks.Error(
            f"NOTIFY_API_KEY is set but {len(missing)} kinds of email have no GOV.UK "
            f"Notify template: {', '.join(missing)}.",
            hint="Set each to its template's id "
            "(docs/decisions/0028-notify-email-and-transparency.md).",
            id="lrs_portal.E007",
        )
    ]


SERVICES_HINT = "See docs/configuration.md and docs/runbooks/production-like-server.md."


@checks.register(checks.Tags.security, deploy=True)
def check_production_services(**kwargs: Any) -> list[checks.CheckMessage]:
    """One error for each setting production needs that this environment lacks."""
    missing = []
    if connection.vendor != "postgresql":
        missing.append(
            (
                "E003",
                "DATABASE_URL must name PostgreSQL (the log's partitions, "
                "roles and locks are PostgreSQL's)",
            )
        )
    if not settings.BROKER_CONFIGURED:
        missing.append(
            (
                "E004",
                "CELERY_BROKER_URL is missing: without a broker the worker "
                "and beat have nothing to read, and tasks run inside web requests",
            )
        )
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        missing.append(
            (
                "E005",
                "CACHE_URL must name Redis: a local cache is one per process, "
                "not shared by the web's workers",
            )
        )
    if not settings.ALLOWED_HOSTS:
        missing.append(
            ("E006", "ALLOWED_HOSTS is missing: every request would get 400")
        )
    return [
        checks.Error(message, hint=SERVICES_HINT, id=f"lrs_portal.{code}")
        for code, message in missing
    ]


def refuse_unsafe_database_role(process: str) -> None:
    """Stop a production process (DEBUG off) whose database role could rewrite
    the trail; do nothing in development."""
    if settings.DEBUG:
        return
    problems = database_role_problems()
    if problems:
        raise ImproperlyConfigured(
            f"{process} refuses to start: {'; '.join(problems)}. {HINT}"
        )


@checks.register(checks.Tags.compatibility, deploy=True)
def check_bank_holidays(**kwargs: Any) -> list[checks.CheckMessage]:
    """Service levels count working days: the bank holiday list must reach next
    year, or queues would count holidays as working days (decision 32)."""
    from django.utils import timezone

    next_year = timezone.localdate().year + 1
    if any(day.year == next_year for day in settings.BANK_HOLIDAYS):
        return []
    return [
        checks.Warning(
            f"BANK_HOLIDAYS holds no bank holiday in {next_year}: service levels "
            "will count that year's bank holidays as working days.",
            hint="Set BANK_HOLIDAYS to every date from "
            "https://www.gov.uk/bank-holidays "
            "(England and Wales), or update lrs_portal/working_days.py.",
            id="lrs_portal.W008",
        )
    ]
