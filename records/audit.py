"""The nightly usage audit (issue 5; architecture.md rules 4, 5 and 7).

For each UTC day it counts, from the learner view log, every user's searches,
record views, detail searches that found nobody, lookups outside working hours
and the longest run of consecutive ULNs searched; it keeps those counts as
``UsageDay`` rows; it applies the ``AuditRule`` table; each hit becomes one
``UsageAlert`` (unique per subject, day and rule), and the hits of rules marked
as suspending open one ``Suspension`` per subject and day.

Each day is audited in one transaction: a run that fails half way leaves every
finished day finished and nothing of the failed day, and the next run carries
on from the first day not finished. Running a day again finds the same hits,
whose alerts and suspensions already exist, and so adds nothing; a suspension a
caseworker reinstated is never opened again for that day, and its day is left
out of the subject's later baselines.
"""

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.functions import Cast, Mod, Substr
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User, system_user
from records.models import AuditedDay, AuditRule, LearnerView, UsageAlert, UsageDay
from records.purpose import (
    DEFAULT_PURPOSE_RULES,
    DEFAULT_USER_PURPOSE_RULES,
    purpose_days_fill,
    purpose_days_write,
    purpose_hits,
)
from registration.models import Organisation, Suspension
from registration.services import suspension_open

logger = logging.getLogger(__name__)

JOB = "audit_usage"
Code = AuditRule.Code
A = LearnerView.Action
O = LearnerView.Outcome  # noqa: E741
_SEARCHES = (A.SEARCH_ULN, A.SEARCH_DEMOGRAPHICS)
TWO_PLACES = Decimal("0.01")
# Settings for the audit's transaction only (and the benchmark's bare aggregate):
# a day's sorts and hash aggregates fit in memory rather than spill to disk, and
# the counts are not compiled (JIT costs more than it saves on one pass of a day).
AUDIT_SESSION = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")

# The longest run of consecutive ULN stems (the nine digits before the check
# digit) each user searched for on one day. A gap of 2 still continues a run:
# one stem in eleven has no valid check digit, so an enumeration skips it. The
# same ULN searched twice neither breaks a run nor lengthens it. One sort; the
# windows share its order, so runs are measured row by row, never grouped.
_ULN_RUNS_SQL = """
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


# Each rule's defaults: threshold, minimum volume, whether a hit suspends, and
# what it means. Caseworkers tune them in admin; audit_rules_ensure only adds a
# rule that is missing, never overwrites one.
DEFAULT_RULES: tuple[tuple[str, Decimal, int, bool, str], ...] = (
    (
        "org_volume",
        Decimal("3"),
        20,
        True,
        "The organisation's searches in a day are above this multiple of its "
        "expected daily volume (declared learners a year over 200 working days), "
        "and above the minimum volume.",
    ),
    (
        "user_volume",
        Decimal("150"),
        0,
        True,
        "One user made more than this many searches in a day.",
    ),
    (
        "user_spike",
        Decimal("5"),
        50,
        False,
        "One user's searches are above this multiple of their own usual daily "
        "searches (the mean of their active days over the previous 28 days, "
        "false positives left out).",
    ),
    (
        "no_match_rate",
        Decimal("0.5"),
        20,
        False,
        "More than this share (0 to 1) of a user's searches by details found "
        "nobody: a sign of fishing for people who are not the organisation's "
        "students. Applies from the minimum volume of such searches.",
    ),
    (
        "consecutive_ulns",
        Decimal("20"),
        0,
        True,
        "A user searched a run of at least this many consecutive ULNs in a day: "
        "a sign of enumerating the register.",
    ),
    (
        "night_time",
        Decimal("30"),
        0,
        False,
        "A user made more than this many lookups outside working hours "
        "(AUDIT_WORKING_HOURS_START to AUDIT_WORKING_HOURS_END, UK time).",
    ),
    *DEFAULT_PURPOSE_RULES,
    *DEFAULT_USER_PURPOSE_RULES,
)


def audit_rules_ensure(**_: Any) -> None:
    """Create any missing audit rule with its defaults (after every migrate, and
    before every audit run): one query when none is missing."""
    present = set(AuditRule.objects.values_list("code", flat=True))
    for code, threshold, minimum, suspends, description in DEFAULT_RULES:
        if code in present:
            continue
        AuditRule.objects.get_or_create(
            code=code,
            defaults={
                "threshold": threshold,
                "minimum_volume": minimum,
                "suspends": suspends,
                "description": description,
            },
        )


@dataclass(frozen=True)
class Hit:
    """One rule's hit: a user's (user_id set) or an organisation's."""

    rule: AuditRule
    organisation_id: int
    user_id: int | None
    value: Decimal
    threshold: Decimal
    details: str

    @property
    def subject_type(self) -> str:
        if self.user_id is None:
            return UsageAlert.Subject.ORGANISATION
        return UsageAlert.Subject.USER

    @property
    def subject_id(self) -> int:
        return self.organisation_id if self.user_id is None else self.user_id

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.code,
            "label": self.rule.get_code_display(),
            "value": str(self.value),
            "threshold": str(self.threshold),
            "details": self.details,
        }


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


# COUNT(1) rather than COUNT(id): the same number (a row always has an id)
# without reading and testing the id of every row.
_ONE = Value(1)


def _counts_query(start: datetime, end: datetime) -> tuple[str, tuple[Any, ...]]:
    """The day's counts per user as SQL (the ORM writes it for either database,
    with the local-time hour that decides night-time): the counts of DayCounts,
    then the ULN searches packed in their buckets (see STEM_BLOCK)."""
    working_start, working_end = settings.AUDIT_WORKING_HOURS
    counted = ~Q(outcome=O.REFUSED)
    # A search that found one learner, logged before searches were stamped
    # with the learner's band and area (records.purpose.learner_stamp: only
    # such a search, an exact match, has a band).
    found = Q(action__in=_SEARCHES, outcome=O.EXACT_MATCH) & ~Q(learner_uln="")
    with timezone.override(ZoneInfo(settings.TIME_ZONE)):  # working hours are local
        night = Q(viewed_at__hour__lt=working_start) | Q(
            viewed_at__hour__gte=working_end
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
                searches=Count(_ONE, filter=counted & Q(action__in=_SEARCHES)),
                views=Count(_ONE, filter=counted & Q(action=A.VIEW_RECORD)),
                detail_searches=Count(
                    _ONE, filter=counted & Q(action=A.SEARCH_DEMOGRAPHICS)
                ),
                detail_no_matches=Count(
                    _ONE,
                    filter=Q(action=A.SEARCH_DEMOGRAPHICS, outcome=O.NO_MATCH),
                ),
                night_lookups=Count(_ONE, filter=counted & night),
                refused=Count(_ONE, filter=Q(outcome=O.REFUSED)),
                refused_views=Count(
                    _ONE, filter=Q(action=A.VIEW_RECORD, outcome=O.REFUSED)
                ),
                uln_buckets=_uln_buckets(),
                found=Count("learner_age_band"),
                unstamped=Count(_ONE, filter=found & Q(learner_age_band=None)),
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
# least T over that many of the searches (_run_floor). A counter can only wrap
# when the user made 256 or more ULN searches, so a user who might have (their
# searches by ULN plus their refused lookups) is measured anyway; so the pass
# never misses a run. Seven buckets keep every value below 2**56: PostgreSQL
# sums bigints exactly, and SQLite only fails past 32,768 ULN searches by one
# user in a day.
STEM_BLOCK = 100
BLOCK_BUCKETS = 7
_COUNTER_BITS = 8
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1


def _uln_buckets() -> Sum:
    """The day's ULN searches (with a ULN) per user, packed in their buckets."""
    uln_search = Q(action=A.SEARCH_ULN) & ~Q(learner_uln="")
    block = Cast(Substr("learner_uln", 1, 7), IntegerField())  # stem // 100
    counter = CombinedExpression(
        Cast(Value(1), BigIntegerField()),
        Combinable.BITLEFTSHIFT,
        Mod(block, BLOCK_BUCKETS) * _COUNTER_BITS,
    )
    return Sum(counter, filter=uln_search, output_field=BigIntegerField())


def _run_floor(threshold: int) -> int:
    """Searches one block of stems must hold for a run of threshold to be possible."""
    threshold = max(threshold, 1)
    blocks = (2 * (threshold - 1)) // STEM_BLOCK + 2
    return -(-threshold // blocks)


def _could_run(most: int, packed: int, floor: int) -> bool:
    """Whether a user with at most this many ULN searches, packed in these
    buckets, could have a run whose run floor is floor (never False for one who
    has)."""
    if most > _COUNTER_MAX:
        return True
    return max(packed.to_bytes(BLOCK_BUCKETS, "little")) >= floor  # 8-bit counters


def _uln_runs(
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
    floor = _run_floor(int(rule.threshold))
    candidates = sorted(
        user_id
        for user_id, (ulns, packed) in summaries.items()
        if _could_run(ulns, packed, floor)
    )
    table = connection.ops.quote_name(LearnerView._meta.db_table)
    runs: dict[int, int] = {}
    with connection.cursor() as cursor:
        for first in range(0, len(candidates), 500):
            some = candidates[first : first + 500]
            placeholders = ", ".join(["%s"] * len(some))
            sql = _ULN_RUNS_SQL.format(
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
    start, end = _day_bounds(day)
    counts_sql, counts_params = _counts_query(start, end)
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
        runs = _uln_runs(start, end, summaries)
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


def _excluded_days(day: date) -> tuple[set[tuple[int, date]], set[tuple[int, date]]]:
    """(user, day) and (organisation, day) pairs a caseworker found were false
    positives: left out of baselines."""
    since = day - timedelta(days=settings.AUDIT_BASELINE_DAYS)
    reinstated = Suspension.objects.filter(
        status=Suspension.Status.REINSTATED,
        source=Suspension.Source.USAGE_AUDIT,
        day__gte=since,
        day__lt=day,
    ).values_list("subject_type", "user_id", "organisation_id", "day")
    users: set[tuple[int, date]] = set()
    organisations: set[tuple[int, date]] = set()
    for subject_type, user_id, organisation_id, when in reinstated:
        if subject_type == Suspension.Subject.USER:
            users.add((user_id, when))
        else:
            organisations.add((organisation_id, when))
    return users, organisations


def _baselines(
    day: date, rule: AuditRule, counted: list[DayCounts]
) -> dict[int, Decimal]:
    """The mean searches a day, over the days they were active in the baseline
    window (false positives left out, with enough such days), of each user the
    spike rule could hit on the day.

    A user with n searches hits when n > t * max(total / days, 1), that is when
    100 n * days > 100 t * max(total, days) (the threshold has two decimal
    places): whole numbers. For n above t that grows with days, so counting a
    user's rows in the window, which can only outnumber their days (a user who
    moved organisation has two rows on a day), finds every user who could hit,
    with one single-level aggregate of the window. Only those users' days are
    then counted exactly, and a mean made for the users who do hit."""
    most: dict[int, int] = {}
    for row in counted:
        if row.searches >= rule.minimum_volume and row.searches > rule.threshold:
            most[row.user_id] = max(row.searches, most.get(row.user_id, 0))
    if not most:
        return {}
    hundredths = int(rule.threshold * 100)

    def above(user_id: int, total: int, days: int) -> bool:
        return 100 * most[user_id] * days > hundredths * max(total, days)

    window = _baseline_window(day)
    minimum = settings.AUDIT_BASELINE_MINIMUM_DAYS
    rows = (
        window.order_by()
        .values("user_id")
        .annotate(total=Sum("searches"), rows=Count(_ONE))
        .filter(rows__gte=minimum)
        .values_list("user_id", "total", "rows")
    )
    could = [
        user_id
        for user_id, total, count in rows
        if user_id in most and above(user_id, int(total), count)
    ]
    if not could:
        return {}
    per_day = (
        window.filter(user_id__in=could)
        .order_by()
        .values("user_id", "day")
        .annotate(total=Sum("searches"))
    )
    totals: dict[int, int] = defaultdict(int)
    days: dict[int, int] = defaultdict(int)
    for user_id, total in per_day.values_list("user_id", "total"):
        totals[user_id] += int(total)
        days[user_id] += 1
    return {
        user_id: Decimal(totals[user_id]) / days[user_id]
        for user_id in could
        if days[user_id] >= minimum and above(user_id, totals[user_id], days[user_id])
    }


def _baseline_window(day: date) -> QuerySet[UsageDay]:
    """The UsageDay rows of the baseline window before day, the days a
    caseworker found were false positives left out whole (for every
    organisation the user had that day)."""
    since = day - timedelta(days=settings.AUDIT_BASELINE_DAYS)
    excluded_users, excluded_orgs = _excluded_days(day)
    left_out = Q()
    for user_id, when in excluded_users:
        left_out |= Q(user_id=user_id, day=when)
    for organisation_id, when in excluded_orgs:
        members = UsageDay.objects.filter(organisation_id=organisation_id, day=when)
        left_out |= Q(day=when, user_id__in=members.values("user_id"))
    window = UsageDay.objects.filter(day__gte=since, day__lt=day)
    return window.exclude(left_out) if left_out else window


def _q(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def expected_daily_volume(learners_per_year: int) -> Decimal:
    """Searches a day an organisation's declared learners a year imply."""
    return Decimal(learners_per_year) / Decimal(settings.LOOKUP_WORKING_DAYS)


def hits_find(day: date, counted: list[DayCounts]) -> list[Hit]:
    """Every rule hit for one day's counts (the day's UsageDay rows, written):
    the organisations' hits by organisation, then the users' by organisation,
    user and rule, so runs give the same order.

    The counts are compared as whole numbers: a whole number n is above a
    threshold t exactly when it is above floor(t), and as every threshold has
    two decimal places, a / b > t exactly when 100a > 100t * b; Decimals are made
    only for the hits."""
    rules = {rule.code: rule for rule in AuditRule.objects.filter(enabled=True)}
    hits: list[Hit] = []
    org_volume = rules.get(Code.ORG_VOLUME)
    if org_volume is not None:
        hits += _organisation_hits(day, counted, org_volume)
    spike = rules.get(Code.USER_SPIKE)
    baselines = _baselines(day, spike, counted) if spike is not None else {}
    volume = rules.get(Code.USER_VOLUME)
    no_match = rules.get(Code.NO_MATCH_RATE)
    run = rules.get(Code.CONSECUTIVE_ULNS)
    night = rules.get(Code.NIGHT_TIME)
    # Whole-number limits; a rule switched off has limits no count reaches.
    never = math.inf
    volume_floor = math.floor(volume.threshold) if volume else never
    volume_minimum = volume.minimum_volume if volume else never
    night_floor = math.floor(night.threshold) if night else never
    night_minimum = night.minimum_volume if night else never
    no_match_hundredths = int(no_match.threshold * 100) if no_match else 0
    no_match_minimum = max(no_match.minimum_volume, 1) if no_match else never
    found: list[tuple[tuple[int, int, int], Hit]] = []

    def hit(
        row: DayCounts,
        order: int,
        rule: AuditRule,
        value: Decimal,
        limit: Decimal,
        baseline: Decimal | None = None,
    ) -> None:
        details = _details(rule.code, row, baseline)
        found.append(
            (
                (row.organisation_id, row.user_id, order),
                Hit(
                    rule,
                    row.organisation_id,
                    row.user_id,
                    _q(value),
                    _q(limit),
                    details,
                ),
            )
        )

    for row in counted:
        user_id, _, searches, _, detail, nobody, lookups, _, _, longest = row
        if searches > volume_floor and searches >= volume_minimum and volume:
            hit(row, 0, volume, Decimal(searches), volume.threshold)
        if user_id in baselines and spike and searches >= spike.minimum_volume:
            baseline = baselines[user_id]
            limit = spike.threshold * max(baseline, Decimal(1))
            if searches > limit:
                hit(row, 1, spike, Decimal(searches), limit, baseline)
        if (
            detail >= no_match_minimum
            and nobody * 100 > no_match_hundredths * detail
            and no_match
        ):
            hit(row, 2, no_match, Decimal(nobody) / Decimal(detail), no_match.threshold)
        if (
            longest is not None
            and run
            and searches >= run.minimum_volume
            and longest >= run.threshold
        ):
            hit(row, 3, run, Decimal(longest), run.threshold)
        if lookups > night_floor and lookups >= night_minimum and night:
            hit(row, 4, night, Decimal(lookups), night.threshold)
    found.sort(key=lambda pair: pair[0])
    return hits + [one for _, one in found]


def _details(code: str, row: DayCounts, baseline: Decimal | None) -> str:
    """What a user's hit found, in words (a spike against the user's baseline)."""
    if code == Code.USER_VOLUME:
        return f"{row.searches:,} searches in the day."
    if code == Code.USER_SPIKE:
        usual = _figure(baseline or Decimal(0))
        return f"{row.searches:,} searches against a usual {usual} a day."
    if code == Code.NO_MATCH_RATE:
        return (
            f"{row.detail_no_matches:,} of {row.detail_searches:,} searches by "
            "details found nobody."
        )
    if code == Code.CONSECUTIVE_ULNS:
        return f"A run of {row.longest_uln_run:,} consecutive ULNs searched."
    return f"{row.night_lookups:,} lookups outside working hours."


def _organisation_hits(
    day: date, counted: list[DayCounts], rule: AuditRule
) -> list[Hit]:
    """Organisations whose searches are above the rule's multiple of their
    expected daily volume (and its minimum): searches > threshold * learners /
    working days exactly when 100 * searches * working days > 100 threshold *
    learners."""
    totals: dict[int, int] = defaultdict(int)
    for row in counted:
        totals[row.organisation_id] += row.searches
    active = UsageDay.objects.filter(day=day).values("organisation_id")
    declared = dict(
        Organisation.objects.filter(pk__in=active).values_list(
            "pk", "estimated_learners_per_year"
        )
    )
    hundredths = int(rule.threshold * 100)
    working_days = settings.LOOKUP_WORKING_DAYS
    hits = []
    for organisation_id, searches in sorted(totals.items()):
        learners = declared[organisation_id]
        if searches <= rule.minimum_volume or (
            100 * searches * working_days <= hundredths * learners
        ):
            continue
        expected = expected_daily_volume(learners)
        limit = max(Decimal(rule.minimum_volume), rule.threshold * expected)
        hits.append(
            Hit(
                rule,
                organisation_id,
                None,
                Decimal(searches),
                _q(limit),
                volume_details(searches, learners, rule),
            )
        )
    return hits


def _figure(value: Decimal) -> str:
    """A figure as people write it: 5, 6.17, 1,234 (no trailing zeros)."""
    text = f"{_q(value):,f}".rstrip("0").rstrip(".")
    return text or "0"


def volume_details(searches: int, learners: int, rule: AuditRule) -> str:
    """An organisation volume hit in words that add up: whole counts, and the
    minimum limit named when it, not the multiple, is the limit. A whole number of
    searches is above a limit exactly when it is above the limit's whole part."""
    expected = expected_daily_volume(learners)
    multiple = rule.threshold * expected
    found = f"{searches:,} searches in the day"
    basis = (
        f"{_figure(rule.threshold)} times the {_figure(expected)} searches a day "
        f"expected from {learners:,} learners a year"
    )
    if multiple < rule.minimum_volume:
        return (
            f"{found}, above the minimum limit of {rule.minimum_volume:,} searches "
            f"({basis} is {_figure(multiple)}, less than the minimum)."
        )
    return f"{found}, above the limit of {math.floor(multiple):,} searches ({basis})."


def _alert_key(
    subject_type: str, organisation_id: int, user_id: int | None, rule: str
) -> tuple[str, int | None, str]:
    """What makes an alert unique: a user's is one per user, day and rule (in
    whichever organisation), an organisation's one per organisation."""
    if subject_type == UsageAlert.Subject.USER:
        return (subject_type, user_id, rule)
    return (subject_type, organisation_id, rule)


def _alerts_raise(hits: list[Hit], day: date, acting_user: User) -> int:
    """Raise each hit's alert unless the day already has it; return how many are
    new. One query reads the day's alerts, one writes the new ones and one their
    history (the run holds the job's lock, so nothing else adds audit alerts)."""
    existing = {
        _alert_key(*row)
        for row in UsageAlert.objects.filter(day=day).values_list(
            "subject_type", "organisation_id", "user_id", "rule"
        )
    }
    new = []
    for hit in hits:
        key = _alert_key(
            hit.subject_type, hit.organisation_id, hit.user_id, hit.rule.code
        )
        if key in existing:
            continue
        existing.add(key)
        new.append(
            UsageAlert(
                subject_type=hit.subject_type,
                organisation_id=hit.organisation_id,
                user_id=hit.user_id,
                day=day,
                rule=hit.rule.code,
                value=hit.value,
                threshold=hit.threshold,
                details=hit.details,
            )
        )
    if new:
        bulk_create_with_history(
            new,
            UsageAlert,
            batch_size=500,
            default_user=acting_user,
            default_change_reason="Nightly usage audit",
        )
    return len(new)


def _already_decided(day: date) -> set[tuple[str, int]]:
    """Subjects with a usage-audit case for the day, or any case in force: opening
    another would change nothing, so the audit does not try."""
    cases = Suspension.objects.filter(
        Q(source=Suspension.Source.USAGE_AUDIT, cause="usage", day=day)
        | Q(status__in=[Suspension.Status.OPEN, Suspension.Status.UPHELD])
    ).values_list("subject_type", "user_id", "organisation_id")
    return {
        (subject_type, user_id if subject_type == Suspension.Subject.USER else org_id)
        for subject_type, user_id, org_id in cases
    }


def _suspension_reason(hits: list[Hit]) -> str:
    found = "; ".join(
        f"{hit.rule.get_code_display().lower()}: {hit.details}" for hit in hits
    )
    return f"The nightly check of LRS usage found {found}"


def audit_day(day: date, progress: JobProgress) -> None:
    """Audit one UTC day in one transaction."""
    acting_user = system_user()
    audit_rules_ensure()  # before the ULN runs read their rule
    with transaction.atomic():
        counted, found, unstamped = usage_days_write(day)
        users_counted = len(counted)
        profiles = purpose_days_write(day, counted, found, unstamped)
        history_from = day - timedelta(
            days=settings.AUDIT_BASELINE_DAYS + settings.AUDIT_PURPOSE_WINDOW_DAYS
        )
        filled = purpose_days_fill(history_from, day - timedelta(days=1))
        if filled:
            progress.add("profile_days_filled", filled)
        hits = hits_find(day, counted) + purpose_hits(
            day, profiles.organisations, progress, users=profiles.users
        )
        progress.add("hits", len(hits))
        progress.add("alerts_raised", _alerts_raise(hits, day, acting_user))
        decided = _already_decided(day)
        suspending: dict[tuple[str, int], list[Hit]] = defaultdict(list)
        for hit in hits:
            if hit.rule.suspends and (hit.subject_type, hit.subject_id) not in decided:
                suspending[(hit.subject_type, hit.subject_id)].append(hit)
        # Only the subjects to suspend are read in full.
        first_hits = [subject_hits[0] for subject_hits in suspending.values()]
        organisations = Organisation.objects.in_bulk(
            {hit.organisation_id for hit in first_hits}
        )
        users = User.objects.in_bulk({hit.user_id for hit in first_hits if hit.user_id})
        opened = False
        # Organisations first: a user of a suspended organisation is already out.
        for (subject_type, _), subject_hits in sorted(
            suspending.items(),
            key=lambda item: item[0][0] != UsageAlert.Subject.ORGANISATION,
        ):
            first = subject_hits[0]
            _, created = suspension_open(
                subject_type=subject_type,
                organisation=organisations[first.organisation_id],
                user=users[first.user_id] if first.user_id else None,
                source=Suspension.Source.USAGE_AUDIT,
                cause="usage",
                day=day,
                reason=_suspension_reason(subject_hits),
                rules=[hit.as_json() for hit in subject_hits],
                acting_user=acting_user,
            )
            if created:
                progress.add("suspensions_opened")
                opened = True
        progress.add("days_audited")
        progress.add("users_counted", users_counted)
        AuditedDay.objects.update_or_create(
            day=day, defaults={"audited_at": timezone.now()}
        )
        if not opened and connection.vendor == "postgresql":
            # Only counts and alerts to keep, which a run rebuilds: the commit
            # need not wait for the disk. Should the database server crash in
            # that moment, the day has no AuditedDay row and the next run audits
            # it again. A day that suspends anyone (ending sessions, sending
            # emails) commits durably.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
    progress.day_done(day)


def audit_days_due(*, today: date | None = None) -> tuple[list[date], int]:
    """The days to audit: every day of the last AUDIT_CATCH_UP_DAYS up to
    yesterday (UTC) not audited yet, from the first day ever audited on
    (yesterday alone on the very first run); and how many missed days lie
    before that window, which no run will audit unless asked with --date."""
    yesterday = (today or timezone.now().date()) - timedelta(days=1)
    first_ever = (
        AuditedDay.objects.order_by("day").values_list("day", flat=True).first()
    )
    if first_ever is None:
        return [yesterday], 0
    window = yesterday - timedelta(days=settings.AUDIT_CATCH_UP_DAYS - 1)
    start = max(window, first_ever)
    done = set(
        AuditedDay.objects.filter(day__gte=start, day__lte=yesterday).values_list(
            "day", flat=True
        )
    )
    days = [start + timedelta(days=n) for n in range((yesterday - start).days + 1)]
    beyond = 0
    if first_ever < window:
        audited_before = AuditedDay.objects.filter(day__lt=window).count()
        beyond = (window - first_ever).days - audited_before
    return [day for day in days if day not in done], beyond


def audit_usage(progress: JobProgress, *, day: date | None = None) -> list[date]:
    """Audit one given day, or every day due; return the days audited."""
    if day is not None:
        days = [day]
    else:
        days, beyond = audit_days_due()
        if beyond:
            progress.add("days_missed_beyond_catch_up", beyond)
            logger.warning(
                "audit_days_beyond_catch_up", extra={"days": beyond, "job": JOB}
            )
    for each in days:
        audit_day(each, progress)
    return days


def heaviest_users(*, days: int = 30, limit: int = 10) -> list[dict[str, Any]]:
    """The heaviest users of the last days, by searches (the admin dashboard)."""
    since = timezone.now().date() - timedelta(days=days)
    return list(
        UsageDay.objects.filter(day__gte=since)
        .values("user_id", "user__email", "organisation__legal_name")
        .annotate(total=Sum("searches"), mean=Avg("searches"), active_days=Count("day"))
        .order_by("-total", "user_id")[:limit]
    )
