"""Benchmark: learner lookups against a trivial signed-in page (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/lookups.py [--learners 1000000] [--views 2000000]
        [--requests 300] [--warmup 30] [--seed 1] [--stages 100000[,…]]
        [--organisations 100] [--members-per-organisation 2] [--database NAME]

Creates a scratch database next to DATABASE_URL's and migrates it (DEBUG off,
SECRET_KEY set here), creates the log's partitions and puts M LearnerView rows
over the last 30 days into them in time order (as the log is written) with one
INSERT ... SELECT generate_series, each row by a random member of one of the
organisations (their indexes are rebuilt after the insert), creates a member
who passes the lookup gate (caps raised out of the way), loads the first
stage's synthetic learners with import_learners (COPY path), ANALYZEs and
times, with django.test.Client in this process,

(a) GET the account page (signed in, trivial),
(b) POST find-by-uln for a random existing learner,
(c) POST find-by-details with a random existing learner's details,

interleaved in a random order each round so machine noise hits all three alike.
Then it loads the learners up to each further stage and N, ANALYZEs, times the
same again, prints p50/p95 of each and the ratios (b)/(a) and (c)/(a) at p95
(targets 2x and 3x), the ULN lookup at the first stage against each later one
(it should be flat), and the ULN query's plan. Finally it drops the scratch
database. It refuses SQLite.
"""

import argparse
import random
import secrets
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scratch import django_on_scratch_database  # bench/ is the script's folder

KINDS = ("account", "uln", "details")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--organisations",
        type=int,
        default=100,
        help="organisations whose members' searches fill the log (default 100)",
    )
    parser.add_argument("--members-per-organisation", type=int, default=2)
    parser.add_argument(
        "--stages",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[100_000],
        help="learner counts to measure at before --learners (default 100000)",
    )
    parser.add_argument(
        "--database",
        default="",
        help="name of the scratch database (default lrs_bench_lookups_<pid>)",
    )
    return parser.parse_args()


def _web_setup(seed: int) -> None:
    """What a benchmark that requests pages needs first: plain static storage
    (no collectstatic), the seed, the migrated database and the log's
    partitions."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    from records.log_partitions import partitions_ensure

    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
    ).enable()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise
    random.seed(seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    partitions_ensure(months_ahead=3, months_back=2)
    _timed("migrate and partitions", started)


def _timed(label: str, started: float) -> None:
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)


def _members(organisations: int, per_organisation: int) -> tuple[Any, list[int]]:
    """The benchmark's member, and the user ids of everyone whose searches fill
    the log: ``per_organisation`` members in each of ``organisations``
    organisations, the benchmark's member and organisation among them.

    Only the benchmark's member signs in, so the others are bulk-created with
    unusable passwords (hashing hundreds of passwords would take minutes).
    """
    from lrs_portal.models import User
    from registration.models import Membership, Organisation
    from tests.factories import (
        AgreementVersionFactory,
        OrganisationFactory,
        member_of,
    )

    version = AgreementVersionFactory.create()
    searcher = member_of(OrganisationFactory.create(last_signed_version=version))
    ours = searcher.membership.organisation
    others = Organisation.objects.bulk_create(
        OrganisationFactory.build_batch(
            max(organisations - 1, 0), last_signed_version=version
        )
    )
    users, memberships = [], []
    for organisation in [ours, *others]:
        for n in range(per_organisation - (organisation == ours)):
            user = User(email=f"filler{n}-{organisation.ukprn}@example.com")
            user.set_unusable_password()
            users.append(user)
            memberships.append(Membership(user=user, organisation=organisation))
    User.objects.bulk_create(users)
    for membership in memberships:
        membership.user_id = membership.user.pk
    Membership.objects.bulk_create(memberships)
    return searcher, [searcher.pk, *(user.pk for user in users)]


@contextmanager
def log_indexes_dropped() -> Iterator[Any]:
    """A cursor to fill the log with, its indexes dropped meanwhile and rebuilt
    afterwards (CREATE INDEX on the partitioned table, the same definitions as
    the migrations made) and, for a superuser, its foreign-key and append-only
    triggers skipped (session_replication_role): as fast as an honest copy of
    the real table allows, when every row refers to an existing user and
    organisation."""
    from django.db import connection

    from records.log_grants import LOG_TABLE

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary",
            [LOG_TABLE],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        superuser = bool(row and row[0])
        if superuser:
            cursor.execute("SET session_replication_role = replica")
        yield cursor
        if superuser:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON "))


def _views_insert(count: int, users: list[int], *, days: int = 30) -> None:
    """``count`` log rows over the last ``days`` days (default 30), in time
    order (as the log is written), each by a random one of ``users`` for their
    own organisation (log_indexes_dropped)."""
    from records.log_grants import LOG_TABLE

    with log_indexes_dropped() as cursor:
        cursor.execute(
            f"INSERT INTO {LOG_TABLE} (viewed_at, user_id, organisation_id, action,"
            " outcome, match_count, learner_uln, request_id)"
            " SELECT now() - interval '1 day' * %s * (1 - g::float8 / %s), m.user_id,"
            " m.organisation_id, a.action,"
            " CASE a.action WHEN 'view_record' THEN 'shown' ELSE 'exact_match' END,"
            " 1, (1000000000 + g)::text, ''"
            " FROM generate_series(1, %s) AS g"
            " CROSS JOIN LATERAL (SELECT (%s::bigint[])"
            "[1 + floor(random() * %s)::int + 0 * g] AS user_id) AS u"
            " JOIN registration_membership m ON m.user_id = u.user_id"
            " CROSS JOIN LATERAL (SELECT (ARRAY['search_uln', 'search_demographics',"
            " 'view_record'])[1 + g %% 3] AS action) AS a",
            [days, count, count, users, len(users)],
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


def _split(path: Path, sizes: list[int], folder: Path) -> list[Path]:
    """The file's rows cut into consecutive files ending at each of sizes."""
    pieces = [folder / f"stage{n}.csv" for n in range(len(sizes))]
    with path.open(encoding="utf-8") as source:
        header = source.readline()
        start = 0
        for piece, end in zip(pieces, sizes, strict=True):
            with piece.open("w", encoding="utf-8") as out:
                out.write(header)
                for _ in range(end - start):
                    out.write(source.readline())
            start = end
    return pieces


def _searches_today() -> tuple[int, int]:
    """The benchmark organisation's searches today, and its busiest member's
    in the last hour: what the cap counts read on each lookup."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM records_learnerview v"
            "  WHERE v.organisation_id = m.organisation_id"
            "  AND v.viewed_at >= date_trunc('day', now() AT TIME ZONE 'UTC')"
            "  AT TIME ZONE 'UTC' AND v.action <> 'view_record'),"
            " (SELECT count(*) FROM records_learnerview v"
            "  WHERE v.user_id = m.user_id AND v.viewed_at >= now() - interval '1 hour'"
            "  AND v.action <> 'view_record')"
            " FROM registration_membership m ORDER BY m.id LIMIT 1"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _run(arguments: argparse.Namespace, folder: Path) -> None:
    from django.db import connection
    from django.test import Client

    from records.loading import learners_import
    from records.synthetic import synthetic_write

    _web_setup(arguments.seed)

    searcher, users = _members(
        arguments.organisations, arguments.members_per_organisation
    )
    started = time.perf_counter()
    _views_insert(arguments.views, users)
    _timed(f"insert {arguments.views:,} LearnerView rows", started)

    started = time.perf_counter()
    path = folder / "learners.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        synthetic_write(count=arguments.learners, learners_to=file, seed=arguments.seed)
    sizes = sorted({n for n in arguments.stages if n < arguments.learners})
    sizes.append(arguments.learners)
    pieces = _split(path, sizes, folder)
    path.unlink()
    _timed(f"generate {arguments.learners:,} learners", started)

    client = Client()
    client.force_login(searcher)
    results = {}
    for stage_file, total in zip(pieces, sizes, strict=True):
        started = time.perf_counter()
        summary = learners_import(path=stage_file, use_copy=True)
        _analyze()
        _timed(f"import_learners up to {total:,} learners, ANALYZE", started)
        assert not summary.rejected, summary.rejected
        started = time.perf_counter()
        times = _measure(client, arguments.requests, arguments.warmup)
        _timed(f"{arguments.warmup + arguments.requests} rounds of 3 requests", started)
        organisation_today, member_hour = _searches_today()
        results[total] = _report(
            f"{total:,} learners, {arguments.views:,}+ LearnerView rows (the"
            f" member's organisation: {organisation_today:,} searches today;"
            f" the member: {member_hour:,} in the last hour)",
            times,
        )
    first = results[sizes[0]]
    for total in sizes[1:]:
        print(
            f"\nULN lookup p95: {first['uln']:.2f} ms at {sizes[0]:,} learners, "
            f"{results[total]['uln']:.2f} ms at {total:,} "
            f"({results[total]['uln'] / first['uln']:.2f}x); account page p95 "
            f"{first['account']:.2f} -> {results[total]['account']:.2f} ms"
        )
    _explain()
    connection.close()


def main() -> None:
    arguments = _arguments()
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "LOOKUP_USER_HOURLY_CAP": "100000000",
        "LOOKUP_ORG_DAILY_MINIMUM": "100000000",
        # Request logs off for all three alike (no terminal I/O timed).
        "LOG_LEVEL": "WARNING",
    }
    with (
        django_on_scratch_database(
            kind="lookups",
            name=arguments.database,
            needs="bench/lookups.py measures lookups at PostgreSQL scale",
            env=env,
        ),
        tempfile.TemporaryDirectory(prefix="lrs-bench-") as folder,
    ):
        _run(arguments, Path(folder))


if __name__ == "__main__":
    main()
