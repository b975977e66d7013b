"""Time targets, the DSAP dashboard and the exports (decision 17)."""

from datetime import date, timedelta
from http import HTTPStatus
from importlib import import_module
from io import BytesIO

import pytest
from django.apps import apps as django_apps
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from approvals.models import DataShareRequest
from approvals.reporting import quarters
from approvals.services.secretariat import days_in_stage, is_overdue, overdue_requests
from lrs_portal import roles
from tests.approvals.conftest import Cast, build_cast, staff
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status
DASHBOARD = "admin:approvals_datasharerequest_dashboard"


def _export(what: str, fmt: str) -> str:
    return reverse("admin:approvals_datasharerequest_export", args=[what, fmt])


def _age(request: DataShareRequest, days: int) -> None:
    request.stage_entered_at = timezone.now() - timedelta(days=days)
    request.save(update_fields=["stage_entered_at"])


# --- time targets ---------------------------------------------------------------------


def test_a_transition_starts_the_stage_clock(cast: Cast):
    _age(cast.request, 40)
    cast.submit()

    assert days_in_stage(cast.request) == 0


@override_settings(DSAP_STAGE_TARGET_DAYS={"submitted": 5})
def test_a_request_past_its_stage_target_is_overdue(cast: Cast):
    cast.submit()
    _age(cast.request, 5)
    on_target = is_overdue(cast.request)
    _age(cast.request, 6)

    assert on_target is False
    assert is_overdue(cast.request) is True
    assert list(overdue_requests()) == [cast.request]


@override_settings(DSAP_STAGE_TARGET_DAYS={"submitted": 5})
def test_the_queue_filters_and_highlights_overdue_requests(cast: Cast):
    cast.submit()
    _age(cast.request, 9)
    fresh = build_cast()
    fresh.submit()
    url = reverse("admin:approvals_datasharerequest_changelist")

    page = verified_client(cast.caseworker).get(url, {"needs": "overdue"}).text

    assert cast.request.reference in page
    assert fresh.request.reference not in page
    assert "9 (target 5)" in page


# --- the dashboard --------------------------------------------------------------------


def test_the_quarter_counts_decisions_and_rates(cast: Cast):
    cast.approve()
    rejected = build_cast()
    rejected.to_panel()
    rejected.votes("reject", "reject", "reject")
    rejected.decide("rejected")

    this = quarters()[-1]

    assert (this.received, this.approved, this.rejected, this.decided) == (2, 1, 1, 2)
    assert this.approval_rate == 50
    assert this.rejection_rate == 50


def test_quarters_run_back_across_a_year_end():
    labels = [q.label for q in quarters(count=3, today=date(2026, 2, 10))]

    assert labels == ["2025 Q3", "2025 Q4", "2026 Q1"]


def test_a_quarter_without_decisions_has_no_rates(db):
    assert quarters()[-1].approval_rate is None


def test_the_dashboard_shows_the_quarter_s_figures_as_charts_and_tables(cast: Cast):
    cast.approve()

    response = verified_client(cast.caseworker).get(reverse(DASHBOARD))

    assert response.status_code == HTTPStatus.OK
    page = response.text
    this = quarters()[-1].label
    assert f"This quarter: {this}" in page
    assert page.count('<svg role="img"') == 2
    assert "Approval rate: 100%" in page
    assert "<script" not in page.split('id="content-main"')[1]


@pytest.mark.parametrize("role", [roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER])
def test_assessors_and_members_get_404_for_the_dashboard_and_exports(db, role):
    client = verified_client(staff(role))

    assert client.get(reverse(DASHBOARD)).status_code == HTTPStatus.NOT_FOUND
    assert client.get(_export("cases", "csv")).status_code == HTTPStatus.NOT_FOUND


def test_an_unknown_export_is_404(cast: Cast):
    client = verified_client(cast.caseworker)

    assert client.get(_export("users", "csv")).status_code == HTTPStatus.NOT_FOUND
    assert client.get(_export("cases", "pdf")).status_code == HTTPStatus.NOT_FOUND


# --- exports --------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["cases", "decisions", "register"])
def test_each_export_is_a_csv_that_cannot_run_formulas(cast: Cast, what):
    cast.request.project_title = "=cmd|' /C calc'!A0"
    cast.request.save()
    cast.approve()
    decision = cast.request.decisions.get()
    decision.reasons = "=cmd|' /C calc'!A0"
    decision.save()

    response = verified_client(cast.caseworker).get(_export(what, "csv"))

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert cast.request.reference in body
    assert "\n=" not in body
    assert ",=" not in body
    assert "'=cmd" in body


def test_the_decisions_xlsx_has_no_formula_cells(cast: Cast):
    cast.approve()
    decision = cast.request.decisions.get()
    decision.reasons = '=HYPERLINK("http://evil")'
    decision.save()

    response = verified_client(cast.caseworker).get(_export("decisions", "xlsx"))

    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Reference"
    assert rows[1][0] == cast.request.reference
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert '\'=HYPERLINK("http://evil")' in rows[1]


def test_the_case_list_xlsx_lists_every_request(cast: Cast):
    cast.submit()
    other = build_cast()

    response = verified_client(cast.caseworker).get(_export("cases", "xlsx"))

    sheet = load_workbook(BytesIO(response.content)).active
    references = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert references == {cast.request.reference, other.request.reference}


def test_the_backfill_takes_the_stage_start_from_history(cast: Cast):
    cast.submit()
    entered = cast.request.history.order_by("-history_date").first().history_date
    _age(cast.request, 50)  # as an existing row would be, before the migration
    migration = import_module("approvals.migrations.0008_backfill_stage_entered_at")

    migration.backfill(django_apps, None)

    cast.request.refresh_from_db()
    assert cast.request.stage_entered_at == entered
