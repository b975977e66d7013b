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

The counts, the ULN runs and the UsageDay rows are in records.audit_counts
(importable from here); this module holds the rules, the alerts and the run.
"""

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User, system_user
from records.audit_counts import (
    _COUNTER_BITS,
    _ONE,
    _SEARCHES,
    _ULN_RUNS_SQL,
    AUDIT_SESSION,
    BLOCK_BUCKETS,
    STEM_BLOCK,
    A,
    DayCounts,
    DayScan,
    O,
    _could_run,
    _counts_query,
    _day_bounds,
    _run_floor,
    _uln_buckets,
    _uln_runs,
    usage_days_write,
)
from records.models import AuditedDay, AuditRule, UsageAlert, UsageDay
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

# Moved to records.audit_counts (issue 18) and still importable from here.
__all__ = [
    "AUDIT_SESSION",
    "BLOCK_BUCKETS",
    "STEM_BLOCK",
    "_COUNTER_BITS",
    "_ONE",
    "_SEARCHES",
    "_ULN_RUNS_SQL",
    "A",
    "DayCounts",
    "DayScan",
    "O",
    "_could_run",
    "_counts_query",
    "_day_bounds",
    "_run_floor",
    "_uln_buckets",
    "_uln_runs",
    "usage_days_write",
]

JOB = "audit_usage"
Code = AuditRule.Code
TWO_PLACES = Decimal("0.01")
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
