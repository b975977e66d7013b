"""Benchmark: the service at national scale (issue 15): 28M learners, 60M log rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/scale.py --phase load
    ... bench/scale.py --phase measure
    ... bench/scale.py --phase drop

Unlike the other benchmarks its database (default ``lrs_bench_scale``) is kept
between phases, because filling it takes most of an hour on two cores:

``load``
    migrates a new database; generates ``--learners`` learners and
    achievements for a tenth of them; puts ``--log-rows`` log rows over the
    last ``--log-days`` days (up to today) in their monthly partitions, written
    directly (indexes dropped and rebuilt, as bench/lookups.py does), by the
    members of ``--organisations`` organisations of three and the benchmark's
    own heavy one (2% of all rows, by as many members as keep each near 100 rows
    a day): each row's learner drawn at random from the learners' file (real
    ULNs), working hours for 97 rows in 100, and each day's planted misuse
    (``misuse_rows``); imports the file's first 1M learners with the real
    import and times ULN and demographic searches (the 1M stage); then times a
    bare COPY of the whole file into a table like the learners', empties the
    learners and imports the whole file with the real import
    (``learners_import``, what ``manage.py import_learners`` runs) and the
    achievements; prints the database's size. Its figures go to
    ``<folder>/load.json``.
``measure``
    on the full database: ULN and demographic searches against the 1M stage;
    the learner access report of one much-searched learner across the whole
    log; the nightly audit (every day before yesterday not audited yet, as the
    nightly runs would have, then yesterday's first audit, then the day's bare
    aggregate and the audit of the day again, three times each, to
    ``<folder>/audit.json``); the heavy organisation's usage page (its past
    days from that audit's counts) and a month of its log as CSV; the admin
    changelists of learners, the log and alerts; partition maintenance.
    ``--parts small``, only when named and last: deletes every day of the log
    but yesterday and audits that day again, against audit.json's figures.
``drop``
    drops the database.

Every page is requested through Django's test client in this process (no
server), signed in as the page's user, with the lookups' caps raised out of
reach (the caps count rows; they are measured, not hit).
"""

import argparse
import json
import math
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from scratch import ROOT, libpq, scratch_url

ONE_STAGE = 1_000_000
PARTS = ("lookups", "report", "audit", "heavy", "admin", "partitions")
# Run only when named, and last: it deletes all of the log but yesterday.
DESTRUCTIVE = ("small",)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("load", "measure", "drop"), required=True)
    parser.add_argument("--database", default="lrs_bench_scale")
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "scale")
    parser.add_argument("--learners", type=int, default=28_000_000)
    parser.add_argument("--log-rows", type=int, default=60_000_000)
    parser.add_argument("--log-days", type=int, default=60)
    parser.add_argument("--organisations", type=int, default=3400)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--parts",
        type=lambda text: set(text.split(",")),
        default=set(PARTS),
        help=f"what --phase measure measures (default all: {','.join(PARTS)});"
        " small (not by default: it empties the log but for yesterday, so comes"
        " last) audits yesterday again in a log of that day alone",
    )
    return parser.parse_args()


def _timed(label: str, started: float) -> float:
    elapsed = time.perf_counter() - started
    print(
        f"{label}: {elapsed:.1f} s (load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return elapsed


def _django(url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "lrs_portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "LOOKUP_USER_HOURLY_CAP": "1000000000",
            "LOOKUP_ORG_DAILY_MINIMUM": "1000000000",
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "memorymail://",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_database_size(current_database()),"
            " pg_total_relation_size('records_learner'),"
            " pg_indexes_size('records_learner'),"
            " pg_total_relation_size('records_achievement'),"
            " (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)"
            "  FROM pg_inherits WHERE inhparent = 'records_learnerview'::regclass),"
            " (SELECT coalesce(sum(pg_indexes_size(inhrelid)), 0)"
            "  FROM pg_inherits WHERE inhparent = 'records_learnerview'::regclass)"
        )
        row = cursor.fetchone()
    assert row is not None
    names = (
        "database",
        "learners",
        "learners_indexes",
        "achievements",
        "log",
        "log_indexes",
    )
    return dict(zip(names, map(int, row), strict=True))


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def _write_files(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """The learners file, its first 1M rows, and achievements for every tenth
    learner (synthetic_write's generator, filtered)."""
    import csv

    from django.utils import timezone

    from records.loading import ACHIEVEMENT_COLUMNS, LEARNER_COLUMNS
    from records.synthetic import synthetic_achievements, synthetic_learners

    folder = args.folder
    paths = (
        folder / "learners.csv",
        folder / "learners-1m.csv",
        folder / "achievements.csv",
    )
    if all(path.exists() for path in paths):
        print("files: reusing", ", ".join(str(p) for p in paths))
        return paths
    as_of = timezone.localdate()
    rng = random.Random(f"{args.seed}:achievements")
    providers = tuple(str(rng.randrange(10_000_000, 10_099_999)) for _ in range(60))
    started = time.perf_counter()
    with (
        paths[0].open("w", encoding="utf-8", newline="") as everyone,
        paths[1].open("w", encoding="utf-8", newline="") as first,
        paths[2].open("w", encoding="utf-8", newline="") as awards,
    ):
        all_rows, first_rows, award_rows = (
            csv.writer(f, lineterminator="\n") for f in (everyone, first, awards)
        )
        all_rows.writerow(LEARNER_COLUMNS)
        first_rows.writerow(LEARNER_COLUMNS)
        award_rows.writerow(ACHIEVEMENT_COLUMNS)
        for n, row in enumerate(
            synthetic_learners(args.learners, seed=args.seed, as_of=as_of)
        ):
            all_rows.writerow(row)
            if n < ONE_STAGE:
                first_rows.writerow(row)
            if n % 10 == 0:
                award_rows.writerows(
                    synthetic_achievements(row, rng, as_of=as_of, providers=providers)
                )
    _timed(f"generate {args.learners:,} learners and a tenth's achievements", started)
    return paths


# Rows a member writes in a day, about: a million rows a day over 10,000
# members (the default 3,400 organisations of three). The audit's per-user rules
# start at 150 searches and 30 lookups at night a day; an ordinary member makes
# about 67 searches, one or two of them at night.
ROWS_PER_MEMBER_DAY = 100


def _members(args: argparse.Namespace) -> tuple[Any, list[int], set[int]]:
    """The benchmark's member (in the heavy organisation), the weighted list of
    users whose searches fill the log, and the heavy organisation's users: as
    many as write its 2% of the rows at about ROWS_PER_MEMBER_DAY each."""
    from django.contrib.auth.hashers import make_password
    from lookups import _members as members

    from lrs_portal.models import User
    from registration.models import Membership

    searcher, users = members(args.organisations, 3)
    ours = searcher.membership.organisation
    # The usage page and its log are the organisation's super user's.
    searcher.membership.is_super_user = True
    searcher.membership.save(update_fields=["is_super_user"])
    per_day = args.log_rows / args.log_days
    wanted = max(3, math.ceil(0.02 * per_day / ROWS_PER_MEMBER_DAY))
    unusable = make_password(None)
    extra = User.objects.bulk_create(
        User(email=f"heavy{n}-{ours.ukprn}@example.com", password=unusable)
        for n in range(wanted - 3)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organisation=ours) for user in extra
    )
    # Declared volumes above what each organisation searches (about 200 a day
    # each, 13,000 for the heavy one; learners a year over working days is the
    # audit's expected day), so that the nightly audit measures a day's work,
    # not a thousand suspensions.
    organisations = type(ours).objects
    organisations.update(estimated_learners_per_year=400_000)
    organisations.filter(pk=ours.pk).update(estimated_learners_per_year=8_000_000)
    heavy = set(
        User.objects.filter(membership__organisation=ours).values_list("pk", flat=True)
    )
    others = [user for user in users if user not in heavy]
    weight = max(1, round(0.02 * len(others) / (0.98 * len(heavy))))
    return searcher, others + sorted(heavy) * weight, heavy


def _load(args: argparse.Namespace) -> None:
    from admin_changelists import _verified_client
    from django.contrib.auth import get_user_model
    from django.db import connection
    from import_learners import _bare_copy
    from lookups import _analyze, _measure, _web_setup

    from records.loading import achievements_import, learners_import
    from records.log_partitions import partitions_ensure

    figures: dict[str, Any] = {
        "learners": args.learners,
        "log_rows": args.log_rows,
        "log_days": args.log_days,
    }
    _web_setup(args.seed)
    partitions_ensure(months_ahead=3, months_back=args.log_days // 28 + 1)
    searcher, users, heavy = _members(args)
    everyone, first, awards = _write_files(args)
    started = time.perf_counter()
    learners = _register_sample(everyone)
    _log_insert(args, users, heavy, learners)
    figures["log_insert_s"] = _timed(f"insert {args.log_rows:,} log rows", started)
    started = time.perf_counter()
    summary = learners_import(path=first, use_copy=True)
    assert not summary.rejected, summary.rejected
    _analyze()
    _timed(f"import the first {ONE_STAGE:,} learners, ANALYZE", started)
    client = _verified_client(searcher)
    times = _measure(client, args.requests, args.warmup)
    figures["stage_1m"] = _percentiles(times)
    _print_lookups(f"{ONE_STAGE:,} learners", figures["stage_1m"])

    url = os.environ["DATABASE_URL"]
    figures["bare_copy_s"] = _bare_copy(url, everyone)
    print(f"bare COPY of the whole file: {figures['bare_copy_s']:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE records_learner CASCADE")
    started = time.perf_counter()
    summary = learners_import(path=everyone, use_copy=True)
    figures["import_s"] = _timed(f"import_learners, {args.learners:,} rows", started)
    assert not summary.rejected, summary.rejected
    started = time.perf_counter()
    summary = achievements_import(path=awards, use_copy=True)
    figures["achievements_s"] = _timed("import_achievements", started)
    assert not summary.rejected, summary.rejections[:5]
    figures["achievements"] = summary.added
    started = time.perf_counter()
    _analyze()
    _timed("ANALYZE", started)
    figures["sizes"] = _sizes()
    figures["searcher"] = searcher.pk
    ratio = figures["import_s"] / figures["bare_copy_s"]
    print(f"import / bare COPY: {ratio:.2f}x (target within 2x)")
    for name, size in figures["sizes"].items():
        print(f"  size of {name}: {_gb(size)}")
    (args.folder / "load.json").write_text(json.dumps(figures, indent=2))
    assert get_user_model().objects.filter(pk=searcher.pk).exists()
    connection.close()


def _p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _percentiles(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        kind: {"p50": _p(values, 50), "p95": _p(values, 95), "n": len(values)}
        for kind, values in times.items()
    }


def _print_lookups(label: str, figures: dict[str, dict[str, float]]) -> None:
    print(f"\n{label} (load average {os.getloadavg()[0]:.1f})")
    for kind, row in figures.items():
        print(f"  {kind:10} p50 {row['p50']:7.2f} ms   p95 {row['p95']:7.2f} ms")


def _once(label: str, call: Any, repeats: int = 3) -> float:
    """The best of ``repeats`` timings of call(), printed with all of them."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    print(
        f"  {label}: best {min(times) * 1000:.0f} ms"
        f" ({', '.join(f'{t * 1000:.0f}' for t in times)} ms;"
        f" load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return min(times)


def _measure_all(args: argparse.Namespace) -> None:
    from admin_changelists import _alerts_insert, _pages, _verified_client
    from admin_changelists import _measure as changelists
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone
    from lookups import _measure, _web_setup

    from lrs_portal import roles
    from records.models import Learner, LearnerView, UsageAlert
    from records.reports import access_report_csv, learner_access_report
    from tests.factories import UserFactory

    _web_setup(args.seed)  # plain static files; migrate and partitions: no-ops
    loaded = json.loads((args.folder / "load.json").read_text())
    searcher = get_user_model().objects.get(pk=loaded["searcher"])
    learners = Learner.objects.count()
    log_rows = loaded["log_rows"]
    print(f"{learners:,} learners, about {log_rows:,} log rows")
    today = timezone.localdate()

    client = _verified_client(searcher)
    if "lookups" in args.parts:
        full = _percentiles(_measure(client, args.requests, args.warmup))
        _print_lookups(f"{learners:,} learners", full)
        stage = loaded["stage_1m"]
        for kind in ("uln", "details"):
            raw = full[kind]["p95"] / stage[kind]["p95"]
            fair = raw / (full["account"]["p95"] / stage["account"]["p95"])
            print(
                f"  {kind} p95 {stage[kind]['p95']:.2f} ms at 1M ->"
                f" {full[kind]['p95']:.2f} ms: {raw:.2f}x"
                f" ({fair:.2f}x against the account page's own change;"
                f" target within 1.2x)"
            )

    if "report" in args.parts:
        # The learner access report of one learner searched 300 times by 300
        # organisations' members over the two months.
        # (Once per database: a second measure phase finds them.)
        learner = Learner.objects.order_by("pk")[learners // 2]
        # The generated log's random ULNs may have found this learner a few
        # times already: plant the 300 views unless they are there.
        planted = LearnerView.objects.filter(
            learner_uln=learner.uln, action="view_record", request_id=""
        )
        if planted.count() < 300:
            _learner_searched(learner.uln, args.log_days)
        print("\nOne learner across the whole log:")
        rows: list[Any] = []

        def report() -> None:
            rows[:] = list(
                access_report_csv(
                    uln=learner.uln, rows=learner_access_report(uln=learner.uln)
                )
            )

        _once("learner access report (CSV)", report)
        print(f"    {len(rows) - 1:,} lines")

    if "audit" in args.parts:
        _audit_measure(args.folder, loaded.get("log_days", args.log_days))

    if "heavy" in args.parts:
        print("\nThe heavy organisation (2% of the log):")
        ours = searcher.membership.organisation
        heavy = LearnerView.objects.filter(organisation=ours).count()
        print(f"  {heavy:,} log rows")
        usage = reverse("records:usage")
        _once("usage page", lambda: _ok(client.get(usage, secure=True)))
        month_ago = today - timedelta(days=30)
        export = f"{reverse('records:usage-csv')}?from={month_ago}&to={today}"
        sizes: list[int] = []

        def download() -> None:
            response = client.get(export, secure=True)
            _ok(response)
            sizes[:] = [sum(len(chunk) for chunk in response.streaming_content)]

        _once("30 days of its log as CSV", download, repeats=2)
        print(f"    {sizes[0] / 1e6:.1f} MB")

    if "admin" in args.parts:
        print("\nAdmin changelists:")
        if not UsageAlert.objects.exists():
            _alerts_insert(20_000)
        connection.cursor().execute("ANALYZE records_usagealert")
        # A new caseworker each run (the factory's sequence starts again in
        # each process, and the measure phase may be run again).
        caseworker = UserFactory.create(
            email=f"caseworker-{secrets.token_hex(4)}@education.gov.uk",
            is_staff=True,
            roles=(roles.CASEWORKER,),
        )
        pages = _pages()

        class Rounds:
            requests, warmup = 20, 3

        changelists("caseworker", _verified_client(caseworker), pages, Rounds)

    if "partitions" in args.parts:
        print("\nPartition maintenance:")
        _once(
            "maintain_partitions --dry-run",
            lambda: call_command("maintain_partitions", dry_run=True, stdout=_null()),
            repeats=2,
        )
        _once(
            "maintain_partitions",
            lambda: call_command("maintain_partitions", stdout=_null()),
            repeats=1,
        )
    if "small" in args.parts:
        _audit_small(args.folder)

    print("\nSizes:")
    for name, size in _sizes().items():
        print(f"  {name}: {_gb(size)}")
    connection.close()


# The generated log: each row's learner one of the register's, drawn at random
# (its real ULN, valid check digit and all), so that no member searches
# consecutive ULNs; 97 rows in 100 between 08:00 and 18:59 UTC (working hours in
# the UK in winter and summer), the rest at any hour, so that no ordinary member
# uses it at night; actions a third each; outcomes mixed, 2% refused, so that
# the usage page's refusals and refused record views have rows. A search that
# found its learner is stamped with the learner's age band on the day and
# postcode area, as the lookups stamp it (records.purpose_profile.learner_stamp). Rows
# are by day in order; the days are the --log-days days up to today (UTC).
_LOG_SQL = """
INSERT INTO records_learnerview (viewed_at, user_id, organisation_id, action,
  outcome, match_count, learner_uln, learner_age_band, learner_area, request_id)
SELECT r.viewed_at, r.user_id, m.organisation_id, r.action, r.outcome,
  CASE r.outcome WHEN 'exact_match' THEN 1 WHEN 'shown' THEN 1
    WHEN 'possible_matches' THEN 3 ELSE 0 END,
  CASE WHEN r.action = 'search_demographics' AND r.outcome <> 'exact_match'
    THEN '' ELSE l.uln END,
  CASE WHEN r.outcome = 'exact_match' THEN CASE
    WHEN l.born > r.viewed_at::date - interval '14 years' THEN 0
    WHEN l.born > r.viewed_at::date - interval '17 years' THEN 1
    WHEN l.born > r.viewed_at::date - interval '20 years' THEN 2
    WHEN l.born > r.viewed_at::date - interval '25 years' THEN 3
    WHEN l.born > r.viewed_at::date - interval '40 years' THEN 4
    WHEN l.born > r.viewed_at::date - interval '65 years' THEN 5 ELSE 6 END END,
  CASE WHEN r.outcome <> 'exact_match' THEN ''
    WHEN SUBSTR(l.postcode, 2, 1) BETWEEN 'A' AND 'Z' THEN SUBSTR(l.postcode, 1, 2)
    ELSE SUBSTR(l.postcode, 1, 1) END,
  ''
FROM (
  SELECT %(first)s::timestamptz + ((g - 1) * %(days)s / %(count)s) * interval '1 day'
      + CASE WHEN random() < 0.03 THEN random() * interval '24 hours'
        ELSE interval '8 hours' + random() * interval '11 hours' END AS viewed_at,
    (%(users)s::bigint[])[1 + floor(random() * %(user_count)s)::int] AS user_id,
    a.action,
    CASE a.action
      WHEN 'search_uln' THEN CASE WHEN q < 90 THEN 'exact_match'
        WHEN q < 98 THEN 'no_match' ELSE 'refused' END
      WHEN 'search_demographics' THEN CASE WHEN q < 70 THEN 'exact_match'
        WHEN q < 80 THEN 'possible_matches' WHEN q < 98 THEN 'no_match'
        ELSE 'refused' END
      ELSE CASE WHEN q < 98 THEN 'shown' ELSE 'refused' END END AS outcome,
    1 + floor(random() * %(learners)s)::int AS n
  FROM generate_series(1::bigint, %(count)s) AS g
  CROSS JOIN LATERAL (SELECT (ARRAY['search_uln', 'search_demographics',
    'view_record'])[1 + g %% 3] AS action, (g * 7919 + 13) %% 100 AS q) AS a
  OFFSET 0
) AS r
JOIN registration_membership m ON m.user_id = r.user_id
JOIN bench_register l ON l.n = r.n
"""

# The planted misuse, each day: MISUSERS members (never the heavy
# organisation's) of each kind, a different few each day.
MISUSERS = 3
ENUMERATED = 40  # consecutive ULNs searched (the rule: a run of 20)
NIGHT_LOOKUPS = 40  # at 02:00 UTC (the rule: more than 30)
EXTRA_SEARCHES = 200  # on top of their ~70 (the rule: more than 150)


def _register_sample(path: Path) -> int:
    """The learners file's ULNs, dates of birth and postcodes, numbered from 1,
    in an unlogged table (bench_register) the log's generator draws from."""
    from django.db import connection

    from records.loading import LEARNER_COLUMNS

    columns = ", ".join(f"{name} text" for name in LEARNER_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE bench_file ({columns})")
        with (
            path.open("rb") as file,
            cursor.cursor.copy(
                "COPY bench_file FROM STDIN (FORMAT csv, HEADER)"
            ) as copy,
        ):
            while chunk := file.read(1 << 20):
                copy.write(chunk)
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_register AS SELECT"
            " (row_number() OVER ())::int AS n, uln,"
            " NULLIF(date_of_birth, '')::date AS born, UPPER(postcode) AS postcode"
            " FROM bench_file"
        )
        cursor.execute("DROP TABLE bench_file")
        cursor.execute("ALTER TABLE bench_register ADD PRIMARY KEY (n)")
        cursor.execute("ANALYZE bench_register")
        cursor.execute("SELECT count(*) FROM bench_register")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def enumerated_ulns(start: int, count: int) -> list[str]:
    """``count`` consecutive valid ULNs from the 9-digit stem ``start`` on (a
    stem that takes no check digit skipped, as an enumerator skips it)."""
    from records.uln import uln_check_digit

    ulns: list[str] = []
    stem = start
    while len(ulns) < count:
        digit = uln_check_digit(str(stem))
        if digit is not None:
            ulns.append(f"{stem}{digit}")
        stem += 1
    return ulns


def misuse_rows(
    day: date, users: list[tuple[int, int]], rng: random.Random
) -> list[tuple[Any, ...]]:
    """The day's planted misuse as log rows (viewed_at, user, organisation,
    action, outcome, match count, ULN): MISUSERS of ``users`` (user, organisation)
    who enumerate ULNs, as many who search at night and as many who search far
    more than a member does, all different."""
    from records.uln import uln_check_digit

    def uln() -> str:
        while True:
            stem = rng.randrange(100_000_000, 1_000_000_000)
            digit = uln_check_digit(str(stem))
            if digit is not None:
                return f"{stem}{digit}"

    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    chosen = rng.sample(users, 3 * MISUSERS)
    rows: list[tuple[Any, ...]] = []
    for user, organisation in chosen[:MISUSERS]:
        first = rng.randrange(100_000_000, 999_000_000)
        for n, searched in enumerate(enumerated_ulns(first, ENUMERATED)):
            at = midnight + timedelta(hours=10, seconds=30 * n)
            rows.append((at, user, organisation, "search_uln", "no_match", 0, searched))
    for user, organisation in chosen[MISUSERS : 2 * MISUSERS]:
        for n in range(NIGHT_LOOKUPS):
            at = midnight + timedelta(hours=2, seconds=60 * n)
            rows.append((at, user, organisation, "search_uln", "no_match", 0, uln()))
    for user, organisation in chosen[2 * MISUSERS :]:
        for n in range(EXTRA_SEARCHES):
            at = midnight + timedelta(hours=9, seconds=90 * n)
            rows.append((at, user, organisation, "search_uln", "no_match", 0, uln()))
    return rows


def _log_insert(
    args: argparse.Namespace, users: list[int], heavy: set[int], learners: int
) -> None:
    """--log-rows rows over the --log-days days up to today (_LOG_SQL) by
    ``users`` (weighted), the planted misuse on each day by members not of the
    heavy organisation (``heavy``: its users), the log's indexes rebuilt once."""
    from django.db import connection
    from lookups import log_indexes_dropped

    today = datetime.now(UTC).date()
    first = today - timedelta(days=args.log_days - 1)
    params = {
        "first": datetime.combine(first, datetime.min.time(), tzinfo=UTC),
        "days": args.log_days,
        "count": args.log_rows,
        "users": users,
        "user_count": len(users),
        "learners": learners,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, organisation_id FROM registration_membership"
            " WHERE user_id <> ALL(%s) ORDER BY user_id",
            [sorted(heavy)],
        )
        ordinary = [(int(user), int(org)) for user, org in cursor.fetchall()]
    rng = random.Random(f"{args.seed}:misuse")
    planted = 0
    with log_indexes_dropped() as cursor:
        cursor.execute(_LOG_SQL, params)
        with cursor.cursor.copy(
            "COPY records_learnerview (viewed_at, user_id, organisation_id, action,"
            " outcome, match_count, learner_uln, request_id) FROM STDIN"
        ) as copy:
            for n in range(args.log_days):
                for row in misuse_rows(first + timedelta(days=n), ordinary, rng):
                    copy.write_row((*row, ""))
                    planted += 1
    print(f"  of which planted misuse: {planted:,} rows", flush=True)
    connection.cursor().execute("DROP TABLE bench_register")


def _audit_times(day: date, repeats: int = 3) -> tuple[list[float], list[float]]:
    """(a) the bare SQL aggregate of the day and (b) audit_usage of the day
    again (bench/audit_usage.py's), alternately, ``repeats`` times each."""
    from audit_usage import _audit, _bare

    bare, again = [], []
    for _ in range(repeats):
        bare.append(_bare(day))
        again.append(_audit(day))
    return bare, again


def _print_times(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(
        f"  {label}: median {median * 1000:,.0f} ms"
        f" ({', '.join(f'{t * 1000:,.0f}' for t in times)} ms;"
        f" load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return median


def _log_rows(day: date) -> tuple[int, int]:
    """The day's log rows, and the whole log's."""
    from records.models import LearnerView

    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    rows = LearnerView.objects.filter(
        viewed_at__gte=start, viewed_at__lt=start + timedelta(days=1)
    ).count()
    return rows, LearnerView.objects.count()


def _audit_measure(folder: Path, log_days: int) -> None:
    """The nightly audit of yesterday in the whole log: first the days before
    it, as the nightly runs would have audited them (the baselines; and the
    usage page's past days, which come from their UsageDay rows), untimed but
    for their total; then yesterday's first audit, then (a) and (b)."""
    from django.core.management import call_command

    from records.models import AuditedDay

    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    first = today - timedelta(days=log_days - 1)
    print("\nThe nightly audit:")
    done = set(AuditedDay.objects.values_list("day", flat=True))
    due = [
        first + timedelta(days=n)
        for n in range((yesterday - first).days)
        if first + timedelta(days=n) not in done
    ]
    started = time.perf_counter()
    for day in due:
        call_command("audit_usage", date=f"{day:%Y-%m-%d}", stdout=_null())
    if due:
        _timed(f"  audit the {len(due)} days before yesterday (untimed each)", started)
    day_rows, table_rows = _log_rows(yesterday)
    print(f"  {day_rows:,} log rows yesterday, {table_rows:,} in the log")
    figures: dict[str, Any] = {"day_rows": day_rows, "table_rows": table_rows}
    if yesterday in done:
        print("  yesterday is audited already: its first audit is the first measure's")
    else:
        out = _null()
        figures["first_s"] = _once(
            "audit_usage --date yesterday, its first audit (the nightly case)",
            lambda: call_command(
                "audit_usage", date=f"{yesterday:%Y-%m-%d}", stdout=out
            ),
            repeats=1,
        )
        print(f"    {out.getvalue().strip()}")
    bare, again = _audit_times(yesterday)
    figures["bare_s"], figures["again_s"] = bare, again
    figures["load"] = os.getloadavg()[0]
    a = _print_times("(a) the bare SQL aggregate of the day", bare)
    b = _print_times("(b) audit_usage of the day again", again)
    print(f"  (b)/(a): {b / a:.2f}x (target within 2x)")
    (folder / "audit.json").write_text(json.dumps(figures, indent=2))


def _audit_small(folder: Path) -> None:
    """Yesterday's audit again with the log cut to yesterday's rows alone (the
    other days' rows deleted, the partitions rewritten): against the figures
    _audit_measure wrote, the audit of the same day in a small table."""
    from django.db import connection

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    start = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC)
    print("\nThe same day's audit in a log of that day alone:")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "DELETE FROM records_learnerview WHERE viewed_at < %s OR viewed_at >= %s",
            [start, start + timedelta(days=1)],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("VACUUM (FULL, ANALYZE) records_learnerview")
    _timed("  delete the other days' rows, VACUUM FULL", began)
    day_rows, table_rows = _log_rows(yesterday)
    print(f"  {day_rows:,} log rows yesterday, {table_rows:,} in the log")
    bare, again = _audit_times(yesterday)
    a = _print_times("(a) the bare SQL aggregate of the day", bare)
    b = _print_times("(b) audit_usage of the day again", again)
    print(f"  (b)/(a): {b / a:.2f}x")
    big_path = folder / "audit.json"
    if big_path.exists():
        big = json.loads(big_path.read_text())
        big_b = statistics.median(big["again_s"])
        big_a = statistics.median(big["bare_s"])
        print(
            f"  in the {big['table_rows']:,}-row log (load {big['load']:.1f}):"
            f" (a) {big_a * 1000:,.0f} ms, (b) {big_b * 1000:,.0f} ms;"
            f" big / small: audit {big_b / b:.2f}x, bare aggregate {big_a / a:.2f}x"
            " (target: no slower, 1.0x or less)"
        )


def _learner_searched(uln: str, days: int) -> None:
    """300 record views of one learner by 300 members over the log's days."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SET session_replication_role = replica;"
            "INSERT INTO records_learnerview (viewed_at, user_id, organisation_id,"
            " action, outcome, match_count, learner_uln, request_id)"
            " SELECT now() - interval '1 day' * (g %% %s), m.user_id,"
            " m.organisation_id, 'view_record', 'shown', 1, %s, ''"
            " FROM generate_series(1, 300) g"
            " JOIN LATERAL (SELECT user_id, organisation_id FROM"
            " registration_membership ORDER BY id OFFSET g LIMIT 1) m ON true;"
            "SET session_replication_role = DEFAULT",
            [days - 1, uln],
        )


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.status_code


def _null() -> Any:
    import io

    return io.StringIO()


def main() -> None:
    args = _arguments()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("Set DATABASE_URL=postgres://… (this benchmark needs PostgreSQL).")
    scratch, name = scratch_url(url, args.database, needs="bench/scale.py")
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if args.phase == "drop":
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}")
            return
        if args.phase == "load":
            if exists:
                sys.exit(f"{name} exists: --phase drop first, or --phase measure.")
            admin.execute(f'CREATE DATABASE "{name}"')
        elif not exists:
            sys.exit(f"No database {name}: run --phase load first.")
    args.folder.mkdir(parents=True, exist_ok=True)
    _django(scratch)
    if args.phase == "load":
        _load(args)
    else:
        _measure_all(args)


if __name__ == "__main__":
    main()
