"""Slow parts (issue 15, decision 26): a slow PostgreSQL cut off by the web's
statement time-out answers a clear 503 page with nothing shown and nothing
logged; a Redis that accepts and never answers holds no request for long.

The elapsed-time bounds here are not benchmarks: each is a fraction of what the
request would take without the time-out (a 30-second pg_sleep, a Redis that never
answers), so only a missing or broken time-out can fail them."""

import time
from http import HTTPStatus

import pytest
import redis.exceptions
from django.core.cache import caches
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.test import Client
from django.urls import reverse

from lrs_portal import pg
from lrs_portal.models import Notification
from records.models import Learner, LearnerView
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.lrs_portal.test_celery import hung_server

__all__ = ["hung_server"]  # the fixture, used by name
pytestmark = pytest.mark.django_db
ULN = "9276308686"
SLEEP_SECONDS = 30


@pytest.fixture
def searcher():
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create()
    )
    return member_of(organisation)


@pytest.fixture
def learner() -> Learner:
    return Learner.objects.create(
        uln=ULN,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth="2007-05-14",
        gender=2,
        postcode="LS2 9JT",
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def search(client: Client):
    return client.post(
        reverse("records:find-by-uln"),
        {"uln": ULN, "privacy_notice": "on", "own_student": "on"},
    )


def slow_learner_reads(execute, sql, params, many, context):
    """PostgreSQL gone slow: every read of the learners waits first."""
    if 'FROM "records_learner"' in sql:
        context["cursor"].execute(f"SELECT pg_sleep({SLEEP_SECONDS})")
    return execute(sql, params, many, context)


@pytest.mark.postgres
def test_the_web_gives_every_new_connection_its_statement_timeout(settings):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 1234
    pg.statement_timeout_for_web()  # what lrs_portal.wsgi does
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            (value,) = cursor.fetchone()
    finally:
        fresh.close()
        connection_created.disconnect(dispatch_uid="lrs-web-statement-timeout")

    assert value == "1234ms"


@pytest.mark.postgres
@pytest.mark.parametrize("timeout_ms", [0, 5000])
def test_the_web_turns_jit_off_on_every_new_connection(settings, timeout_ms):
    # Even with no statement time-out (0 leaves PostgreSQL's own).
    settings.DATABASE_STATEMENT_TIMEOUT_MS = timeout_ms
    pg.statement_timeout_for_web()
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW jit")
            (value,) = cursor.fetchone()
    finally:
        fresh.close()
        connection_created.disconnect(dispatch_uid="lrs-web-statement-timeout")

    assert value == "off"


@pytest.mark.postgres
def test_a_lookup_on_a_slow_database_answers_a_busy_page_and_logs_nothing(
    searcher, learner, settings
):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 300
    pg.statement_timeout_apply(connection)  # as on each of the web's connections
    client = signed_in(searcher)

    started = time.monotonic()
    with connection.execute_wrapper(slow_learner_reads):
        response = search(client)
    elapsed = time.monotonic() - started

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    page = response.content.decode()
    assert "Sorry, the service is busy" in page
    assert "govuk-template" in page  # a GOV.UK page, not a stack trace
    assert "Traceback" not in page
    assert "Amelia" not in page
    assert response["Retry-After"] == "30"
    # Rolled back whole: no log row, so nothing was shown.
    assert LearnerView.objects.count() == 0
    assert elapsed < SLEEP_SECONDS / 3
    # And the service carries on once PostgreSQL is quick again.
    assert search(client).status_code == HTTPStatus.OK
    assert LearnerView.objects.count() == 1


@pytest.mark.postgres
def test_an_api_search_on_a_slow_database_answers_a_problem_document(
    searcher, learner, settings
):
    from tests.records.api.conftest import real_caller

    caller = real_caller(searcher)
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 300
    pg.statement_timeout_apply(connection)

    with connection.execute_wrapper(slow_learner_reads):
        response = caller.http.post(
            "/api/v1/learner-searches", {"uln": ULN}, format="json"
        )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Service Unavailable"
    assert problem["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert problem["code"] == "service_unavailable"
    assert "Amelia" not in response.content.decode()
    assert LearnerView.objects.count() == 0


def test_a_statement_timeout_of_zero_sets_nothing(settings):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 0
    with connection.execute_wrapper(_refuse_any_statement):
        pg.statement_timeout_apply(connection)


def _refuse_any_statement(execute, sql, params, many, context):
    raise AssertionError(f"no statement expected, got {sql}")


@pytest.fixture
def hung_cache(hung_server, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{hung_server}/0",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    yield caches["default"]
    caches["default"].close()


def test_the_cache_gives_up_on_a_hung_redis_after_one_timeout(hung_cache, settings):
    started = time.monotonic()
    with pytest.raises(redis.exceptions.TimeoutError):
        hung_cache.get("anything")
    elapsed = time.monotonic() - started

    # At most one connect and one read time-out; without them it would wait for ever.
    assert elapsed < 2 * settings.REDIS_SOCKET_TIMEOUT_SECONDS + 1.5


@pytest.mark.postgres
def test_a_lookup_does_not_wait_on_a_hung_cache(hung_cache, searcher, learner):
    client = signed_in(searcher)

    started = time.monotonic()
    response = search(client)

    assert response.status_code == HTTPStatus.OK
    assert time.monotonic() - started < 2  # nothing on the way asks the cache
    assert LearnerView.objects.count() == 1


@pytest.fixture
def hung_broker(hung_server, monkeypatch):
    """The project's Celery app, sending to a Redis that never answers."""
    from lrs_portal.celery import app

    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{hung_server}/0")
    app._pool = None  # connections are made afresh, to the hung port
    app.amqp._producer_pool = None
    yield
    app._pool = None
    app.amqp._producer_pool = None


def test_an_invitation_is_sent_within_bounded_time_while_the_broker_hangs(
    hung_broker, settings, django_capture_on_commit_callbacks
):
    organisation = OrganisationFactory.create(website="https://northfield.example.com")
    client = signed_in(member_of(organisation, super_user=True))

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registration:invite-user"),
            {"full_name": "Ann Lee", "email": "ann.lee@northfield.example.com"},
        )
    elapsed = time.monotonic() - started

    assert response.status_code == HTTPStatus.FOUND
    # The email waits in the outbox for the retry sweep; the page did not wait.
    notification = Notification.objects.get(reference="members.invitation")
    assert notification.status == Notification.Status.QUEUED
    budget = (
        settings.REDIS_SOCKET_TIMEOUT_SECONDS
        * 2
        * (settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] + 1)
    )
    assert elapsed < budget + 3
