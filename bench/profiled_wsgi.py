"""The portal's WSGI application with a profile of each request, for
bench/request_cost.py --profile (never used in service).

    REQUEST_COST_PROFILE_DIR=/tmp/x gunicorn --config gunicorn.conf.py \\
        --pythonpath bench profiled_wsgi:application

Each worker keeps one cProfile profile per request path (run it with
GUNICORN_THREADS=1: cProfile follows one thread), and per path the requests,
their wall time and CPU time, their SQL statements and the (wall) time spent in
them (connection.execute_wrapper). The profile's clock is the thread's CPU time
(time.thread_time): on a shared machine the wall clock mostly measures waiting
for a core, which says nothing about what the portal's own code costs; the wall
time per request and per statement is still recorded beside it. It writes them
to REQUEST_COST_PROFILE_DIR as <pid>-<path>.prof and <pid>.json every 100
requests and when it exits.
"""

import atexit
import cProfile
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import connection

from lrs_portal.wsgi import application as _portal

_OUT = Path(os.environ["REQUEST_COST_PROFILE_DIR"])
_profiles: dict[str, cProfile.Profile] = {}
_totals: dict[str, dict[str, Any]] = {}
_served = 0


def _dump() -> None:
    pid = os.getpid()
    for path, profile in _profiles.items():
        profile.dump_stats(_OUT / f"{pid}-{path.strip('/').replace('/', '_')}.prof")
    (_OUT / f"{pid}.json").write_text(json.dumps(_totals))


atexit.register(_dump)


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    global _served
    path = environ.get("PATH_INFO", "")
    totals = _totals.setdefault(
        path,
        {
            "requests": 0,
            "seconds": 0.0,
            "cpu_seconds": 0.0,
            "statements": 0,
            "sql_seconds": 0.0,
        },
    )
    statements: dict[str, list[Any]] = {}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            totals["statements"] += 1
            totals["sql_seconds"] += time.perf_counter() - started
            key = sql.split(" WHERE ")[0][:120]
            entry = statements.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    profile = _profiles.setdefault(path, cProfile.Profile(time.thread_time))
    started = time.perf_counter()
    cpu_started = time.thread_time()
    profile.enable()
    try:
        with connection.execute_wrapper(timed):
            body = list(_portal(environ, start_response))
    finally:
        profile.disable()
    totals["requests"] += 1
    totals["seconds"] += time.perf_counter() - started
    totals["cpu_seconds"] += time.thread_time() - cpu_started
    kinds = totals.setdefault("by_statement", {})
    for key, (count, seconds) in statements.items():
        entry = kinds.setdefault(key, [0, 0.0])
        entry[0] += count
        entry[1] += seconds
    _served += 1
    if _served % 100 == 0:
        _dump()
    return body
