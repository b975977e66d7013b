"""Every line of docs/runbooks/database-roles.md, "What each role can and cannot
do", tried as its role; and the deploy check that keeps the web and workers off
the superuser and owner roles."""

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, transaction

from lrs_portal import checks
from records.models import LearnerView
from tests.conftest import ROOT
from tests.factories import OrganisationFactory, UserFactory
from tests.records.test_log_postgres import as_role, roles, sql

__all__ = ["roles"]  # the fixture, used by name

RUNBOOK = Path(__file__).resolve().parents[2] / "docs/runbooks/database-roles.md"
LINE = re.compile(r"^\| (lrs_app|lrs_owner|superuser) \| `(.+)` \| ([^|]+) \|$")


def runbook_lines() -> list[tuple[str, str, str]]:
    text = RUNBOOK.read_text()
    section = text.split("## What each role can and cannot do", 1)[1].split("\n## ")[0]
    found = [
        (match[1], match[2], match[3].strip())
        for match in map(LINE.match, section.splitlines())
        if match
    ]
    assert len(found) >= 25, "the runbook's table of roles went missing"
    return found


@pytest.fixture
def some_rows(db) -> None:
    """A row in each table a line touches, so triggers have a row to refuse."""
    user = UserFactory.create(is_staff=True)
    organisation = OrganisationFactory.create()
    LearnerView.objects.create(
        user=user,
        organisation=organisation,
        action=LearnerView.Action.SEARCH_ULN,
        outcome=LearnerView.Outcome.NO_MATCH,
    )
    from django.contrib.admin.models import LogEntry

    LogEntry.objects.log_actions(user_id=user.pk, queryset=[user], action_flag=2)
    from lrs_portal.models import JobRun

    JobRun.objects.create(job="runbook")


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(("role", "statement", "result"), runbook_lines())
def test_each_line_of_the_roles_runbook_holds(
    roles, some_rows, role, statement, result
):
    app, owner = roles
    acting = {"lrs_app": app, "lrs_owner": owner}.get(role)
    error: BaseException | None = None
    try:
        with transaction.atomic():
            if acting:
                with as_role(acting):
                    sql(statement)
            else:
                sql(statement)
    except DatabaseError as exc:
        error = exc

    if result.startswith("allowed"):
        assert error is None, f"{role} could not: {error}"
    elif result == "refused (no privilege)":
        assert isinstance(
            getattr(error, "__cause__", None), psycopg.errors.InsufficientPrivilege
        )
    elif result == "refused (append-only)":
        assert "append-only" in str(error)
    elif result == "refused (set by the database)":
        assert "set by the database" in str(error)
    else:
        pytest.fail(f"the runbook says {result!r}, which this test cannot check")


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_raw_change_the_runbook_allows_is_on_the_trail(roles, some_rows):
    from lrs_portal.models import ChangeTrail

    app, _ = roles
    with as_role(app):
        sql("UPDATE records_auditrule SET enabled = false")

    assert ChangeTrail.objects.filter(
        table_name="records_auditrule", db_user=app, new_values={"enabled": False}
    ).exists()


# --- the deploy check -------------------------------------------------------------


def deploy_errors() -> list[str]:
    return [message.id for message in checks.check_database_role() if message.id]


@pytest.mark.postgres
@pytest.mark.django_db
def test_check_deploy_fails_as_a_superuser():
    with pytest.raises(SystemCheckError, match=r"lrs_portal\.E001"):
        call_command("check", deploy=True, tags=["database"])


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_deploy_check_passes_as_the_app_role(roles):
    app, _ = roles
    with as_role(app):
        assert deploy_errors() == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_deploy_check_fails_as_the_owner(roles):
    _, owner = roles
    with as_role(owner):
        (problem,) = checks.database_role_problems()
        assert deploy_errors() == ["lrs_portal.E001"]

    assert "owns the application's tables" in problem


@pytest.mark.postgres
@pytest.mark.django_db
def test_only_the_maintenance_worker_may_run_as_the_owner(roles, settings):
    _, owner = roles
    settings.DATABASE_ROLE_MAY_OWN_TABLES = True

    with as_role(owner):
        assert deploy_errors() == []
    # Never a superuser, even so.
    assert deploy_errors() == ["lrs_portal.E001"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_production_process_refuses_to_start_as_a_superuser(settings):
    settings.DEBUG = False

    with pytest.raises(ImproperlyConfigured, match=r"refuses to start.*superuser"):
        checks.refuse_unsafe_database_role("The web process")


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_development_process_starts_as_anyone(settings):
    settings.DEBUG = True

    checks.refuse_unsafe_database_role("The web process")  # does not raise


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_celery_worker_stops_rather_than_run_as_a_superuser(settings):
    from lrs_portal.celery import _refuse_unsafe_database_role

    settings.DEBUG = False

    with pytest.raises(SystemExit, match="The Celery worker refuses to start"):
        _refuse_unsafe_database_role("The Celery worker")


def production_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + "x" * 60,
        "ALLOWED_HOSTS": "lrs-portal.example.gov.uk",
        "CSRF_TRUSTED_ORIGINS": "https://lrs-portal.example.gov.uk",
        "COMPANIES_HOUSE_API_KEY": "test-only",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_gunicorns_application_will_not_load_as_a_superuser():
    result = subprocess.run(
        [sys.executable, "-c", "import lrs_portal.wsgi"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode != 0
    assert "The web process refuses to start" in result.stderr


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_a_production_celery_worker_exits_as_a_superuser():
    result = subprocess.run(
        [
            sys.executable, "-m", "celery", "-A", "lrs_portal", "worker",
            "--pool=solo", "--queues", "test-never-used", "--without-mingle",
            "--without-gossip", "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip

    assert result.returncode != 0
    assert "The Celery worker refuses to start" in result.stdout + result.stderr
