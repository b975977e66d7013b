"""The super user's usage page (searches a day against the daily limit, as a
chart and a table) and the organisation's log download (CSV).

Only the organisation's super user reads them (records.permissions.can_read_log);
its other members are told who does (usage_refusals).
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from http import HTTPStatus
from math import floor, log10
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
)

from lrs_portal.hostile_input import form_in_query
from records.forms import (
    LogDownloadForm,
)
from records.models import AuditedDay, LearnerView
from records.models import UsageDay as DailyCounts
from records.permissions import (
    can_read_log,
    can_read_log_ulns,
    log_visible_to,
    lookup_membership,
)
from records.services import (
    organisation_daily_cap,
)
from records.views import _user
from registration.models import Membership

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
USAGE_DAYS = 30
OUTCOME = LearnerView.Outcome
ACTION = LearnerView.Action
SEARCHES = (ACTION.SEARCH_ULN, ACTION.SEARCH_DEMOGRAPHICS)

# --- the super user's usage page -------------------------------------------------


class UsageRefused(Exception):
    """A member of the organisation who may not read its log (_usage_log)."""

    def __init__(self, membership: Membership) -> None:
        super().__init__("usage refused")
        self.membership = membership


def _usage_log(request: HttpRequest) -> tuple[Membership, QuerySet[LearnerView]]:
    """The super user's membership and their organisation's log; 404 for anyone
    outside an organisation; UsageRefused for its other users, and for a super
    user whose own access is suspended."""
    user = _user(request)
    membership = lookup_membership(user)
    if membership is None:
        raise Http404
    if not can_read_log(membership):
        raise UsageRefused(membership)
    return membership, log_visible_to(user, membership)


def usage_refusals(
    view: Callable[Concatenate[HttpRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """A member who opens the usage pages learns who sees them (not a 404: it is
    their own organisation's page, only not theirs to read)."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> R | HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except UsageRefused as refused:
            return render(
                request,
                "records/usage_refused.html",
                {"membership": refused.membership},
                status=HTTPStatus.FORBIDDEN,
            )

    return wrapper


def _utc_midnight(day: date) -> datetime:
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
        if audited_at >= _utc_midnight(day + timedelta(days=1))
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
            viewed_at__gte=_utc_midnight(start),
            viewed_at__lt=_utc_midnight(end + timedelta(days=1)),
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


@dataclass(frozen=True)
class Bar:
    day: date
    searches: int
    x: float
    y: float
    width: float
    height: float
    reached: bool


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart's geometry, in viewBox units (records/_usage_chart.html)."""

    cap: int
    cap_y: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    width: ClassVar[int] = 720
    height: ClassVar[int] = 300
    left: ClassVar[int] = 56  # the plot area, inside the axis labels
    right: ClassVar[int] = 696
    top: ClassVar[int] = 24
    bottom: ClassVar[int] = 244
    middle_x: ClassVar[float] = (left + right) / 2
    middle_y: ClassVar[float] = (top + bottom) / 2


def _nice_step(value: float) -> int:
    """A round step (1, 2 or 5 times a power of ten) about a quarter of ``value``."""
    rough = max(value / 4, 1)
    power = 10 ** floor(log10(rough))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


def usage_chart(days: list[UsageDay], cap: int) -> Chart:
    left, bottom = Chart.left, Chart.bottom
    peak = max([cap, *(d.searches for d in days)])
    step = _nice_step(peak)
    scale_top = step * (floor(peak / step) + 1)

    def y(value: float) -> float:
        return round(bottom - value / scale_top * (bottom - Chart.top), 1)

    slot = (Chart.right - left) / len(days)
    bars = [
        Bar(
            day=d.day,
            searches=d.searches,
            x=round(left + i * slot + slot * 0.15, 1),
            y=y(d.searches),
            width=round(slot * 0.7, 1),
            height=round(bottom - y(d.searches), 1),
            reached=d.searches >= cap,
        )
        for i, d in enumerate(days)
    ]
    labelled = sorted(range(len(days) - 1, -1, -7))  # always today, a week apart
    return Chart(
        cap=cap,
        cap_y=y(cap),
        bars=bars,
        y_ticks=[Tick(y(v), str(v)) for v in range(0, scale_top + 1, step)],
        x_ticks=[
            Tick(round(left + (i + 0.5) * slot, 1), date_format(days[i].day, "j M"))
            for i in labelled
        ],
    )


def _usage_page(
    request: HttpRequest,
    membership: Membership,
    log: QuerySet[LearnerView],
    form: LogDownloadForm,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    today = datetime.now(UTC).date()
    days = _usage_days(log, membership.organisation_id, today)
    cap = organisation_daily_cap(membership.organisation)
    return render(
        request,
        "records/usage.html",
        {
            "organisation": membership.organisation,
            "cap": cap,
            "today": days[-1],
            "days": list(reversed(days)),
            "chart": usage_chart(days, cap),
            "form": form,
            "with_ulns": can_read_log_ulns(membership),
        },
        status=status,
    )


@require_GET
@login_required
@usage_refusals
def usage(request: HttpRequest) -> HttpResponse:
    membership, log = _usage_log(request)
    return _usage_page(request, membership, log, LogDownloadForm())


# --- the log download ------------------------------------------------------------

CSV_HEADER = (
    "Time (UTC)",
    "User email",
    "Action",
    "Outcome",
    "Matches",
    "Learner ULN",
    "Request ID",
    # How the search came: the portal's pages, the web service or a batch; and
    # for the last two, the name of the API client it came through (issue 12).
    "Channel",
    "API client",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object that hands back what csv.writer writes to it."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text and never runs as a formula (OWASP)."""
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


_CSV_FIELDS = (
    "viewed_at",
    "user__email",
    "action",
    "outcome",
    "match_count",
    "learner_uln",
    "request_id",
    "channel",
    "api_client__name",
)
_ULN = _CSV_FIELDS.index("learner_uln")


def _csv_columns(with_ulns: bool) -> tuple[str, ...]:
    return (
        _CSV_FIELDS
        if with_ulns
        else tuple(f for f in _CSV_FIELDS if f != "learner_uln")
    )


def _csv_lines(rows: Iterable[tuple[Any, ...]], *, with_ulns: bool) -> Iterator[str]:
    writer = csv.writer(_Echo())
    actions, outcomes = dict(ACTION.choices), dict(OUTCOME.choices)
    channels = dict(LearnerView.Channel.choices)
    header = list(CSV_HEADER)
    if not with_ulns:
        del header[_ULN]
    yield writer.writerow(header)
    for viewed_at, email, action, outcome, *rest, channel, api_client in rows:
        cells = (
            f"{viewed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            email,
            actions.get(action, action),
            outcomes.get(outcome, outcome),
            *rest,
            channels.get(channel, channel),
            api_client or "",
        )
        yield writer.writerow([csv_cell(cell) for cell in cells])


@form_in_query
@never_cache
@require_GET
@login_required
@usage_refusals
def usage_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    membership, log = _usage_log(request)
    form = LogDownloadForm(request.GET)
    if not form.is_valid():
        return _usage_page(request, membership, log, form, HTTPStatus.BAD_REQUEST)
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    with_ulns = can_read_log_ulns(membership)
    rows = (
        log.filter(
            viewed_at__gte=_utc_midnight(start),
            viewed_at__lt=_utc_midnight(end + timedelta(days=1)),
        )
        .order_by("-viewed_at", "-pk")
        .values_list(*_csv_columns(with_ulns))
        .iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(
        _csv_lines(rows, with_ulns=with_ulns), content_type="text/csv; charset=utf-8"
    )
    ukprn = membership.organisation.ukprn
    response["Content-Disposition"] = (
        f'attachment; filename="lrs-log-{ukprn}-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv"'
    )
    return response
