"""Benchmark: learner lookups against a trivial signed-in page (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/lookups.py [--learners 1000000] [--views 2000000]
        [--requests 300] [--warmup 30] [--seed 1]

Creates a scratch database next to DATABASE_URL's and migrates it (DEBUG off,
SECRET_KEY set here), creates the log's partitions and puts M LearnerView rows
over the last 30 days into them with one INSERT ... SELECT generate_series,
creates a member who passes the lookup gate (caps raised out of the way), loads
the first 100,000 synthetic learners with import_learners (COPY path), ANALYZEs
and times, with django.test.Client in this process,

(a) GET the account page (signed in, trivial),
(b) POST find-by-uln for a random existing learner,
(c) POST find-by-details with a random existing learner's details,

interleaved in a random order each round so machine noise hits all three alike.
Then it loads the rest of the N learners, ANALYZEs, times the same again, prints
p50/p95 of each and the ratios (b)/(a) and (c)/(a) at p95 (targets 2x and 3x),
the ULN lookup at 100k against N (it should be flat), and the ULN query's plan.
Finally it drops the scratch database. It refuses SQLite.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
FIRST_STAGE = 100_000
OTHER_MEMBERS = 20
KINDS = ("account", "uln", "details")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def _scratch_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(
            "bench/lookups.py measures lookups at PostgreSQL scale, so it needs "
            "DATABASE_URL=postgres://… (not SQLite)."
        )
    name = f"lrs_bench_lookups_{os.getpid()}"
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _libpq(url: str) -> str:
    return "postgresql" + url[url.index("://") :]


def _timed(label: str, started: float) -> None:
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)


def _members() -> tuple[Any, list[tuple[int, int]]]:
    """The benchmark's member, and (user id, organisation id) of everyone whose
    searches fill the log (the benchmark's member among them)."""
    from tests.factories import (
        AgreementVersionFactory,
        OrganisationFactory,
        member_of,
    )

    version = AgreementVersionFactory.create()
    searcher = member_of(OrganisationFactory.create(last_signed_version=version))
    pairs = [(searcher.pk, searcher.membership.organisation_id)]
    for _ in range(OTHER_MEMBERS):
        other = member_of(OrganisationFactory.create(last_signed_version=version))
        pairs.append((other.pk, other.membership.organisation_id))
    return searcher, pairs


def _views_insert(count: int, pairs: list[tuple[int, int]]) -> None:
    from django.db import connection

    from records.models import LearnerView

    users = [user for user, _ in pairs]
    organisations = [organisation for _, organisation in pairs]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LearnerView._meta.db_table} (viewed_at, user_id, "
            "organisation_id, action, outcome, match_count, learner_uln, request_id)"
            " SELECT now() - random() * interval '30 days',"
            " (%s::bigint[])[1 + g %% %s], (%s::bigint[])[1 + g %% %s],"
            " (ARRAY['search_uln', 'search_demographics', 'view_record'])[1 + g %% 3],"
            " 'exact_match', 1, (1000000000 + g)::text, ''"
            " FROM generate_series(1, %s) AS g",
            [users, len(pairs), organisations, len(pairs), count],
        )


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _sample(size: int) -> list[tuple[Any, ...]]:
    """Random existing learners: ULN and the five details."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uln, given_name, family_name, date_of_birth, gender, postcode"
            " FROM records_learner WHERE postcode IS NOT NULL"
            " ORDER BY random() LIMIT %s",
            [size],
        )
        return list(cursor.fetchall())


def _requests(
    client: Any, learners: list[tuple[Any, ...]]
) -> dict[str, Callable[[], Any]]:
    from django.urls import reverse

    account = reverse("lrs_portal:account")
    by_uln = reverse("records:find-by-uln")
    by_details = reverse("records:find-by-details")
    confirm = {"privacy_notice": "on", "own_student": "on"}

    def get_account() -> Any:
        return client.get(account, secure=True)

    def find_by_uln() -> Any:
        uln = random.choice(learners)[0]
        return client.post(by_uln, {"uln": uln, **confirm}, secure=True)

    def find_by_details() -> Any:
        _, given, family, born, gender, postcode = random.choice(learners)
        data = {
            "given_name": given,
            "family_name": family,
            "date_of_birth_day": str(born.day),
            "date_of_birth_month": str(born.month),
            "date_of_birth_year": str(born.year),
            "gender": str(gender),
            "postcode": postcode,
            **confirm,
        }
        return client.post(by_details, data, secure=True)

    return {"account": get_account, "uln": find_by_uln, "details": find_by_details}


def _measure(client: Any, requests: int, warmup: int) -> dict[str, list[float]]:
    from records.models import LearnerView

    calls = _requests(client, _sample(2_000))
    # Each search must run and log, not be refused or fail validation.
    logged = LearnerView.objects.count()
    for kind, call in calls.items():
        response = call()
        assert response.status_code == 200, (kind, response.status_code)
    assert LearnerView.objects.count() == logged + 2, "a search was not logged"
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    order = list(KINDS)
    for round_ in range(warmup + requests):
        random.shuffle(order)
        for kind in order:
            started = time.perf_counter()
            response = calls[kind]()
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (kind, response.status_code)
            if round_ >= warmup:
                times[kind].append(elapsed * 1000)
    return times


def _p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _report(label: str, times: dict[str, list[float]]) -> dict[str, float]:
    print(f"\n{label}")
    p95 = {}
    names = {
        "account": "(a) account page",
        "uln": "(b) find by ULN",
        "details": "(c) find by details",
    }
    for kind in KINDS:
        p95[kind] = _p(times[kind], 95)
        print(
            f"  {names[kind]:22} p50 {_p(times[kind], 50):7.2f} ms"
            f"   p95 {p95[kind]:7.2f} ms   (n={len(times[kind])})"
        )
    for kind, target in (("uln", 2), ("details", 3)):
        ratio = p95[kind] / p95["account"]
        verdict = "met" if ratio <= target else "NOT met"
        print(
            f"  p95 {names[kind][:3]}/(a): {ratio:.2f}x"
            f" (target <= {target}x: {verdict})"
        )
    return p95


def _explain() -> None:
    from records.models import Learner

    uln = _sample(1)[0][0]
    query = Learner.objects.filter(uln=uln)
    query = query if query.ordered else query.order_by("pk")
    print(
        "\nEXPLAIN ANALYZE of the ULN lookup (Learner.objects.filter(uln=…).first()):"
    )
    print(query[:1].explain(analyze=True))


def _split(path: Path, first: int, folder: Path) -> tuple[Path, Path]:
    head, rest = folder / "first.csv", folder / "rest.csv"
    with (
        path.open(encoding="utf-8") as source,
        head.open("w", encoding="utf-8") as one,
        rest.open("w", encoding="utf-8") as two,
    ):
        header = source.readline()
        one.write(header)
        two.write(header)
        for number, line in enumerate(source):
            (one if number < first else two).write(line)
    return head, rest


def _run(arguments: argparse.Namespace, folder: Path) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from records.loading import learners_import
    from records.pg import partitions_ensure
    from records.synthetic import synthetic_write

    # No collectstatic here: plain static storage instead of the manifest.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
    ).enable()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise
    random.seed(arguments.seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    partitions_ensure(months_ahead=3, months_back=2)
    _timed("migrate and partitions", started)

    searcher, pairs = _members()
    started = time.perf_counter()
    _views_insert(arguments.views, pairs)
    _timed(f"insert {arguments.views:,} LearnerView rows", started)

    started = time.perf_counter()
    path = folder / "learners.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        synthetic_write(count=arguments.learners, learners_to=file, seed=arguments.seed)
    head, rest = _split(path, FIRST_STAGE, folder)
    path.unlink()
    _timed(f"generate {arguments.learners:,} learners", started)

    client = Client()
    client.force_login(searcher)
    results = {}
    stages = [(head, min(FIRST_STAGE, arguments.learners))]
    if arguments.learners > FIRST_STAGE:
        stages.append((rest, arguments.learners))
    for stage_file, total in stages:
        started = time.perf_counter()
        summary = learners_import(path=stage_file, use_copy=True)
        _analyze()
        _timed(f"import_learners up to {total:,} learners, ANALYZE", started)
        assert not summary.rejected, summary.rejected
        started = time.perf_counter()
        times = _measure(client, arguments.requests, arguments.warmup)
        _timed(f"{arguments.warmup + arguments.requests} rounds of 3 requests", started)
        results[total] = _report(
            f"{total:,} learners, {arguments.views:,}+ LearnerView rows", times
        )
    if len(results) == 2:
        small, large = (results[total] for _, total in stages)
        print(
            f"\nULN lookup p95: {small['uln']:.2f} ms at {FIRST_STAGE:,} learners, "
            f"{large['uln']:.2f} ms at {arguments.learners:,} "
            f"({large['uln'] / small['uln']:.2f}x); account page p95 "
            f"{small['account']:.2f} -> {large['account']:.2f} ms"
        )
    _explain()
    connection.close()


def main() -> None:
    arguments = _arguments()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("Set DATABASE_URL=postgres://… (this benchmark needs PostgreSQL).")
    scratch, name = _scratch_url(url)
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            {
                "DATABASE_URL": scratch,
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "testserver",
                "LOOKUP_USER_HOURLY_CAP": "100000000",
                "LOOKUP_ORG_DAILY_MINIMUM": "100000000",
                # Request logs off for all three alike (no terminal I/O timed).
                "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "lrs_portal.settings",
            }
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        with tempfile.TemporaryDirectory(prefix="lrs-bench-") as folder:
            _run(arguments, Path(folder))
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
