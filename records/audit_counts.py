"""The nightly audit's counts (issue 5; issue 13's one scan): one aggregate of a
day's log rows per user and organisation, and per the age band and postcode
area its searches found; the first pass and exact measure of the longest
consecutive-ULN runs; and the day's UsageDay rows, written in one statement,
and the heaviest users over the last days read back from them (the admin
dashboard). records.audit_rules judges what usage_days_write returns.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Avg, BigIntegerField, Count, F, IntegerField, Q, Sum, Value
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.functions import Cast, Mod, Substr
from django.utils import timezone

from records.models import AuditRule, LearnerView, UsageDay

Code = AuditRule.Code
A = LearnerView.Action
O = LearnerView.Outcome  # noqa: E741
SEARCHES = (A.SEARCH_ULN, A.SEARCH_DEMOGRAPHICS)
# Settings for the audit's transaction only (and the benchmark's bare aggregate):
# a day's sorts and hash aggregates fit in memory rather than spill to disk, and
# the counts are not compiled (JIT costs more than it saves on one pass of a day).
AUDIT_SESSION = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")

# The longest run of consecutive ULN stems (the nine digits before the check
# digit) each user searched for on one day. A gap of 2 still continues a run:
# one stem in eleven has no valid check digit, so an enumeration skips it. The
# same ULN searched twice neither breaks a run nor lengthens it. One sort; the
# windows share its order, so runs are measured row by row, never grouped.
ULN_RUNS_SQL = """
SELECT user_id, MAX(idx - start + 1) AS run FROM (
  SELECT user_id, idx, MAX(CASE WHEN brk = 1 THEN idx END) OVER (
    PARTITION BY user_id ORDER BY stem ROWS UNBOUNDED PRECEDING) AS start
  FROM (
    SELECT user_id, stem, brk, SUM(1 - dup) OVER (
      PARTITION BY user_id ORDER BY stem ROWS UNBOUNDED PRECEDING) AS idx
    FROM (
      SELECT user_id, stem,
        CASE WHEN stem - LAG(stem) OVER w <= 2 THEN 0 ELSE 1 END AS brk,
        CASE WHEN stem = LAG(stem) OVER w THEN 1 ELSE 0 END AS dup
      FROM (
        SELECT user_id, CAST(SUBSTR(learner_uln, 1, 9) AS BIGINT) AS stem
        FROM {table}
        WHERE viewed_at >= %s AND viewed_at < %s
          AND action = %s AND learner_uln <> '' {users}
      ) AS stems
      WINDOW w AS (PARTITION BY user_id ORDER BY stem)
    ) AS breaks
  ) AS numbered
) AS runs GROUP BY user_id
"""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


# COUNT(1) rather than COUNT(id): the same number (a row always has an id)
# without reading and testing the id of every row.
ONE = Value(1)


def working_spans(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The spans of local working hours (settings.AUDIT_WORKING_HOURS, in
    settings.TIME_ZONE) that overlap [start, end), as UTC instants: a lookup
    at an instant in none of them was made at night. Each local day's hours
    are the instants from its start hour to its end hour; where the clocks
    change (in the early hours, outside working hours in the UK) the hours
    either side are counted by the clock, as the local hour of each row was."""
    zone = ZoneInfo(settings.TIME_ZONE)
    working_start, working_end = settings.AUDIT_WORKING_HOURS
    spans: list[tuple[datetime, datetime]] = []
    local = start.astimezone(zone).date() - timedelta(days=1)
    while True:
        midnight = datetime.combine(local, time.min, tzinfo=zone)
        first = (midnight + timedelta(hours=working_start)).astimezone(UTC)
        last = (midnight + timedelta(hours=working_end)).astimezone(UTC)
        if first >= end:
            return spans
        if last > start:
            spans.append((max(first, start), min(last, end)))
        local += timedelta(days=1)


def counts_query(start: datetime, end: datetime) -> tuple[str, tuple[Any, ...]]:
    """The day's counts per user as SQL (the ORM writes it for either database):
    the counts of DayCounts, then the ULN searches packed in their buckets (see
    STEM_BLOCK)."""
    counted = ~Q(outcome=O.REFUSED)
    # A search that found one learner, logged before searches were stamped
    # with the learner's band and area (records.purpose_profile.learner_stamp: only
    # such a search, an exact match, has a band).
    found = Q(action__in=SEARCHES, outcome=O.EXACT_MATCH) & ~Q(learner_uln="")
    # Night-time is outside the local working hours, tested as instants: the
    # hour of each row's local time would be a time-zone conversion a row, a
    # quarter of this statement (bench/RESULTS.md, issue 13).
    night = ~reduce(
        or_,
        (Q(viewed_at__gte=a, viewed_at__lt=b) for a, b in working_spans(start, end)),
        Q(pk__in=[]),
    )
    rows = (
        LearnerView.objects.filter(viewed_at__gte=start, viewed_at__lt=end)
        .order_by()
        # And who the searches found, from the stamped log rows' own
        # columns (null and blank on every other row): the purpose profile
        # (records.purpose) in the same scan, with no join.
        .values(
            "user_id",
            "organisation_id",
            band=F("learner_age_band"),
            area=F("learner_area"),
        )
        .annotate(
            searches=Count(ONE, filter=counted & Q(action__in=SEARCHES)),
            views=Count(ONE, filter=counted & Q(action=A.VIEW_RECORD)),
            detail_searches=Count(
                ONE, filter=counted & Q(action=A.SEARCH_DEMOGRAPHICS)
            ),
            detail_no_matches=Count(
                ONE,
                filter=Q(action=A.SEARCH_DEMOGRAPHICS, outcome=O.NO_MATCH),
            ),
            night_lookups=Count(ONE, filter=counted & night),
            refused=Count(ONE, filter=Q(outcome=O.REFUSED)),
            refused_views=Count(ONE, filter=Q(action=A.VIEW_RECORD, outcome=O.REFUSED)),
            uln_buckets=uln_bucket_counts(),
            found=Count("learner_age_band"),
            unstamped=Count(ONE, filter=found & Q(learner_age_band=None)),
        )
    )
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


# The first pass that finds who could have a long ULN run rides on the counts
# aggregate. Stems fall in blocks of STEM_BLOCK (100: a block is the ULN's first
# seven digits); each user's ULN searches are counted by block, the blocks
# folded into BLOCK_BUCKETS buckets (block mod BLOCK_BUCKETS), each bucket an
# 8-bit counter of one summed integer. A run of T stems, each at most 2 after
# the last, spans at most 2(T - 1) values, so it touches at most
# floor(2(T - 1) / B) + 2 blocks and one of them, and so its bucket, holds at
# least T over that many of the searches (run_floor). A counter can only wrap
# when the user made 256 or more ULN searches, so a user who might have (their
# searches by ULN plus their refused lookups) is measured anyway; so the pass
# never misses a run. Seven buckets keep every value below 2**56: PostgreSQL
# sums bigints exactly, and SQLite only fails past 32,768 ULN searches by one
# user in a day.
STEM_BLOCK = 100
BLOCK_BUCKETS = 7
COUNTER_BITS = 8
_COUNTER_MAX = (1 << COUNTER_BITS) - 1


def uln_bucket_counts() -> Sum:
    """The day's ULN searches (with a ULN) per user, packed in their buckets."""
    uln_search = Q(action=A.SEARCH_ULN) & ~Q(learner_uln="")
    block = Cast(Substr("learner_uln", 1, 7), IntegerField())  # stem // 100
    counter = CombinedExpression(
        Cast(Value(1), BigIntegerField()),
        Combinable.BITLEFTSHIFT,
        Mod(block, BLOCK_BUCKETS) * COUNTER_BITS,
    )
    return Sum(counter, filter=uln_search, output_field=BigIntegerField())


def run_floor(threshold: int) -> int:
    """Searches one block of stems must hold for a run of threshold to be possible."""
    threshold = max(threshold, 1)
    blocks = (2 * (threshold - 1)) // STEM_BLOCK + 2
    return -(-threshold // blocks)


def could_run(most: int, packed: int, floor: int) -> bool:
    """Whether a user with at most this many ULN searches, packed in these
    buckets, could have a run whose run floor is floor (never False for one who
    has)."""
    if most > _COUNTER_MAX:
        return True
    return max(packed.to_bytes(BLOCK_BUCKETS, "little")) >= floor  # 8-bit counters


def uln_runs(
    start: datetime, end: datetime, summaries: dict[int, tuple[int, int]]
) -> dict[int, int]:
    """The longest ULN run of each user who could reach the rule's threshold.

    summaries holds, from the counts aggregate, at most how many ULN searches
    each user made and their packed buckets; only the users who could have a run
    are sorted and measured exactly, through the log's (user, time) index. With
    the rule switched off nothing is measured."""
    rule = AuditRule.objects.filter(code=Code.CONSECUTIVE_ULNS, enabled=True).first()
    if rule is None:
        return {}
    floor = run_floor(int(rule.threshold))
    candidates = sorted(
        user_id
        for user_id, (ulns, packed) in summaries.items()
        if could_run(ulns, packed, floor)
    )
    table = connection.ops.quote_name(LearnerView._meta.db_table)
    runs: dict[int, int] = {}
    with connection.cursor() as cursor:
        for first in range(0, len(candidates), 500):
            some = candidates[first : first + 500]
            placeholders = ", ".join(["%s"] * len(some))
            sql = ULN_RUNS_SQL.format(
                table=table, users=f"AND user_id IN ({placeholders})"
            )
            cursor.execute(sql, [start, end, A.SEARCH_ULN, *some])
            runs.update((user_id, int(run)) for user_id, run in cursor.fetchall())
    return runs


class DayCounts(NamedTuple):
    """One user's counts for one organisation on one day, as written to UsageDay
    (the rules read these, not the rows back from the database); fields in the
    order of the counts query and of the COPY."""

    user_id: int
    organisation_id: int
    searches: int
    views: int
    detail_searches: int
    detail_no_matches: int
    night_lookups: int
    refused: int
    # The organisation's usage page counts refused record views as views; the
    # audit's views leave them out. None on rows of days audited before it
    # was counted (the page counts those days from the log).
    refused_views: int | None
    longest_uln_run: int | None


class DayScan(NamedTuple):
    """What the audit's one scan of a day found: each user's counts (as written
    to UsageDay); the learners their searches found, from the stamped log rows,
    as (user, organisation, age band, postcode area, count); and how many exact
    matches had no stamp (logged before searches were stamped)."""

    counted: list[DayCounts]
    found: list[tuple[int, int, int, str, int]]
    unstamped: int


def usage_days_write(day: date) -> DayScan:
    """Replace the day's UsageDay rows with counts of the log, and return them
    with who the day's searches found.

    The counts are one aggregate of the day's rows (a plain SELECT, so
    PostgreSQL may scan in parallel), grouped by user, organisation and, for the
    searches that found one learner, the learner's age band and area as the
    log row was stamped with them (the purpose profile's input, in the same
    pass; summed back per user here). It also finds who could have a long ULN
    run; only those users' runs are measured; the result, one row per user, is
    written in one statement (PostgreSQL: one COPY; SQLite: one batch). The
    log's rows never come into Python. UsageDay is derived data, not
    history-tracked."""
    start, end = day_bounds(day)
    counts_sql, counts_params = counts_query(start, end)
    quote = connection.ops.quote_name
    counts = DayCounts._fields[2:-1]  # between the ids and the ULN run
    picked = ", ".join(
        f"c.{quote(name)}"
        for name in (*counts, "uln_buckets", "band", "area", "found", "unstamped")
    )
    select = f"SELECT c.user_id, c.organisation_id, {picked} FROM ({counts_sql}) AS c"  # noqa: S608 # nosec B608 (quoted names, bound values)
    names = DayCounts._fields
    columns = ", ".join(quote(name) for name in names)
    table = quote(UsageDay._meta.db_table)
    postgres = connection.vendor == "postgresql"
    UsageDay.objects.filter(day=day).delete()
    with connection.cursor() as cursor:
        if postgres:
            for setting in AUDIT_SESSION:
                cursor.execute(setting)
        cursor.execute(select, counts_params)
        # Summed back per user and organisation: the counts of every (band,
        # area) group of theirs (the packed counters add up as the searches do).
        sums: dict[tuple[int, int], list[int]] = {}
        found: list[tuple[int, int, int, str, int]] = []
        unstamped = 0
        for row in cursor.fetchall():
            user_id, organisation_id = row[0], row[1]
            band, area, learners, not_stamped = row[-4:]
            values = [int(value or 0) for value in row[2:-4]]
            total = sums.get((user_id, organisation_id))
            if total is None:
                sums[(user_id, organisation_id)] = values
            else:
                for index, value in enumerate(values):
                    total[index] += value
            if band is not None and learners:
                found.append((user_id, organisation_id, band, area, learners))
            unstamped += not_stamped
        # At most a user's ULN searches: their searches not by details, and
        # their refused lookups. A user who moved organisation in the day has a
        # row for each, summed (the counters cannot wrap below 256).
        summaries: dict[int, tuple[int, int]] = {}
        for (user_id, _), values in sums.items():
            searches, _, detail, _, _, refused, _, packed = values
            most, buckets = summaries.get(user_id, (0, 0))
            most += searches - detail + refused
            summaries[user_id] = (most, buckets + packed)
        runs = uln_runs(start, end, summaries)
        counted = [
            DayCounts._make((user_id, organisation_id, *values[:-1], runs.get(user_id)))
            for (user_id, organisation_id), values in sums.items()
        ]
        if not counted:
            return DayScan(counted, found, unstamped)
        if postgres:
            with cursor.cursor.copy(
                f"COPY {table} (day, {columns}) FROM STDIN"
            ) as copy:
                for one in counted:
                    copy.write_row((day, *one))
        else:
            cursor.executemany(
                f"INSERT INTO {table} (day, {columns})"  # noqa: S608 # nosec B608 (quoted names, bound values)
                f" VALUES (%s, {', '.join(['%s'] * len(names))})",
                [(day, *one) for one in counted],
            )
    return DayScan(counted, found, unstamped)


def heaviest_users(*, days: int = 30, limit: int = 10) -> list[dict[str, Any]]:
    """The heaviest users of the last days, by searches (the admin dashboard)."""
    since = timezone.now().date() - timedelta(days=days)
    return list(
        UsageDay.objects.filter(day__gte=since)
        .values("user_id", "user__email", "organisation__legal_name")
        .annotate(total=Sum("searches"), mean=Avg("searches"), active_days=Count("day"))
        .order_by("-total", "user_id")[:limit]
    )
