"""Subject access requests: the statutory deadline, each step in admin with
history, the report as PDF and CSV (the command writes the same file), and every
download logged."""

import re
import zlib
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from records.models import LearnerView, SubjectAccessRequest
from records.subject_access import months_after, sar_deadline, sars_overdue
from tests.conftest import verified_client
from tests.factories import OrganisationFactory
from tests.records.test_admin import log_row, make_learner, valid_ulns

pytestmark = pytest.mark.django_db
St = SubjectAccessRequest.Status
FIXED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
ADD = "admin:records_subjectaccessrequest_add"
CHANGE = "admin:records_subjectaccessrequest_change"
REPORT = "admin:records_subjectaccessrequest_report"


@pytest.fixture
def uln():
    return next(valid_ulns())


@pytest.fixture
def desk(caseworker):
    return verified_client(caseworker)


def _sar(uln, **kwargs):
    values = {
        "learner_uln": uln,
        "requester_name": "Amelia Hughes",
        "reply_to": "amelia@example.com",
        "arrived_by": SubjectAccessRequest.Arrived.EMAIL,
        "received_on": timezone.localdate() - timedelta(days=3),
    }
    return SubjectAccessRequest.objects.create(**{**values, **kwargs})


def _step(client, sar, **fields):
    return client.post(reverse(CHANGE, args=[sar.pk]), fields)


def _pdf_text(content):
    """The text drawn in a PDF made by fpdf2 (its content streams inflated)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S)
    text = b""
    for stream in streams:
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            text += stream
    return text.decode("latin-1")


# --- the deadline --------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "extended", "due"),
    [
        (date(2026, 3, 3), False, date(2026, 4, 3)),  # same date next month
        (date(2026, 3, 31), False, date(2026, 4, 30)),  # April has no 31st
        (date(2024, 1, 31), False, date(2024, 2, 29)),  # leap year
        (date(2026, 1, 31), False, date(2026, 3, 2)),  # 28 Feb is a Saturday
        (date(2026, 12, 15), False, date(2027, 1, 15)),  # across the year
        (date(2026, 8, 31), True, date(2026, 11, 30)),  # two more months
        (date(2026, 11, 30), True, date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday
    ],
)
def test_the_deadline_is_one_calendar_month_or_three_when_extended(
    received, extended, due
):
    assert sar_deadline(received_on=received, extended=extended) == due


def test_a_month_on_from_a_month_end_is_the_next_months_end():
    assert months_after(date(2026, 5, 31), 1) == date(2026, 6, 30)
    assert months_after(date(2026, 12, 31), 2) == date(2027, 2, 28)


# --- the case in admin ---------------------------------------------------------


def test_a_request_runs_from_receipt_to_closed_with_history(desk, caseworker, uln):
    organisation = OrganisationFactory.create(legal_name="Northfield College Ltd")
    log_row(organisation, uln=uln, when=FIXED - timedelta(days=1))
    received = timezone.localdate() - timedelta(days=2)

    desk.post(
        reverse(ADD),
        {
            "learner_uln": uln,
            "requester_name": "Amelia Hughes",
            "reply_to": "amelia@example.com",
            "arrived_by": "post",
            "received_on": received.isoformat(),
        },
    )
    sar = SubjectAccessRequest.objects.get()
    assert desk.get(reverse(REPORT, args=[sar.pk, "pdf"])).status_code == (
        HTTPStatus.FORBIDDEN
    )  # not before the identity check
    _step(desk, sar, step="identity", identity_check="documents", identity_notes="")
    pdf = desk.get(reverse(REPORT, args=[sar.pk, "pdf"]))
    _step(
        desk,
        sar,
        step="sent",
        report_sent_by="post",
        report_sent_on=timezone.localdate().isoformat(),
    )
    _step(desk, sar, step="close", closing_note="Answered in full")

    sar.refresh_from_db()
    assert sar.status == St.CLOSED
    assert sar.identity_checked_by == caseworker
    assert sar.report_generated_at is not None
    assert pdf.status_code == HTTPStatus.OK
    assert pdf["Content-Type"] == "application/pdf"
    assert "Northfield College Ltd" in _pdf_text(pdf.content)
    reasons = [h.history_change_reason for h in sar.history.order_by("history_id")]
    assert reasons == [
        "Request recorded",
        "Identity checked: Identity documents seen (passport, driving licence)",
        "Access report generated (PDF)",
        "Report sent by Post",
        "Closed: Answered in full",
    ]
    assert {h.history_user for h in sar.history.all()} == {caseworker}
    (download,) = LogEntry.objects.filter(
        object_id=str(sar.pk), change_message__startswith="Downloaded"
    )
    assert download.user == caseworker
    assert download.change_message == "Downloaded the learner access report (PDF)"


def test_a_step_out_of_turn_is_refused_and_changes_nothing(desk, uln):
    sar = _sar(uln)

    response = _step(
        desk, sar, step="sent", report_sent_by="post", report_sent_on="2026-11-01"
    )

    assert response.status_code == HTTPStatus.OK  # the form again, with the error
    assert "Record the identity check before the report is sent" in (
        response.content.decode()
    )
    sar.refresh_from_db()
    assert sar.status == St.RECEIVED
    assert sar.report_sent_on is None


def test_a_step_needs_its_details(desk, uln):
    sar = _sar(uln)

    response = _step(desk, sar, step="extend", extension_reason="")

    assert "Enter this to take the step" in response.content.decode()
    sar.refresh_from_db()
    assert sar.extended_at is None


def test_an_extension_adds_two_months_once_with_its_reason(desk, uln):
    sar = _sar(uln, received_on=date(2026, 8, 31))

    _step(desk, sar, step="extend", extension_reason="Several linked requests")
    again = _step(desk, sar, step="extend", extension_reason="Again")

    sar.refresh_from_db()
    assert sar.extension_reason == "Several linked requests"
    assert sar_deadline(received_on=sar.received_on, extended=True) == date(
        2026, 11, 30
    )
    assert "Only an open request not yet extended" in again.content.decode()


def test_a_request_cannot_be_dated_in_the_future(desk, uln):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = desk.post(
        reverse(ADD),
        {
            "learner_uln": uln,
            "requester_name": "A",
            "reply_to": "a@example.com",
            "arrived_by": "email",
            "received_on": tomorrow.isoformat(),
        },
    )

    assert "cannot be in the future" in response.content.decode()
    assert not SubjectAccessRequest.objects.exists()


def test_the_overdue_queue_holds_open_requests_past_their_deadline(desk, uln):
    late = _sar(uln, received_on=timezone.localdate() - timedelta(days=40))
    extended = _sar(
        uln,
        received_on=timezone.localdate() - timedelta(days=40),
        extended_at=timezone.now(),
        extension_reason="Complex",
    )
    answered = _sar(
        uln, received_on=timezone.localdate() - timedelta(days=40), status=St.CLOSED
    )
    recent = _sar(uln)

    assert list(sars_overdue()) == [late]
    listing = desk.get(
        reverse("admin:records_subjectaccessrequest_changelist"), {"due": "overdue"}
    )
    shown = listing.context["cl"].result_list
    assert list(shown) == [late]
    assert {extended, answered, recent}.isdisjoint(shown)


def test_the_report_is_not_for_someone_without_the_permission(assessor, uln):
    sar = _sar(uln, status=St.IDENTITY_CHECKED)

    response = verified_client(assessor).get(reverse(REPORT, args=[sar.pk, "csv"]))

    assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.FOUND)
    assert not LogEntry.objects.filter(change_message__startswith="Downloaded")


# --- the report's files --------------------------------------------------------


@pytest.mark.parametrize("file_format", ["pdf", "csv"])
def test_the_admin_download_is_the_commands_file(
    desk, uln, tmp_path, monkeypatch, file_format
):
    make_learner(uln)
    for n, channel in enumerate(LearnerView.Channel):
        organisation = OrganisationFactory.create(
            legal_name=f"Zo\u00eb\u2019s Training {n}"
        )
        log_row(organisation, uln=uln, when=FIXED - timedelta(hours=n), channel=channel)
    sar = _sar(uln, status=St.IDENTITY_CHECKED)
    monkeypatch.setattr(timezone, "now", lambda: FIXED)
    path = tmp_path / f"report.{file_format}"

    downloaded = desk.get(reverse(REPORT, args=[sar.pk, file_format]))
    call_command(
        "learner_access_report", uln, "--format", file_format, "--output", str(path)
    )

    assert downloaded.content == path.read_bytes()
    assert (
        downloaded["Content-Disposition"]
        == f'attachment; filename="learner-access-{uln}-20261128.{file_format}"'
    )
    text = (
        _pdf_text(downloaded.content)
        if file_format == "pdf"
        else downloaded.content.decode()
    )
    for label in ("Portal page", "Web service", "Batch file"):
        assert label in text
    assert "Zo" in text  # a name outside Latin-1 is written, not refused


def test_the_learner_pages_download_is_logged_too(admin_verified_client, uln):
    learner = make_learner(uln)

    admin_verified_client.get(
        reverse("admin:records_learner_access_report", args=[learner.pk])
    )

    (entry,) = LogEntry.objects.filter(change_message__startswith="Downloaded")
    assert entry.object_id == str(learner.pk)
    assert "access report (CSV)" in entry.change_message


def test_a_pdf_needs_an_output_file(uln):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--output"):
        call_command("learner_access_report", uln, "--format", "pdf")


def test_the_admin_home_counts_the_overdue_requests(desk, uln):
    _sar(uln, received_on=timezone.localdate() - timedelta(days=40))
    _sar(uln, received_on=timezone.localdate() - timedelta(days=50))
    _sar(uln)

    page = desk.get(reverse("admin:index")).content.decode()

    assert "2 overdue" in page
    assert "?due=overdue" in page
