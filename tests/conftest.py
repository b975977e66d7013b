import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import expect

from lrs_portal.catalogues import compile_catalogues
from lrs_portal.models import User
from tests.factories import ROLE_PERSONAS, TOTPDeviceFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server

# The Welsh catalogue's .mo, as `make setup` writes it, before any page is drawn.
compile_catalogues()

# Playwright's expect() gives up after 5 s, its actions after 30 s. A page from
# live_server on two cores shared by six engineers has taken longer than 5 s; wait
# as long for an assertion as for a click (docs/decisions/0018).
BROWSER_TIMEOUT_MS = 30_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)

# Hypothesis fails an example slower than 200 ms (its deadline) and a strategy
# slow to draw (too_slow): both measure the machine, not the code. Every property
# test here runs without them; each test's own settings still apply on top.
hypothesis_settings.register_profile(
    "lrs",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("lrs")


# --- settings every test shares ---------------------------------------------


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.LETTERS_DIR = tmp_path / "letters"  # the demo's letter backend
    settings.LEARNER_VIEW_ARCHIVE_DIR = tmp_path / "log-archives"
    settings.NOTIFY_API_KEY = ""
    settings.SECURE_SSL_REDIRECT = False
    # live_server serves unhashed names; manifest storage is for production.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


# --- PostgreSQL-only tests and the no-skips rule on CI ------------------------


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set CELERY_BROKER_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.BROKER_CONFIGURED:
            item.add_marker(skip_redis)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    # On CI (CI_FORBID_SKIPS=1) a skipped test hides a gap, so it fails the run.
    if not os.environ.get("CI_FORBID_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI_FORBID_SKIPS: {len(skipped)} test(s) skipped")
        session.exitstatus = 1


# --- personas -------------------------------------------------------------------


def _persona(role_key: str, **kwargs: Any) -> User:
    return UserFactory.create(roles=ROLE_PERSONAS[role_key], **kwargs)


@pytest.fixture
def provider_user(db: None) -> User:
    return _persona("provider_user")


@pytest.fixture
def provider_super_user(db: None) -> User:
    return _persona("provider_super_user")


@pytest.fixture
def caseworker(db: None) -> User:
    return _persona("caseworker", is_staff=True)


@pytest.fixture
def assessor(db: None) -> User:
    return _persona("assessor", is_staff=True)


@pytest.fixture
def panel_member(db: None) -> User:
    return _persona("panel_member", is_staff=True)


@pytest.fixture
def requester(db: None) -> User:
    return _persona("requester")


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory.create(superuser=True)


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in, but with no role and no organisation."""
    return UserFactory.create()


def verified_client(user: User) -> Client:
    """A client signed in with a verified second factor, as after a real MFA sign-in."""
    device = TOTPDevice.objects.filter(user=user, name="default").first()
    device = device or TOTPDeviceFactory.create(user=user)
    client = Client()
    client.force_login(user)
    # Mark the session as OTP-verified the way django_otp.login does.
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_verified_client(superuser: User) -> Client:
    return verified_client(superuser)


# --- a real Celery worker ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


WORKER_BOOT_SECONDS = 240


def _wait_until_ready(process: subprocess.Popen[bytes], hostname: str) -> None:
    """Until the worker answers a ping. A test's own wait then starts from a
    worker that is consuming; counting its boot (Django, Celery, the broker) into
    that wait failed on a busy machine (docs/decisions/0018)."""
    from lrs_portal.celery import app

    deadline = time.monotonic() + WORKER_BOOT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (
                process.stdout.read().decode(errors="replace") if process.stdout else ""
            )
            pytest.fail(f"the worker exited while starting:\n{output[-4000:]}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
    process.terminate()
    pytest.fail(f"the worker did not answer within {WORKER_BOOT_SECONDS} s")


@pytest.fixture
def worker(tmp_path: Path, settings) -> Iterator[tuple[str, Path]]:
    """A real Celery worker on a private queue, using the test database."""
    queue = f"test-{uuid.uuid4().hex}"
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        # django-environ drops one leading slash from the path.
        "EMAIL_URL": f"filemail:///{outbox}",
        "CONN_MAX_AGE": "0",
        # A development worker: in production (DEBUG off) it refuses to start as
        # the superuser the test database is reached as (lrs_portal.checks).
        "DEBUG": "true",
    }
    hostname = f"{queue}@localhost"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "lrs_portal", "worker",
            "--pool=solo", "--queues", queue, "--hostname", hostname,
            "--without-mingle", "--without-gossip", "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    _wait_until_ready(process, hostname)
    try:
        yield queue, outbox
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output.decode(errors="replace")[-4000:])


@pytest.fixture
def log_truncate_allowed(transactional_db: None) -> Iterator[None]:
    """Let the flush after this test empty the log (docs/runbooks/database-roles.md).

    This teardown runs before pytest-django's flush, on the connection the flush
    uses; Django closes that connection after the flush, so the setting goes with it.
    """
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET lrs.allow_truncate = on")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Every browser test drives Debian's chromium (tests/browser.py)."""
    from tests.browser import CHROMIUM, LAUNCH_ARGS

    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": LAUNCH_ARGS,
    }


WORKER_WAIT_SECONDS = 120


@pytest.fixture
def in_process_worker(transactional_db) -> Iterator[str]:
    """A Celery worker thread on a private queue of the Redis broker; every task
    sent meanwhile is routed to that queue. In this process, so that GOV.UK
    Notify's recorded responses (the responses library) answer its requests,
    which a worker in a subprocess (``worker``) would send to the network."""
    from unittest import mock

    from celery.contrib.testing.worker import start_worker

    from lrs_portal.celery import app

    queue = f"test-{uuid.uuid4().hex}"
    routes = app.conf.task_routes

    def route(to: object) -> None:
        app.conf.task_routes = to
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)  # rebuilt from the routes above

    route({"*": {"queue": queue}})
    try:
        # The test database is reached as a superuser, which a production worker
        # refuses (lrs_portal.checks); the subprocess worker runs with DEBUG on
        # for the same reason.
        with (
            mock.patch("lrs_portal.checks.refuse_unsafe_database_role"),
            start_worker(app, pool="solo", queues=[queue], perform_ping_check=False),
        ):
            yield queue
    finally:
        route(routes)
        # start_worker(queues=...) selects the app's queues to consume from, for
        # the process: left selected, the next worker in this test session would
        # consume only this private queue and never see the default one.
        app.amqp.__dict__.pop("queues", None)


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for the worker to have done something (a condition, not a time)."""
    deadline = time.monotonic() + WORKER_WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"the worker did not {what} within {WORKER_WAIT_SECONDS} s")
