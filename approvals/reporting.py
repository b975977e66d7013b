"""DSAP reporting (decision 17): figures by quarter, the ageing of open cases,
and the rows of the case list, decisions and register exports (CSV and XLSX,
both formula-safe)."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncQuarter
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from approvals.models import DataShareRequest, Decision
from approvals.services.secretariat import days_in_stage, is_overdue, stage_target_days
from approvals.views.public import CSV_HEADER, register_rows
from lrs_portal.csv_cells import csv_cell
from registration.admin.base import csv_response

S = DataShareRequest.Status
D = Decision.Outcome
OPEN = (S.SUBMITTED, S.RETURNED, S.ASSESSMENT, S.PANEL, S.DEFERRED)
AGE_BANDS = ((0, 7), (8, 30), (31, 90), (91, None))


@dataclass(frozen=True)
class Quarter:
    """One calendar quarter's figures."""

    start: date
    received: int
    approved: int
    approved_with_conditions: int
    rejected: int
    deferred: int
    released: int

    @property
    def label(self) -> str:
        return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"

    @property
    def decided(self) -> int:
        """Final decisions (a deferral is not one): the panel's throughput."""
        return self.approved + self.approved_with_conditions + self.rejected

    @property
    def approval_rate(self) -> int | None:
        """Approved (with or without conditions) as a whole percentage of final
        decisions; None when there were none."""
        if not self.decided:
            return None
        return round(
            100 * (self.approved + self.approved_with_conditions) / self.decided
        )

    @property
    def rejection_rate(self) -> int | None:
        if not self.decided:
            return None
        return round(100 * self.rejected / self.decided)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous(start: date) -> date:
    month = start.month - 3
    return date(start.year - (month < 1), (month - 1) % 12 + 1, 1)


def _counts(queryset: QuerySet[Any], field: str) -> dict[date, int]:
    rows = (
        queryset.annotate(quarter=TruncQuarter(field))
        .values("quarter")
        .annotate(total=Count("pk"))
        .values_list("quarter", "total")
    )
    return {_as_date(q): n for q, n in rows}


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def quarters(*, count: int = 8, today: date | None = None) -> list[Quarter]:
    """The last ``count`` calendar quarters, oldest first, this one included."""
    today = today or timezone.localdate()
    starts = [_quarter_start(today)]
    while len(starts) < count:
        starts.append(_previous(starts[-1]))
    starts.reverse()
    since = timezone.make_aware(datetime.combine(starts[0], datetime.min.time()))
    received = _counts(
        DataShareRequest.objects.filter(submitted_at__gte=since), "submitted_at"
    )
    released = _counts(
        DataShareRequest.objects.filter(released_at__gte=since), "released_at"
    )
    decided = {
        outcome: _counts(
            Decision.objects.filter(decided_at__gte=since, outcome=outcome),
            "decided_at",
        )
        for outcome in D.values
    }
    return [
        Quarter(
            start=start,
            received=received.get(start, 0),
            approved=decided[D.APPROVED].get(start, 0),
            approved_with_conditions=decided[D.APPROVED_WITH_CONDITIONS].get(start, 0),
            rejected=decided[D.REJECTED].get(start, 0),
            deferred=decided[D.DEFERRED].get(start, 0),
            released=released.get(start, 0),
        )
        for start in starts
    ]


@dataclass(frozen=True)
class StageAge:
    """Open requests in one stage: how many in each age band, how many overdue."""

    status: str
    label: str
    target: int | None
    bands: list[int]
    overdue: int


def ageing(today: date | None = None) -> list[StageAge]:
    """The open queue by stage and days in stage, with the overdue counts."""
    today = today or timezone.localdate()
    requests = list(DataShareRequest.objects.filter(status__in=OPEN))
    rows = []
    for status in OPEN:
        mine = [r for r in requests if r.status == status]
        days = [days_in_stage(r, today) for r in mine]
        bands = [
            sum(low <= d and (high is None or d <= high) for d in days)
            for low, high in AGE_BANDS
        ]
        rows.append(
            StageAge(
                status=status,
                label=str(S(status).label),
                target=stage_target_days(status),
                bands=bands,
                overdue=sum(is_overdue(r, today) for r in mine),
            )
        )
    return rows


# --- exports ------------------------------------------------------------------------

CASE_HEADER = (
    "Reference",
    "Kind",
    "Requesting organisation",
    "Project title",
    "Status",
    "Days in stage",
    "Over target",
    "Assessor",
    "Panel meeting",
    "Submitted",
    "Decided",
    "Released",
    "End date",
)
DECISION_HEADER = (
    "Reference",
    "Requesting organisation",
    "Meeting",
    "Outcome",
    "Votes to approve",
    "Votes counted",
    "Risk score",
    "Risk appetite",
    "Above appetite",
    "Chair",
    "Decided",
    "Reasons",
    "Conditions",
)


def _day(value: datetime | None) -> date | str:
    return timezone.localdate(value) if value else ""


def case_rows() -> Iterator[list[object]]:
    today = timezone.localdate()
    requests = DataShareRequest.objects.select_related(
        "organisation", "assessor", "panel_meeting"
    ).order_by("reference")
    for r in requests.iterator(chunk_size=500):
        yield [
            r.reference,
            r.get_change_kind_display() or "New request",
            r.organisation.name,
            r.project_title,
            r.get_status_display(),
            days_in_stage(r, today),
            "Yes" if is_overdue(r, today) else "No",
            r.assessor or "",
            r.panel_meeting.held_on if r.panel_meeting else "",
            _day(r.submitted_at),
            _day(r.decided_at),
            _day(r.released_at),
            r.end_date or "",
        ]


def decision_rows() -> Iterator[list[object]]:
    decisions = Decision.objects.select_related(
        "request__organisation", "meeting", "chair"
    ).order_by("decided_at", "pk")
    for d in decisions.iterator(chunk_size=500):
        yield [
            d.request.reference,
            d.request.organisation.name,
            d.meeting.held_on,
            d.get_outcome_display(),
            d.votes_for,
            d.votes_cast,
            d.risk_score,
            d.risk_appetite,
            "Yes" if d.above_risk_appetite else "No",
            d.chair,
            _day(d.decided_at),
            d.reasons,
            d.conditions,
        ]


EXPORTS = {
    "cases": ("dsap-cases", CASE_HEADER, case_rows),
    "decisions": ("dsap-decisions", DECISION_HEADER, decision_rows),
    "register": ("dfe-approved-data-shares", CSV_HEADER, register_rows),
}


def _xlsx_cell(value: object) -> object:
    """Dates and numbers as themselves; everything else as text that never runs
    as a formula (the same rule as the CSV)."""
    if isinstance(value, (int, float, date)) and not isinstance(value, bool):
        return value
    return csv_cell(value)


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_response(what: str, fmt: str) -> HttpResponse | None:
    """The export named ``what`` as CSV or XLSX; None when there is no such one."""
    if what not in EXPORTS or fmt not in ("csv", "xlsx"):
        return None
    name, header, rows = EXPORTS[what]
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        return csv_response(f"{name}-{stamp}.csv", header, rows())
    return xlsx_response(f"{name}-{stamp}.xlsx", header, rows())
