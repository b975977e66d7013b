"""Benchmark: the nightly usage audit against the bare SQL aggregate (issue 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/audit_usage.py [--day-rows 1000000]
        [--other-rows 9000000] [--members 10000] [--repeats 3]

Creates a scratch database next to DATABASE_URL's and migrates it, creates
--members provider users, four to an organisation, puts --day-rows LearnerView
rows on one UTC day (the audit day, four days ago; 19 in 20 in working hours,
actions, outcomes and ULNs mixed, so an ordinary user hits no rule) plus 4,000
for ten heavy users who do, and --other-rows on the 56 days before (one
INSERT ... SELECT generate_series each), ANALYZEs,
then times, alternately --repeats times each and taking the median:

(a) the bare SQL aggregate of the audit day: one GROUP BY of that day's rows
    per user and organisation with the same counts the audit takes;
(b) audit_usage for that day: the counts, the consecutive-ULN runs, saving the
    day's UsageDay rows, every rule, and the alerts and suspensions it opens
    (the first timed run opens them; later runs find them and add nothing).

It prints (b)/(a) (target within 1.5x), then doubles the other days' rows and
measures again: a day's audit time should not grow with the table. It drops the
scratch database at the end and refuses SQLite.
"""

import argparse
import secrets
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from scratch import django_on_scratch_database  # bench/ is the script's folder

MEMBERS_PER_ORGANISATION = 4
# Ten users far above the user volume rule on the audit day (about 270 searches
# each), so the audit also raises alerts and opens suspensions.
HEAVY_USERS = 10
HEAVY_ROWS = 4_000

BARE_SQL = """
SELECT user_id, organisation_id,
  COUNT(*) FILTER (WHERE outcome <> 'refused'
    AND action IN ('search_uln', 'search_demographics')),
  COUNT(*) FILTER (WHERE outcome <> 'refused' AND action = 'view_record'),
  COUNT(*) FILTER (WHERE outcome <> 'refused' AND action = 'search_demographics'),
  COUNT(*) FILTER (WHERE action = 'search_demographics' AND outcome = 'no_match'),
  COUNT(*) FILTER (WHERE outcome <> 'refused' AND (
    EXTRACT(HOUR FROM viewed_at AT TIME ZONE 'Europe/London') < 7
    OR EXTRACT(HOUR FROM viewed_at AT TIME ZONE 'Europe/London') >= 20)),
  COUNT(*) FILTER (WHERE outcome = 'refused')
FROM records_learnerview
WHERE viewed_at >= %s AND viewed_at < %s
GROUP BY user_id, organisation_id
"""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day-rows", type=int, default=1_000_000)
    parser.add_argument("--other-rows", type=int, default=9_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="After the first measurement, print the plans of the audit's queries.",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="After the first measurement, profile one more audit run (cProfile).",
    )
    return parser.parse_args()


def _members(count: int) -> list[tuple[int, int]]:
    """count provider users, four to an organisation, written in bulk (no
    passwords or object permissions: the audit needs neither)."""
    from django.contrib.auth.hashers import make_password

    from lrs_portal.models import User
    from registration.models import Membership, Organisation

    organisations = Organisation.objects.bulk_create(
        Organisation(
            ukprn=f"{10_000_000 + n}",
            legal_name=f"BENCH PROVIDER {n} LIMITED",
            companies_house_number=f"{n:08d}",
            ico_number=f"Z{n:07d}",
            registered_address="1 Bench Road",
            website=f"https://provider{n}.example.com",
            # 20,000 a year: 100 a working day, a volume limit of 300.
            estimated_learners_per_year=20_000,
            purpose="own_students",
        )
        for n in range(
            (count + MEMBERS_PER_ORGANISATION - 1) // MEMBERS_PER_ORGANISATION
        )
    )
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"user{n}@bench.example.com", full_name=f"User {n}", password=unusable
        )
        for n in range(count)
    )
    Membership.objects.bulk_create(
        Membership(
            user=user,
            organisation=organisations[n // MEMBERS_PER_ORGANISATION],
            is_super_user=n % MEMBERS_PER_ORGANISATION == 0,
        )
        for n, user in enumerate(users)
    )
    return [
        (user.pk, organisations[n // MEMBERS_PER_ORGANISATION].pk)
        for n, user in enumerate(users)
    ]


def _insert(
    count: int, pairs: list[tuple[int, int]], start: datetime, days: float
) -> None:
    """count rows from start over days, spread across the members; actions and
    outcomes mixed; ULNs scattered (no long runs)."""
    from django.db import connection

    users = [user for user, _ in pairs]
    organisations = [organisation for _, organisation in pairs]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_learnerview (viewed_at, user_id, organisation_id,"
            " action, outcome, match_count, learner_uln, request_id)"
            " SELECT %s::timestamptz + floor(random() * %s) * interval '1 day'"
            # 19 in 20 between 07:00 and 19:59 UTC (working hours in winter)
            " + CASE WHEN g %% 20 = 0 THEN random() * interval '24 hours'"
            " ELSE interval '7 hours' + random() * interval '13 hours' END,"
            " (%s::bigint[])[1 + g %% %s], (%s::bigint[])[1 + g %% %s],"
            " (ARRAY['search_uln', 'search_demographics', 'view_record'])[1 + g %% 3],"
            " (ARRAY['exact_match', 'no_match', 'possible_matches', 'shown',"
            "  'exact_match', 'refused', 'exact_match'])[1 + (g / 3) %% 7],"
            " 1, (1000000000 + (g::bigint * 7919) %% 899999999)::text, ''"
            " FROM generate_series(1, %s) AS g",
            [start, days, users, len(pairs), organisations, len(pairs), count],
        )
        cursor.execute("ANALYZE records_learnerview")


def _bare(day: date) -> float:
    from django.db import connection

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL, [start, start + timedelta(days=1)])
        rows = cursor.fetchall()
    assert rows, "the audit day has no rows"
    return time.perf_counter() - began


def _audit(day: date) -> float:
    from records.jobs import audit_usage_run

    began = time.perf_counter()
    run = audit_usage_run(day=day)
    took = time.perf_counter() - began
    assert run is not None
    assert run.counts.get("days_audited") == 1, run.counts
    return took


def _measure(label: str, day: date, repeats: int) -> tuple[float, float]:
    bare, audit = [], []
    for _ in range(repeats):
        bare.append(_bare(day))
        audit.append(_audit(day))
    a, b = statistics.median(bare), statistics.median(audit)
    print(f"\n{label}")
    print(
        f"  (a) bare SQL aggregate of the day: median {a * 1000:8.1f} ms  {_all(bare)}"
    )
    print(
        f"  (b) audit_usage for the day:      median {b * 1000:8.1f} ms  {_all(audit)}"
    )
    verdict = "met" if b / a <= 1.5 else "NOT met"
    print(f"  (b)/(a): {b / a:.2f}x (target <= 1.5x: {verdict})", flush=True)
    return a, b


def _explain(day: date) -> None:
    from django.db import connection, transaction

    from records import audit
    from records.models import LearnerView

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    counts_sql, counts_params = audit._counts_query(start, end)
    runs_sql = audit._ULN_RUNS_SQL.format(table="records_learnerview")
    for label, sql, params in (
        ("the counts", counts_sql, counts_params),
        ("the ULN runs", runs_sql, (start, end, LearnerView.Action.SEARCH_ULN)),
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")  # as the audit does
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\nEXPLAIN ANALYZE of {label}:\n{plan}")


def _all(values: list[float]) -> str:
    return "[" + ", ".join(f"{v * 1000:.0f}" for v in values) + " ms]"


def _run(arguments: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from records.models import UsageAlert, UsageDay
    from records.pg import partitions_ensure

    call_command("migrate", verbosity=0, interactive=False)
    partitions_ensure(months_ahead=1, months_back=3)
    began = time.perf_counter()
    pairs = _members(arguments.members)
    print(
        f"{arguments.members} members: {time.perf_counter() - began:.1f} s", flush=True
    )
    today = datetime.now(UTC).date()
    day = today - timedelta(days=4)
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    began = time.perf_counter()
    _insert(arguments.day_rows, pairs, day_start, 1)
    _insert(HEAVY_ROWS, pairs[:HEAVY_USERS], day_start, 1)
    took = time.perf_counter() - began
    print(f"insert {arguments.day_rows:,} rows on {day}: {took:.1f} s")
    first = day_start - timedelta(days=56)  # eight weeks before the day
    began = time.perf_counter()
    _insert(arguments.other_rows, pairs, first, 56)
    took = time.perf_counter() - began
    print(f"insert {arguments.other_rows:,} rows on other days: {took:.1f} s")
    total = arguments.day_rows + arguments.other_rows
    small = _measure(
        f"{arguments.day_rows:,} rows on the day, {total:,} in the table",
        day,
        arguments.repeats,
    )
    print(
        f"  the audit found {UsageDay.objects.filter(day=day).count()} users, raised "
        f"{UsageAlert.objects.filter(day=day).count()} alerts"
    )
    if arguments.explain:
        _explain(day)
    if arguments.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(_audit, day)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    began = time.perf_counter()
    _insert(arguments.other_rows, pairs, first - timedelta(days=56), 56)
    took = time.perf_counter() - began
    print(f"\ninsert {arguments.other_rows:,} more rows on earlier days: {took:.1f} s")
    total += arguments.other_rows
    large = _measure(
        f"{arguments.day_rows:,} rows on the day, {total:,} in the table",
        day,
        arguments.repeats,
    )
    print(
        f"\naudit of the day: {small[1] * 1000:.1f} ms with the smaller table, "
        f"{large[1] * 1000:.1f} ms with twice the other rows "
        f"({large[1] / small[1]:.2f}x)"
    )
    connection.close()


def main() -> None:
    arguments = _arguments()
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    with django_on_scratch_database(
        kind="audit",
        needs="bench/audit_usage.py measures the audit on PostgreSQL",
        env=env,
    ):
        _run(arguments)


if __name__ == "__main__":
    main()
