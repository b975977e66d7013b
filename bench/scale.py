"""Benchmark: the service at national scale (issue 15): 28M learners, 60M log rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/scale.py --phase load
    ... bench/scale.py --phase measure
    ... bench/scale.py --phase drop

Unlike the other benchmarks its database (default ``lrs_bench_scale``) is kept
between phases, because filling it takes most of an hour on two cores:

``load``
    migrates a new database; puts ``--log-rows`` log rows over the last
    ``--log-days`` days in their monthly partitions, written directly (as
    bench/lookups.py does: indexes dropped and rebuilt), by the members of
    ``--organisations`` organisations, one of them (the benchmark's own) heavy:
    2% of all rows; generates ``--learners`` learners and achievements for a
    tenth of them; imports the file's first 1M learners with the real import
    and times ULN and demographic searches (the 1M stage); then times a bare
    COPY of the whole file into a table like the learners', empties the
    learners and imports the whole file with the real import (``learners_import``,
    what ``manage.py import_learners`` runs) and the achievements; prints the
    database's size. Its figures go to ``<folder>/load.json``.
``measure``
    on the full database: ULN and demographic searches against the 1M stage;
    the admin changelists of learners, the log and alerts; the learner access
    report of one much-searched learner across the whole log; the heavy
    organisation's usage page and a month of its log as CSV; the nightly audit
    of yesterday (about ``log-rows / log-days`` rows) and partition maintenance.
``drop``
    drops the database.

Every page is requested through Django's test client in this process (no
server), signed in as the page's user, with the lookups' caps raised out of
reach (the caps count rows; they are measured, not hit).
"""

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from scratch import ROOT, libpq, scratch_url

ONE_STAGE = 1_000_000
PARTS = ("lookups", "report", "heavy", "admin", "audit", "partitions")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("load", "measure", "drop"), required=True)
    parser.add_argument("--database", default="lrs_bench_scale")
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "scale")
    parser.add_argument("--learners", type=int, default=28_000_000)
    parser.add_argument("--log-rows", type=int, default=60_000_000)
    parser.add_argument("--log-days", type=int, default=60)
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--parts",
        type=lambda text: set(text.split(",")),
        default=set(PARTS),
        help=f"what --phase measure measures (default all: {','.join(PARTS)})",
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


def _members(args: argparse.Namespace) -> tuple[Any, list[int]]:
    """The benchmark's member (in the heavy organisation) and the weighted list
    of users whose searches fill the log: the heavy organisation's three
    members repeated so that they write 2% of the rows."""
    from lookups import _members as members

    searcher, users = members(args.organisations, 3)
    # The usage page and its log are the organisation's super user's.
    searcher.membership.is_super_user = True
    searcher.membership.save(update_fields=["is_super_user"])
    # Declared volumes above what each organisation searches (about 1,000 a day
    # each, 20,000 for the heavy one; learners a year over working days is the
    # audit's expected day), so that the nightly audit measures a day's work,
    # not a thousand suspensions.
    organisations = type(searcher.membership.organisation).objects
    organisations.update(estimated_learners_per_year=400_000)
    organisations.filter(pk=searcher.membership.organisation_id).update(
        estimated_learners_per_year=8_000_000
    )
    ours = list(
        type(searcher)
        .objects.filter(membership__organisation=searcher.membership.organisation)
        .values_list("pk", flat=True)
    )
    weight = max(1, round(0.02 * len(users) / (0.98 * len(ours))))
    return searcher, users + ours * weight


def _load(args: argparse.Namespace) -> None:
    from admin_changelists import _verified_client
    from django.contrib.auth import get_user_model
    from django.db import connection
    from import_learners import _bare_copy
    from lookups import _analyze, _measure, _views_insert, _web_setup

    from records.loading import achievements_import, learners_import
    from records.pg import partitions_ensure

    figures: dict[str, Any] = {"learners": args.learners, "log_rows": args.log_rows}
    _web_setup(args.seed)
    partitions_ensure(months_ahead=3, months_back=args.log_days // 28 + 1)
    searcher, users = _members(args)
    started = time.perf_counter()
    _views_insert(args.log_rows, users, days=args.log_days)
    figures["log_insert_s"] = _timed(f"insert {args.log_rows:,} log rows", started)
    _working_hours()

    everyone, first, awards = _write_files(args)
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
    from records.models import AuditedDay, Learner, LearnerView, UsageAlert
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
        if not LearnerView.objects.filter(learner_uln=learner.uln).exists():
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
        caseworker = UserFactory.create(is_staff=True, roles=(roles.CASEWORKER,))
        pages = _pages()

        class Rounds:
            requests, warmup = 20, 3

        changelists("caseworker", _verified_client(caseworker), pages, Rounds)

    if "audit" in args.parts:
        print("\nThe nightly audit of yesterday:")
        yesterday = today - timedelta(days=1)
        day_rows = LearnerView.objects.filter(viewed_at__date=yesterday).count()
        print(f"  {day_rows:,} log rows yesterday")
        from audit_usage import BARE_SQL

        start = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC)

        def bare() -> None:
            with connection.cursor() as cursor:
                cursor.execute(BARE_SQL, [start, start + timedelta(days=1)])
                cursor.fetchall()

        bare_s = _once("(a) the bare SQL aggregate of the day", bare)
        # The first audit of a day is the nightly case; a second finds its alerts
        # raised, so the day is audited once per database.
        if AuditedDay.objects.filter(day=yesterday).exists():
            print("  yesterday is audited already: see the first measure's figure")
        else:
            out = _null()
            audit_s = _once(
                "(b) audit_usage --date yesterday, its first audit",
                lambda: call_command(
                    "audit_usage", date=f"{yesterday:%Y-%m-%d}", stdout=out
                ),
                repeats=1,
            )
            print(f"    {out.getvalue().strip()}")
            print(f"    (b)/(a): {audit_s / bare_s:.2f}x")

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
    print("\nSizes:")
    for name, size in _sizes().items():
        print(f"  {name}: {_gb(size)}")
    connection.close()


def _working_hours() -> None:
    """Yesterday's log rows moved into 08:00-18:00 UTC, in the same order.

    The generator spreads rows evenly over the whole day, so every user would
    search at night and the nightly audit would measure 3,000 night-use alerts
    rather than a day's audit. Rewriting rows needs the append-only trigger out
    of the way (session_replication_role, a superuser's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SET session_replication_role = replica;"
            "UPDATE records_learnerview SET viewed_at = date_trunc('day', viewed_at)"
            " + interval '8 hours'"
            " + (viewed_at - date_trunc('day', viewed_at)) * (10.0 / 24)"
            " WHERE viewed_at >= (now() AT TIME ZONE 'UTC')::date - 1"
            " AND viewed_at < (now() AT TIME ZONE 'UTC')::date;"
            "SET session_replication_role = DEFAULT"
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
