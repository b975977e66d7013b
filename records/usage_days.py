"""The usage page's figures: each of the last 30 days (UTC) with its searches,
record views and refusals, from the nightly audit's counts where a day was
audited once over, and from the lookup log otherwise (records.usage_views shows
them)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from records.models import AuditedDay, LearnerView
from records.models import UsageDay as DailyCounts

USAGE_DAYS = 30
OUTCOME = LearnerView.Outcome
ACTION = LearnerView.Action
SEARCHES = (ACTION.SEARCH_ULN, ACTION.SEARCH_DEMOGRAPHICS)


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class UsageDay:
    day: date
    searches: int = 0
    views: int = 0
    refused: int = 0


def _usage_days(
    log: QuerySet[LearnerView], organisation_id: int, last: date
) -> list[UsageDay]:
    """Each of the last 30 days (UTC) with its counts, in at most three queries.

    A day the nightly audit counted after the day was over comes from its counts
    (records.models.UsageDay, one row per user); every other day (today, and a
    day not audited yet) from the log, one GROUP BY of those days' rows. So a
    visit reads today's rows of the log rather than 30 days of them, which for
    a heavy organisation is a sequential scan of the month (bench/RESULTS.md,
    "National scale"); the figures are the same either way."""
    first = last - timedelta(days=USAGE_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(USAGE_DAYS)]
    counted = _audited_usage(organisation_id, first, last)
    counted.update(_logged_usage(log, [day for day in days if day not in counted]))
    return [counted.get(day, UsageDay(day)) for day in days]


def _audited_usage(
    organisation_id: int, first: date, last: date
) -> dict[date, UsageDay]:
    """The organisation's counts of each day from first to before last that the
    audit counted once the day was over (AuditedDay, written in the same
    transaction as the day's UsageDay rows; a day audited by hand while it was
    still going is counted from the log), an audited day with no rows of the
    organisation as nothing. A day audited before the audit counted refused
    record views is left out."""
    over = {
        day
        for day, audited_at in AuditedDay.objects.filter(
            day__gte=first, day__lt=last
        ).values_list("day", "audited_at")
        if audited_at >= utc_midnight(day + timedelta(days=1))
    }
    if not over:
        return {}
    counted = {day: UsageDay(day) for day in over}
    rows = (
        DailyCounts.objects.filter(organisation_id=organisation_id, day__in=over)
        .order_by()
        .values("day")
        .annotate(
            searches=Sum("searches"),
            views=Sum("views"),
            refused_views_sum=Sum("refused_views"),
            refused=Sum("refused"),
            uncounted=Count("pk", filter=Q(refused_views=None)),
        )
    )
    for row in rows:
        if row["uncounted"]:
            del counted[row["day"]]
        else:
            counted[row["day"]] = UsageDay(
                row["day"],
                searches=row["searches"],
                views=row["views"] + row["refused_views_sum"],
                refused=row["refused"],
            )
    return counted


def _logged_usage(log: QuerySet[LearnerView], days: list[date]) -> dict[date, UsageDay]:
    """The counts of each of ``days`` from the log: one GROUP BY of their rows
    (by the bounds of each run of consecutive days)."""
    if not days:
        return {}
    within = Q()
    start = end = days[0]
    for day in [*days[1:], None]:
        if day is not None and day == end + timedelta(days=1):
            end = day
            continue
        within |= Q(
            viewed_at__gte=utc_midnight(start),
            viewed_at__lt=utc_midnight(end + timedelta(days=1)),
        )
        if day is not None:
            start = end = day
    rows = (
        log.filter(within)
        .annotate(day=TruncDate("viewed_at", tzinfo=UTC))
        .values("day")
        .annotate(
            searches=Count(
                "pk", filter=Q(action__in=SEARCHES) & ~Q(outcome=OUTCOME.REFUSED)
            ),
            views=Count("pk", filter=Q(action=ACTION.VIEW_RECORD)),
            refused=Count("pk", filter=Q(outcome=OUTCOME.REFUSED)),
        )
        .order_by("day")
    )
    return {row["day"]: UsageDay(**row) for row in rows}
