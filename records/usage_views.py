"""The super user's usage page (searches a day against the daily limit, as a
chart and a table) and the organisation's log download (CSV).

Only the organisation's super user reads them (records.permissions.can_read_log);
its other members are told who does (usage_refusals). The page's figures are
counted in records.usage_days, its chart drawn in records.usage_chart, and the
download's lines written in records.log_csv.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from http import HTTPStatus
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
)

from lrs_portal.hostile_input import form_in_query
from records.forms import (
    LogDownloadForm,
)
from records.log_csv import csv_columns, csv_lines
from records.models import LearnerView
from records.permissions import (
    can_read_log,
    can_read_log_ulns,
    log_visible_to,
    lookup_membership,
)
from records.services import (
    organisation_daily_cap,
)
from records.usage_chart import usage_chart
from records.usage_days import _usage_days, utc_midnight
from records.views import _user
from registration.models import Membership

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)

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
            viewed_at__gte=utc_midnight(start),
            viewed_at__lt=utc_midnight(end + timedelta(days=1)),
        )
        .order_by("-viewed_at", "-pk")
        .values_list(*csv_columns(with_ulns))
        .iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(
        csv_lines(rows, with_ulns=with_ulns), content_type="text/csv; charset=utf-8"
    )
    ukprn = membership.organisation.ukprn
    response["Content-Disposition"] = (
        f'attachment; filename="lrs-log-{ukprn}-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv"'
    )
    return response
