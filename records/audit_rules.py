"""The audit's rules of a day's counts (issue 5): hits_find applies the six
rules of the AuditRule table that judge the counts records.audit_counts keeps,
the organisation's volume against what its declared learners imply, and each
user's volume, spike against their own baseline (false positives left out),
share of detail searches that found nobody, run of consecutive ULNs and lookups
outside working hours; and what each hit found, in words.

records.audit raises the hits' alerts and suspensions; the purpose rules are in
records.purpose and records.purpose_user.
"""

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from records.audit_counts import ONE, DayCounts
from records.audit_hits import Hit, as_figure, two_places
from records.models import AuditRule, UsageDay
from registration.models import Organisation, Suspension

Code = AuditRule.Code


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
        .annotate(total=Sum("searches"), rows=Count(ONE))
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
                    two_places(value),
                    two_places(limit),
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
        usual = as_figure(baseline or Decimal(0))
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
                two_places(limit),
                volume_details(searches, learners, rule),
            )
        )
    return hits


def volume_details(searches: int, learners: int, rule: AuditRule) -> str:
    """An organisation volume hit in words that add up: whole counts, and the
    minimum limit named when it, not the multiple, is the limit. A whole number of
    searches is above a limit exactly when it is above the limit's whole part."""
    expected = expected_daily_volume(learners)
    multiple = rule.threshold * expected
    found = f"{searches:,} searches in the day"
    basis = (
        f"{as_figure(rule.threshold)} times the {as_figure(expected)} searches a day "
        f"expected from {learners:,} learners a year"
    )
    if multiple < rule.minimum_volume:
        return (
            f"{found}, above the minimum limit of {rule.minimum_volume:,} searches "
            f"({basis} is {as_figure(multiple)}, less than the minimum)."
        )
    return f"{found}, above the limit of {math.floor(multiple):,} searches ({basis})."
