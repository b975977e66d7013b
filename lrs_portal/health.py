"""Health checks for load balancers: database, cache and (when configured) broker."""

import time
import uuid
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer")


def redis_client(url: str) -> redis.Redis:
    """A client for one check: one try, HEALTH_CHECK_TIMEOUT_SECONDS to connect
    and to answer, so a Redis that refuses or hangs costs at most that."""
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # redis-py otherwise tries 3 more times
    )


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    backend = settings.CACHES["default"]
    if backend["BACKEND"].endswith("RedisCache"):
        # The cache's own client waits 2 s for a hung Redis; the check must not.
        location = backend["LOCATION"]
        url = location[0] if isinstance(location, list | tuple) else location
        with redis_client(url) as client:
            client.set(key, "ok", ex=10)
            if client.get(key) != b"ok":
                raise RuntimeError("value not read back")
            client.delete(key)
        return
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("value not read back")
    cache.delete(key)


def check_broker() -> None:
    # Not Celery's connection: its retries and 2 s timeouts (right for enqueueing)
    # made /healthz take over 2 s with the broker down.
    with redis_client(settings.CELERY_BROKER_URL) as client:
        client.ping()


def checks() -> dict[str, tuple[Callable[[], None], bool]]:
    """Each check, and whether the node is useless without it (critical)."""
    found: dict[str, tuple[Callable[[], None], bool]] = {
        "database": (check_database, True),
        # Without the cache or broker pages still work: report, but keep serving,
        # so that a Redis outage does not take every node out of the balancer.
        "cache": (check_cache, False),
    }
    if settings.BROKER_CONFIGURED:
        found["broker"] = (check_broker, False)
    return found


def run_checks() -> tuple[str, dict[str, dict[str, object]]]:
    """Run every check: overall "ok", "degraded" or "failing", and each result."""
    results: dict[str, dict[str, object]] = {}
    failed_critical = failed_other = False
    for name, (check, critical) in checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # every failure is reported, never raised
            failed_critical = failed_critical or critical
            failed_other = failed_other or not critical
            results[name] = {"status": "failing", "error": exc.__class__.__name__}
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    overall = "failing" if failed_critical else "degraded" if failed_other else "ok"
    return overall, results
