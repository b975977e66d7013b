"""What the admin shows is written for people (issue 17): numbers with a thousands
separator and no trailing zeros, dates as GOV.UK writes them, recorded evidence
as labelled rows with the raw record one click away."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lrs_portal.admin_display import evidence, number, share, when


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (120000, "120,000"),
        (7, "7"),
        (Decimal("150.00"), "150"),
        (Decimal("2.50"), "2.5"),
        (Decimal("1234.5"), "1,234.5"),
        (Decimal("0.20"), "0.2"),
        (None, "-"),
    ],
)
def test_numbers_are_written_as_people_read_them(value, shown):
    assert number(value) == shown


def test_a_share_is_a_percentage():
    assert share(Decimal("0.20")) == "20%"
    assert share(Decimal("0.125")) == "12.5%"


def test_dates_and_times_are_written_in_full_in_uk_time():
    summer = datetime(2026, 7, 6, 18, 52, tzinfo=UTC)  # 19:52 BST

    assert when(summer) == "6 July 2026, 19:52"
    assert when(date(2026, 12, 6)) == "6 December 2026"
    assert when(None) == ""


def test_evidence_is_labelled_rows_with_the_raw_record_behind_them():
    shown = evidence(
        {
            "company_number": "01234567",
            "fetched_at": "2026-12-06T18:52:00+00:00",
            "accounts_uploaded": False,
            "findings": [{"severity": "review", "message": "Accounts overdue"}],
            "trading_names": [],
            "payment_tier": 1,
        },
        {"company_number": "Company number", "fetched_at": "Read"},
    )

    assert '<th scope="row">Company number</th><td>01234567</td>' in shown
    assert "<td>6 December 2026, 18:52</td>" in shown
    assert '<th scope="row">Accounts uploaded</th><td>No</td>' in shown
    assert "Accounts overdue" in shown
    assert '<th scope="row">Trading names</th><td>Not recorded</td>' in shown
    assert "<details" in shown
    assert "&quot;company_number&quot;" in shown


def test_evidence_is_escaped():
    shown = evidence({"company_name": "<script>alert(1)</script>"}, {})

    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown


def test_no_evidence_says_so():
    assert "Nothing was recorded." in evidence({}, {})
