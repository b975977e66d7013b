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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User, system_user
from records.models import AuditedDay, AuditRule, LearnerView, UsageAlert, UsageDay
from registration.models import Organisation, Suspension
from registration.services import suspension_open

logger = logging.getLogger(__name__)

JOB = "audit_usage"
Code = AuditRule.Code
A = LearnerView.Action
O = LearnerView.Outcome  # noqa: E741
_SEARCHES = (A.SEARCH_ULN, A.SEARCH_DEMOGRAPHICS)
TWO_PLACES = Decimal("0.01")

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
)


def audit_rules_ensure(**_: Any) -> None:
    """Create any missing audit rule with its defaults (after every migrate, and
    before every audit run)."""
    for code, threshold, minimum, suspends, description in DEFAULT_RULES:
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
    rule: AuditRule
    subject_type: str
    organisation: Organisation
    user: User | None
    value: Decimal
    threshold: Decimal
    details: str

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


_COUNTS = (
    "searches",
    "views",
    "detail_searches",
    "detail_no_matches",
    "night_lookups",
    "refused",
)


def _counts_query(start: datetime, end: datetime) -> tuple[str, tuple[Any, ...]]:
    """The day's counts per user as SQL (the ORM writes it for either database,
    with the local-time hour that decides night-time)."""
    working_start, working_end = settings.AUDIT_WORKING_HOURS
    counted = ~Q(outcome=O.REFUSED)
    with timezone.override(ZoneInfo(settings.TIME_ZONE)):  # working hours are local
        night = Q(viewed_at__hour__lt=working_start) | Q(
            viewed_at__hour__gte=working_end
        )
        rows = (
            LearnerView.objects.filter(viewed_at__gte=start, viewed_at__lt=end)
            .order_by()
            .values("user_id", "organisation_id")
            .annotate(
                searches=Count("pk", filter=counted & Q(action__in=_SEARCHES)),
                views=Count("pk", filter=counted & Q(action=A.VIEW_RECORD)),
                detail_searches=Count(
                    "pk", filter=counted & Q(action=A.SEARCH_DEMOGRAPHICS)
                ),
                detail_no_matches=Count(
                    "pk",
                    filter=Q(action=A.SEARCH_DEMOGRAPHICS, outcome=O.NO_MATCH),
                ),
                night_lookups=Count("pk", filter=counted & night),
                refused=Count("pk", filter=Q(outcome=O.REFUSED)),
            )
        )
        sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


# ULN stems are grouped in blocks of this many for the cheap first pass that
# finds who could have a long run (see _uln_run_candidates).
STEM_BLOCK = 64

_ULN_CLUSTERS_SQL = """
SELECT DISTINCT user_id FROM (
  SELECT user_id FROM {table}
  WHERE viewed_at >= %s AND viewed_at < %s AND action = %s AND learner_uln <> ''
  GROUP BY user_id, CAST(SUBSTR(learner_uln, 1, 9) AS BIGINT) / {block}
  HAVING COUNT(*) >= %s
) AS dense
"""


def _run_floor(threshold: int) -> int:
    """Searches one block of stems must hold for a run of threshold to be possible.

    A run of T stems, each at most 2 after the last, spans at most 2(T - 1)
    values, so it touches at most floor(2(T - 1) / B) + 2 blocks of B, and one of
    them holds at least T over that many of its stems (and of the searches)."""
    threshold = max(threshold, 1)
    blocks = (2 * (threshold - 1)) // STEM_BLOCK + 2
    return -(-threshold // blocks)


def _uln_runs(start: datetime, end: datetime) -> dict[int, int]:
    """The longest ULN run of each user who could reach the rule's threshold.

    A first pass, one hash aggregate, finds the users with a dense block of ULN
    stems; only their searches are sorted and measured exactly. With the rule
    switched off nothing is measured."""
    rule = AuditRule.objects.filter(code=Code.CONSECUTIVE_ULNS, enabled=True).first()
    if rule is None:
        return {}
    table = connection.ops.quote_name(LearnerView._meta.db_table)
    day: list[Any] = [start, end, A.SEARCH_ULN]
    with connection.cursor() as cursor:
        cursor.execute(
            _ULN_CLUSTERS_SQL.format(table=table, block=STEM_BLOCK),
            [*day, _run_floor(int(rule.threshold))],
        )
        candidates = [user_id for (user_id,) in cursor.fetchall()]
        runs: dict[int, int] = {}
        for first in range(0, len(candidates), 500):
            some = candidates[first : first + 500]
            placeholders = ", ".join(["%s"] * len(some))
            sql = _ULN_RUNS_SQL.format(
                table=table, users=f"AND user_id IN ({placeholders})"
            )
            cursor.execute(sql, [*day, *some])
            runs.update((user_id, int(run)) for user_id, run in cursor.fetchall())
    return runs


@dataclass(frozen=True)
class DayCounts:
    """One user's counts for one organisation on one day, as written to UsageDay
    (the rules read these, not the rows back from the database)."""

    user_id: int
    organisation_id: int
    searches: int
    views: int
    detail_searches: int
    detail_no_matches: int
    night_lookups: int
    refused: int
    longest_uln_run: int | None


def _day_counts(row: tuple[Any, ...], run: int | None) -> DayCounts:
    """A row of the counts query (columns in _COUNTS order) and its ULN run."""
    user_id, organisation_id, searches, views, detail, no_match, night, refused = row
    return DayCounts(
        user_id=user_id,
        organisation_id=organisation_id,
        searches=searches,
        views=views,
        detail_searches=detail,
        detail_no_matches=no_match,
        night_lookups=night,
        refused=refused,
        longest_uln_run=run,
    )


_ARRAY_TYPES = ("bigint", "bigint", *("integer",) * len(_COUNTS), "integer")


def usage_days_write(day: date) -> list[DayCounts]:
    """Replace the day's UsageDay rows with counts of the log, and return them.

    The counts are one aggregate of the day's rows (a plain SELECT, so
    PostgreSQL may scan in parallel); the ULN runs are measured only for the
    users who could reach the rule; the result, one row per user, is written in
    one statement (PostgreSQL: one INSERT from arrays; SQLite: one batch). The
    log's rows never come into Python. UsageDay is derived data, not
    history-tracked."""
    start, end = _day_bounds(day)
    counts_sql, counts_params = _counts_query(start, end)
    quote = connection.ops.quote_name
    picked = ", ".join(f"c.{quote(name)}" for name in _COUNTS)
    select = f"SELECT c.user_id, c.organisation_id, {picked} FROM ({counts_sql}) AS c"  # noqa: S608
    names = ("user_id", "organisation_id", *_COUNTS, "longest_uln_run")
    columns = ", ".join(quote(name) for name in names)
    table = quote(UsageDay._meta.db_table)
    postgres = connection.vendor == "postgresql"
    UsageDay.objects.filter(day=day).delete()
    with connection.cursor() as cursor:
        if postgres:
            # A day's sort and aggregates fit in memory rather than spill to disk;
            # for this transaction only.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(select, counts_params)
        fetched = cursor.fetchall()
        runs = _uln_runs(start, end)
        counted = [_day_counts(row, runs.get(row[0])) for row in fetched]
        if not counted:
            return counted
        tuples = [tuple(getattr(one, name) for name in names) for one in counted]
        if postgres:
            arrays = ", ".join(f"%s::{kind}[]" for kind in _ARRAY_TYPES)
            cursor.execute(
                f"INSERT INTO {table} (day, {columns})"  # noqa: S608
                f" SELECT %s, * FROM unnest({arrays})",
                [day, *(list(column) for column in zip(*tuples, strict=True))],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} (day, {columns})"  # noqa: S608
                f" VALUES (%s, {', '.join(['%s'] * len(names))})",
                [(day, *row) for row in tuples],
            )
    return counted


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


def _baselines(day: date, user_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each user's mean searches a day on the days they were active in the
    baseline window, false positives left out; only users with enough days."""
    since = day - timedelta(days=settings.AUDIT_BASELINE_DAYS)
    excluded_users, excluded_orgs = _excluded_days(day)
    rows = UsageDay.objects.filter(
        user_id__in=list(user_ids), day__gte=since, day__lt=day
    ).values_list("user_id", "organisation_id", "day", "searches")
    # A user who moved organisation has two rows on a day: one day of searches.
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    left_out: set[tuple[int, date]] = set()
    for user_id, organisation_id, when, searches in rows:
        if (user_id, when) in excluded_users or (
            organisation_id,
            when,
        ) in excluded_orgs:
            left_out.add((user_id, when))
        per_day[(user_id, when)] += searches
    per_user: dict[int, list[int]] = defaultdict(list)
    for (user_id, when), searches in per_day.items():
        if (user_id, when) not in left_out:
            per_user[user_id].append(searches)
    return {
        user_id: Decimal(sum(days)) / len(days)
        for user_id, days in per_user.items()
        if len(days) >= settings.AUDIT_BASELINE_MINIMUM_DAYS
    }


def _q(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def expected_daily_volume(learners_per_year: int) -> Decimal:
    """Searches a day an organisation's declared learners a year imply."""
    return Decimal(learners_per_year) / Decimal(settings.LOOKUP_WORKING_DAYS)


def hits_find(day: date, counted: list[DayCounts]) -> list[Hit]:
    """Every rule hit for one day's counts."""
    audit_rules_ensure()
    rules = {rule.code: rule for rule in AuditRule.objects.filter(enabled=True)}
    # (rule, organisation id, user id or None, value, threshold, details): the
    # users and organisations are read only for the hits.
    found: list[tuple[AuditRule, int, int | None, Decimal, Decimal, str]] = []

    def user_hit(
        rule: AuditRule, row: DayCounts, value: Decimal, limit: Decimal, details: str
    ) -> None:
        found.append(
            (rule, row.organisation_id, row.user_id, _q(value), _q(limit), details)
        )

    rule = rules.get(Code.ORG_VOLUME)
    if rule is not None:
        totals: dict[int, int] = defaultdict(int)
        for row in counted:
            totals[row.organisation_id] += row.searches
        declared = dict(
            Organisation.objects.filter(pk__in=list(totals)).values_list(
                "pk", "estimated_learners_per_year"
            )
        )
        for organisation_id, searches in sorted(totals.items()):
            expected = expected_daily_volume(declared[organisation_id])
            limit = max(Decimal(rule.minimum_volume), rule.threshold * expected)
            if searches > limit:
                found.append(
                    (
                        rule,
                        organisation_id,
                        None,
                        Decimal(searches),
                        _q(limit),
                        f"{searches} searches against an expected "
                        f"{_q(expected)} a day ({rule.threshold} times that is "
                        f"{_q(limit)}).",
                    )
                )
    baselines = (
        _baselines(day, [row.user_id for row in counted])
        if Code.USER_SPIKE in rules
        else {}
    )
    for row in sorted(counted, key=lambda r: (r.organisation_id, r.user_id)):
        rule = rules.get(Code.USER_VOLUME)
        if (
            rule
            and row.searches >= rule.minimum_volume
            and row.searches > rule.threshold
        ):
            user_hit(
                rule,
                row,
                Decimal(row.searches),
                rule.threshold,
                f"{row.searches} searches in the day.",
            )
        rule = rules.get(Code.USER_SPIKE)
        baseline = baselines.get(row.user_id)
        if rule and baseline is not None and row.searches >= rule.minimum_volume:
            limit = rule.threshold * max(baseline, Decimal(1))
            if row.searches > limit:
                user_hit(
                    rule,
                    row,
                    Decimal(row.searches),
                    limit,
                    f"{row.searches} searches against a usual {_q(baseline)} a day.",
                )
        rule = rules.get(Code.NO_MATCH_RATE)
        if rule and row.detail_searches and row.detail_searches >= rule.minimum_volume:
            rate = Decimal(row.detail_no_matches) / Decimal(row.detail_searches)
            if rate > rule.threshold:
                user_hit(
                    rule,
                    row,
                    rate,
                    rule.threshold,
                    f"{row.detail_no_matches} of {row.detail_searches} searches by "
                    "details found nobody.",
                )
        rule = rules.get(Code.CONSECUTIVE_ULNS)
        if (
            rule
            and row.searches >= rule.minimum_volume
            and row.longest_uln_run is not None
            and row.longest_uln_run >= rule.threshold
        ):
            user_hit(
                rule,
                row,
                Decimal(row.longest_uln_run),
                rule.threshold,
                f"A run of {row.longest_uln_run} consecutive ULNs searched.",
            )
        rule = rules.get(Code.NIGHT_TIME)
        if (
            rule
            and row.night_lookups >= rule.minimum_volume
            and row.night_lookups > rule.threshold
        ):
            user_hit(
                rule,
                row,
                Decimal(row.night_lookups),
                rule.threshold,
                f"{row.night_lookups} lookups outside working hours.",
            )
    users = User.objects.in_bulk([user for _, _, user, *_ in found if user])
    organisations = Organisation.objects.in_bulk(list({org for _, org, *_ in found}))
    return [
        Hit(
            rule=rule,
            subject_type=UsageAlert.Subject.USER
            if user_id
            else UsageAlert.Subject.ORGANISATION,
            organisation=organisations[organisation_id],
            user=users[user_id] if user_id else None,
            value=value,
            threshold=threshold,
            details=details,
        )
        for rule, organisation_id, user_id, value, threshold, details in found
    ]


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
            hit.subject_type,
            hit.organisation.pk,
            hit.user.pk if hit.user is not None else None,
            hit.rule.code,
        )
        if key in existing:
            continue
        existing.add(key)
        new.append(
            UsageAlert(
                subject_type=hit.subject_type,
                organisation=hit.organisation,
                user=hit.user,
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
        counted = usage_days_write(day)
        users_counted = len(counted)
        hits = hits_find(day, counted)
        progress.add("hits", len(hits))
        progress.add("alerts_raised", _alerts_raise(hits, day, acting_user))
        decided = _already_decided(day)
        suspending: dict[tuple[str, int], list[Hit]] = defaultdict(list)
        for hit in hits:
            if hit.rule.suspends:
                key_id = hit.user.pk if hit.user is not None else hit.organisation.pk
                if (hit.subject_type, key_id) not in decided:
                    suspending[(hit.subject_type, key_id)].append(hit)
        # Organisations first: a user of a suspended organisation is already out.
        for (subject_type, _), subject_hits in sorted(
            suspending.items(),
            key=lambda item: item[0][0] != UsageAlert.Subject.ORGANISATION,
        ):
            first = subject_hits[0]
            _, created = suspension_open(
                subject_type=subject_type,
                organisation=first.organisation,
                user=first.user,
                source=Suspension.Source.USAGE_AUDIT,
                cause="usage",
                day=day,
                reason=_suspension_reason(subject_hits),
                rules=[hit.as_json() for hit in subject_hits],
                acting_user=acting_user,
            )
            if created:
                progress.add("suspensions_opened")
        progress.add("days_audited")
        progress.add("users_counted", users_counted)
        AuditedDay.objects.update_or_create(
            day=day, defaults={"audited_at": timezone.now()}
        )
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
