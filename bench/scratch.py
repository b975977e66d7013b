"""A scratch PostgreSQL database for one benchmark run, with Django set up on it.

Each benchmark creates a database next to DATABASE_URL's, migrates and fills it,
measures, and drops it whatever happens, so no run leaves data behind or touches
DATABASE_URL's own database.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def libpq(url: str) -> str:
    """A URL psycopg reads (it knows postgres://, not Django's pgsql:// alias)."""
    return "postgresql" + url[url.index("://") :]


def scratch_url(url: str, name: str, *, needs: str) -> tuple[str, str]:
    """DATABASE_URL with its database swapped for the scratch one, and its name."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(f"{needs}, so it needs DATABASE_URL=postgres://… (not SQLite).")
    if name == parts.path.lstrip("/"):
        sys.exit("--database must name a scratch database, not DATABASE_URL's own.")
    return urlunsplit(parts._replace(path=f"/{name}")), name


@contextmanager
def django_on_scratch_database(
    *, kind: str, name: str = "", needs: str, env: dict[str, str]
) -> Iterator[None]:
    """Create the scratch database (default lrs_bench_<kind>_<pid>), point Django
    at it with env's settings, set Django up, and drop the database afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("Set DATABASE_URL=postgres://… (this benchmark needs PostgreSQL).")
    scratch, name = scratch_url(
        url, name or f"lrs_bench_{kind}_{os.getpid()}", needs=needs
    )
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            {
                **env,
                "DATABASE_URL": scratch,
                "DJANGO_SETTINGS_MODULE": "lrs_portal.settings",
            }
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        yield
    finally:
        with psycopg.connect(libpq(url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
