"""gunicorn's configuration: `gunicorn lrs_portal.wsgi` reads it from the project
folder (`make serve` and the Procfile name it too). Every value can be changed
from the environment; docs/decisions/0026-a-production-like-server.md says why
each default is what it is.

There is no gunicorn access log: django-structlog's ``request_finished`` line is
the access log (one JSON line a request with its method and path, status, request
id and user id; query strings and secret path segments removed by
lrs_portal.logs.redact_request; no address, no body). A second line from gunicorn
would log every request twice, and its request line holds the query string.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("SERVE_BIND", "").strip() or "127.0.0.1:8000"
# Processes, each with threads: a thread waits on PostgreSQL most of a lookup.
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A worker silent this long is killed and replaced; far above a request's own
# budget (DATABASE_STATEMENT_TIMEOUT_MS, Redis socket time-outs).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM a worker finishes its requests for up to this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# Replace each worker after about this many requests (memory held by one never grows).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Each worker imports the application itself, so each runs the wsgi refusal and
# no database connection is ever shared across a fork.
preload_app = False
# Bounded request lines and headers (the hostile-input rules, decision 18).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "lrs-portal"
