"""check_production_services: one error for each service production needs and
this environment lacks, each with its own id (make serve prints them and starts
nothing; tests/lrs_portal/test_serve.py runs that end to end)."""

import pytest
from django.db import connection

from lrs_portal.checks import check_production_services

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def production_like(settings):
    settings.BROKER_CONFIGURED = True
    settings.CACHES = REDIS
    settings.ALLOWED_HOSTS = ["lrs.example.gov.uk"]
    return settings


def _ids() -> list[str]:
    return [message.id for message in check_production_services()]


@pytest.mark.postgres
def test_nothing_is_reported_when_every_service_is_there(production_like):
    assert _ids() == []


def test_a_database_that_is_not_postgresql_is_refused(production_like, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    (error,) = check_production_services()

    assert error.id == "lrs_portal.E003"
    assert "DATABASE_URL must name PostgreSQL" in error.msg
    assert "docs/configuration.md" in (error.hint or "")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("setting", "value", "code", "named"),
    [
        ("BROKER_CONFIGURED", False, "lrs_portal.E004", "CELERY_BROKER_URL"),
        ("CACHES", LOCAL, "lrs_portal.E005", "CACHE_URL"),
        ("ALLOWED_HOSTS", [], "lrs_portal.E006", "ALLOWED_HOSTS"),
    ],
)
def test_each_missing_service_is_named_with_its_own_id(
    production_like, setting, value, code, named
):
    setattr(production_like, setting, value)

    (error,) = check_production_services()

    assert error.id == code
    assert named in error.msg


def test_every_missing_service_is_reported_at_once(production_like, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    production_like.BROKER_CONFIGURED = False
    production_like.CACHES = LOCAL
    production_like.ALLOWED_HOSTS = []

    assert _ids() == [f"lrs_portal.E00{n}" for n in (3, 4, 5, 6)]
