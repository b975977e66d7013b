"""Benchmark: the admin's changelists of the large tables (issue 4, "Admin at scale").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/admin_changelists.py [--learners 1000000]
        [--views 10000000] [--alerts 20000] [--requests 20] [--warmup 3]
        [--database NAME]

Creates a scratch database next to DATABASE_URL's (as bench/lookups.py does:
DEBUG off, its own SECRET_KEY), fills the log with M LearnerView rows over the
last 30 days from 100 organisations (bench/lookups.py's generator), loads N
synthetic learners with import_learners (COPY), bulk-creates A usage alerts over
the last year and ANALYZEs. Then, signed in through django.test.Client with a
verified second factor, as a caseworker and as a superuser, it GETs each
changelist (learners, the lookup log, usage alerts): plain, searched by an exact
ULN, searched by a family name, and filtered, R times after W warm-up requests
each (every page once a round, in a random order, beside a trivial signed-in
page for reference), and prints p50, p95 and the worst time of each and the
load average (target: under 300 ms),
with the number of queries of one request and whether any of them was a COUNT
without a WHERE or a LIMIT (an unfiltered COUNT(*) of a large table: never).
Finally it drops the scratch database. It refuses SQLite.
"""

import argparse
import os
import random
import re
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lookups import _members, _timed, _views_insert, _web_setup
from scratch import django_on_scratch_database

TARGET_MS = 300
REFERENCE = "(reference: the account page)"
_COUNT = re.compile(r"SELECT COUNT\(", re.IGNORECASE)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=10_000_000)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="")
    return parser.parse_args()


def _alerts_insert(count: int) -> None:
    """``count`` usage alerts over the last year, a tenth of them still open."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_usagealert (subject_type, user_id, organisation_id,"
            " day, rule, value, threshold, details, status, created_at,"
            " false_positive)"
            " SELECT 'user', m.user_id, m.organisation_id,"
            " (now() - interval '1 day' * (g %% 365))::date,"
            " 'rule_' || (g / (365 * 200)), 70, 60, '',"
            " CASE WHEN g %% 10 = 0 THEN 'open' ELSE 'closed' END,"
            " now() - interval '1 day' * (g %% 365), false"
            " FROM generate_series(0, %s - 1) AS g"
            " JOIN LATERAL (SELECT user_id, organisation_id"
            "  FROM registration_membership ORDER BY id"
            "  OFFSET (g / 365) %% 200 LIMIT 1) AS m ON true",
            [count],
        )


def _verified_client(user: Any) -> Any:
    """Signed in with a verified second factor (as tests/conftest.py does)."""
    from django.test import Client

    from tests.factories import TOTPDeviceFactory

    device = TOTPDeviceFactory.create(user=user)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _pages() -> list[tuple[str, str]]:
    """(label, URL) of each changelist to time, with real values to search for."""
    from django.db.models import Count
    from django.urls import reverse

    from records.models import Learner, LearnerView, UsageAlert
    from registration.models import Membership

    learner = Learner.objects.order_by("?").only("uln").first()
    assert learner is not None
    # The commonest family name: the biggest page of a family-name search.
    common = (
        Learner.objects.values("family_name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert common is not None
    member = Membership.objects.select_related("user", "organisation").first()
    assert member is not None
    logged_uln = LearnerView.objects.filter(viewed_at__isnull=False).values_list(
        "learner_uln", flat=True
    )[5000]
    alert = UsageAlert.objects.select_related("organisation").first()
    assert alert is not None

    def at(name: str, **query: str) -> str:
        url = reverse(f"admin:records_{name}_changelist")
        return f"{url}?{urlencode(query)}" if query else url

    return [
        ("learners: plain", at("learner")),
        ("learners: exact ULN", at("learner", q=learner.uln)),
        (
            f"learners: family name ({common['n']:,} rows)",
            at("learner", q=common["family_name"]),
        ),
        ("learners: sorted by ULN, descending", at("learner", o="-1")),
        ("log: plain", at("learnerview")),
        ("log: exact ULN", at("learnerview", q=logged_uln)),
        ("log: last 24 hours", at("learnerview", within="24h")),
        (
            "log: organisation",
            at("learnerview", organisation_ukprn=member.organisation.ukprn),
        ),
        ("log: user", at("learnerview", user_email=member.user.email)),
        ("log: action", at("learnerview", action="view_record")),
        (
            "log: organisation, action, 7 days",
            at(
                "learnerview",
                organisation_ukprn=member.organisation.ukprn,
                action="search_uln",
                within="7d",
            ),
        ),
        ("log: outcome (rare)", at("learnerview", outcome="refused")),
        ("alerts: plain (open)", at("usagealert")),
        ("alerts: all", at("usagealert", status="all")),
        ("alerts: UKPRN", at("usagealert", q=alert.organisation.ukprn, status="all")),
        ("alerts: rule", at("usagealert", rule=alert.rule, status="all")),
    ]


def _p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _queries(client: Any, name: str, url: str) -> list[dict[str, str]]:
    """The queries of one request, which must show the changelist."""
    from django.db import connection

    connection.force_debug_cursor = True
    connection.queries_log.clear()
    response = client.get(url, secure=True)
    connection.force_debug_cursor = False
    assert response.status_code == 200, (name, response.status_code)
    if name != REFERENCE:
        assert b'id="changelist"' in response.content, name
    return list(connection.queries_log)


def _measure(label: str, client: Any, pages: list[tuple[str, str]], args: Any) -> bool:
    """Time every page in each round, in a new random order each round (so the
    machine's noise falls on all alike), beside a trivial signed-in page."""
    from django.urls import reverse

    pages = [(REFERENCE, reverse("lrs_portal:account")), *pages]
    queries = {name: _queries(client, name, url) for name, url in pages}
    times: dict[str, list[float]] = {name: [] for name, _ in pages}
    order = list(pages)
    for round_ in range(args.warmup + args.requests):
        random.shuffle(order)
        for name, url in order:
            started = time.perf_counter()
            client.get(url, secure=True)
            if round_ >= args.warmup:
                times[name].append((time.perf_counter() - started) * 1000)
    print(f"\n{label} (load average {os.getloadavg()[0]:.1f})")
    print(f"  {'page':44} {'p50':>8} {'p95':>8} {'worst':>8}  queries")
    met = True
    for name, _ in pages:
        unbounded = [
            q["sql"]
            for q in queries[name]
            if _COUNT.search(q["sql"])
            and " WHERE " not in q["sql"]
            and " LIMIT " not in q["sql"]
        ]
        p95 = _p(times[name], 95)
        ok = name == REFERENCE or (p95 < TARGET_MS and not unbounded)
        met = met and ok
        print(
            f"  {name:44} {_p(times[name], 50):6.1f}ms {p95:6.1f}ms"
            f" {max(times[name]):6.1f}ms  {len(queries[name]):3}"
            f"{'' if ok else '  NOT met'}"
            f"{'  UNFILTERED COUNT' if unbounded else ''}"
        )
    return met


def _run(args: argparse.Namespace, folder: Path) -> None:
    from django.db import connection

    from lrs_portal import roles
    from records.loading import learners_import
    from records.synthetic import synthetic_write
    from tests.factories import UserFactory

    _web_setup(args.seed)

    started = time.perf_counter()
    _, users = _members(100, 2)
    _views_insert(args.views, users)
    _alerts_insert(args.alerts)
    _timed(f"{args.views:,} LearnerView rows, {args.alerts:,} usage alerts", started)

    started = time.perf_counter()
    path = folder / "learners.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        synthetic_write(count=args.learners, learners_to=file, seed=args.seed)
    summary = learners_import(path=path, use_copy=True)
    assert not summary.rejected, summary.rejected
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _timed(f"generate and import {args.learners:,} learners, ANALYZE", started)

    pages = _pages()
    caseworker = UserFactory.create(is_staff=True, roles=(roles.CASEWORKER,))
    superuser = UserFactory.create(superuser=True)
    met = _measure("caseworker", _verified_client(caseworker), pages, args)
    met = _measure("superuser", _verified_client(superuser), pages, args) and met
    print(
        f"\nEvery changelist p95 under {TARGET_MS} ms with no unfiltered COUNT: "
        f"{'met' if met else 'NOT met'}"
    )
    connection.close()


def main() -> None:
    args = _arguments()
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    }
    with (
        django_on_scratch_database(
            kind="admin",
            name=args.database,
            needs="bench/admin_changelists.py times the admin at PostgreSQL scale",
            env=env,
        ),
        tempfile.TemporaryDirectory(prefix="lrs-bench-") as folder,
    ):
        _run(args, Path(folder))


if __name__ == "__main__":
    main()
