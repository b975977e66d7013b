"""Health checks for load balancers: database, cache and (when configured) broker."""

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer")


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("value not read back")
    cache.delete(key)


def check_broker() -> None:
    from lrs_portal.celery import app

    # Short timeouts: a hung broker must not hang the health check either.
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


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
