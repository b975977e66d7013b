from http import HTTPStatus
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_check_when_healthy(client):
    response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down(client):
    with mock.patch(
        "lrs_portal.health.connection.cursor",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"] == {
        "status": "failing",
        "error": "OperationalError",
        "ms": body["checks"]["database"]["ms"],
    }
    assert body["checks"]["cache"]["status"] == "ok"


def test_healthz_reports_a_broken_cache_as_degraded_but_keeps_serving(client):
    with mock.patch("lrs_portal.health.cache.get", return_value=None):
        response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["status"] == "failing"


def test_healthz_answers_plain_http_probes_without_redirecting(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.OK


def test_healthz_checks_the_broker_only_when_one_is_configured(client, settings):
    settings.BROKER_CONFIGURED = False
    assert "broker" not in client.get(reverse("lrs_portal:healthz")).json()["checks"]


def test_healthz_reports_an_unreachable_broker_quickly(client, settings, monkeypatch):
    settings.BROKER_CONFIGURED = True
    # Nothing listens on port 1: a real refused connection, not a mock. (Celery
    # reads CELERY_BROKER_URL from the environment before its settings.)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")

    response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "degraded"
    broker = response.json()["checks"]["broker"]
    assert broker["status"] == "failing"
    assert broker["ms"] < 10_000


@pytest.mark.redis
def test_healthz_reports_a_working_broker(client, settings):
    response = client.get(reverse("lrs_portal:healthz"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["checks"]["broker"]["status"] == "ok"


def test_healthz_is_not_cached(client):
    response = client.get(reverse("lrs_portal:healthz"))

    assert "no-cache" in response["Cache-Control"]
