import csv
import io
import logging
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.models import LearnerView
from records.reports import COLUMNS, NOT_INCLUDED, learner_access_report
from records.services import (
    InvalidUln,
    learner_search_by_demographics,
    learner_search_by_uln,
    learner_view,
)
from tests.conftest import verified_client
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.test_admin import log_row, make_learner, valid_ulns

pytestmark = pytest.mark.django_db
A = LearnerView.Action
OUTCOME = LearnerView.Outcome
NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
FIXED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.fixture
def ulns():
    return valid_ulns()


def table(text):
    """The CSV's rows below its header line, as lists of cells."""
    rows = list(csv.reader(io.StringIO(text)))
    start = rows.index(list(COLUMNS))
    return rows[:start], rows[start + 1 :]


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("learner_access_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the report ----------------------------------------------------------------


def test_the_report_lists_every_organisation_that_found_the_learner_newest_first(
    ulns,
):
    uln, other_uln = next(ulns), next(ulns)
    college, employer, agency = OrganisationFactory.create_batch(3)
    log_row(college, uln=uln, when=NOON)
    log_row(
        employer,
        uln=uln,
        when=NOON + timedelta(days=1),
        action=A.SEARCH_DEMOGRAPHICS,
    )
    log_row(
        college,
        uln=uln,
        when=NOON + timedelta(days=2),
        action=A.VIEW_RECORD,
        outcome=OUTCOME.SHOWN,
    )
    log_row(agency, uln=other_uln, when=NOON + timedelta(days=3))
    log_row(agency, when=NOON + timedelta(days=4))  # found nobody: no ULN

    rows = list(learner_access_report(uln=uln))

    assert [(r["time_utc"], r["organisation_ukprn"], r["action"]) for r in rows] == [
        (NOON + timedelta(days=2), college.ukprn, "View record"),
        (NOON + timedelta(days=1), employer.ukprn, "Search by demographics"),
        (NOON, college.ukprn, "Search by ULN"),
    ]
    assert rows[0]["organisation_name"] == college.legal_name
    assert rows[0]["outcome"] == "Record shown"
    assert {r["organisation_ukprn"] for r in rows} == {college.ukprn, employer.ukprn}


def test_the_report_covers_what_the_lookup_services_logged(ulns):
    version = AgreementVersionFactory.create()
    college, employer, agency = OrganisationFactory.create_batch(
        3, last_signed_version=version
    )
    learner = make_learner(next(ulns))
    other = make_learner(next(ulns), family_name="Patel")
    at_college, at_employer, at_agency = (
        member_of(org) for org in (college, employer, agency)
    )
    learner_search_by_uln(user=at_college, uln=learner.uln, request_id="r1")
    learner_view(user=at_college, learner_id=learner.pk, request_id="r2")
    learner_search_by_demographics(
        user=at_employer,
        given_name="Amelia",
        family_name="HUGHES",
        date_of_birth=learner.date_of_birth,
        gender=2,
        postcode="ls29jt",
        request_id="r3",
    )
    learner_search_by_uln(user=at_agency, uln=other.uln, request_id="r4")

    rows = list(learner_access_report(uln=learner.uln))

    assert [(r["organisation_ukprn"], r["action"]) for r in rows] == [
        (employer.ukprn, "Search by demographics"),
        (college.ukprn, "View record"),
        (college.ukprn, "Search by ULN"),
    ]


def test_the_report_refuses_a_string_that_is_not_a_uln():
    with pytest.raises(InvalidUln, match="10 digits"):
        learner_access_report(uln="12345")


@pytest.mark.postgres
def test_the_report_reads_the_log_through_its_uln_index(ulns):
    uln = next(ulns)
    log_row(OrganisationFactory.create(), uln=uln)
    with CaptureQueriesContext(connection) as captured:
        list(learner_access_report(uln=uln))
    [query] = [q["sql"] for q in captured if "records_learnerview" in q["sql"]]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"Index Cond: ((learner_uln)::text = '{uln}'::text)" in plan


# --- the command ---------------------------------------------------------------


def test_the_command_writes_the_csv_to_standard_output_and_counts_rows(ulns):
    uln = next(ulns)
    organisation = OrganisationFactory.create(legal_name="Northfield College Ltd")
    log_row(organisation, uln=uln, when=NOON)
    log_row(organisation, uln=uln, when=NOON + timedelta(hours=1))

    out, err = run_command(uln)

    header, rows = table(out)
    assert header[0] == [f"Searches for and views of the learner record with ULN {uln}"]
    assert [NOT_INCLUDED] in header
    assert rows == [
        [
            "2026-11-02 13:00:00",
            "Northfield College Ltd",
            organisation.ukprn,
            "Search by ULN",
            "Exact match",
            "Portal page",
        ],
        [
            "2026-11-02 12:00:00",
            "Northfield College Ltd",
            organisation.ukprn,
            "Search by ULN",
            "Exact match",
            "Portal page",
        ],
    ]
    assert err.strip() == f"2 rows for ULN {uln}"


def test_the_command_writes_to_a_file_when_asked(tmp_path, ulns):
    uln = next(ulns)
    log_row(OrganisationFactory.create(), uln=uln)
    path = tmp_path / "report.csv"

    out, _ = run_command(uln, "--output", str(path))

    assert out.strip() == f"Wrote 1 row for ULN {uln} to {path}"
    assert len(table(path.read_text(encoding="utf-8"))[1]) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12345", "A ULN is 10 digits"),
        ("9999999999", "temporary ULN"),
        ("9276308687", "check for a mistyped digit"),
    ],
)
def test_the_command_refuses_a_bad_uln_with_the_reason(value, reason):
    with pytest.raises(CommandError, match=reason):
        run_command(value)


def test_the_command_neutralises_spreadsheet_formulas(ulns):
    uln = next(ulns)
    name = '=HYPERLINK("https://evil.example.com","Click")'
    log_row(OrganisationFactory.create(legal_name=name), uln=uln)

    out, _ = run_command(uln)

    assert table(out)[1][0][1] == f"'{name}"


# --- the admin download --------------------------------------------------------


def test_the_admin_download_is_the_commands_csv(
    admin_verified_client, ulns, monkeypatch
):
    learner = make_learner(next(ulns))
    for n, organisation in enumerate(OrganisationFactory.create_batch(3)):
        log_row(organisation, uln=learner.uln, when=NOON + timedelta(hours=n))
    log_row(OrganisationFactory.create(), uln=next(ulns), when=NOON)
    monkeypatch.setattr(timezone, "now", lambda: FIXED)

    response = admin_verified_client.get(
        reverse("admin:records_learner_access_report", args=[learner.pk])
    )
    out, _ = run_command(learner.uln)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="learner-access-{learner.uln}-20261128.csv"'
    )
    downloaded = b"".join(response.streaming_content).decode()
    assert downloaded == out
    assert len(table(downloaded)[1]) == 3


def test_the_log_page_downloads_the_report_for_a_posted_uln(
    admin_verified_client, ulns
):
    uln = next(ulns)
    log_row(OrganisationFactory.create(), uln=uln)
    page = reverse("admin:records_learnerview_access_report")

    form = admin_verified_client.get(page)
    refused = admin_verified_client.post(page, {"uln": "9276308687"})
    response = admin_verified_client.post(page, {"uln": uln})

    assert form.status_code == HTTPStatus.OK
    assert refused.status_code == HTTPStatus.OK
    assert "check for a mistyped digit" in refused.content.decode()
    downloaded = b"".join(response.streaming_content).decode()
    assert len(table(downloaded)[1]) == 1


def test_the_log_page_report_needs_view_learnerview(assessor):
    page = reverse("admin:records_learnerview_access_report")

    response = verified_client(assessor).get(page)

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_the_report_date_is_utc_whatever_the_sites_time_zone(ulns):
    uln = next(ulns)
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 BST on 2 July
    log_row(OrganisationFactory.create(), uln=uln, when=summer)

    out, _ = run_command(uln)

    assert table(out)[1][0][0] == "2026-07-01 23:30:00"


def test_a_caseworker_downloads_the_report_from_the_log_page(caseworker, ulns, caplog):
    uln = next(ulns)
    log_row(OrganisationFactory.create(), uln=uln)

    with caplog.at_level(logging.INFO):
        response = verified_client(caseworker).post(
            reverse("admin:records_learnerview_access_report"), {"uln": uln}
        )

    assert response.status_code == HTTPStatus.OK
    # The download is in the log, without the learner: the trail says which.
    downloaded = [r for r in caplog.records if "access report" in r.getMessage()]
    assert downloaded
    assert all(uln not in str(vars(record)) for record in caplog.records)
    assert len(table(b"".join(response.streaming_content).decode())[1]) == 1
