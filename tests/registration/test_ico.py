import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import factory
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from factory.django import DjangoModelFactory

from registration.ico import (
    IcoImportProgress,
    IcoRegisterFormatError,
    ico_register_import,
    ico_verify,
)
from registration.models import IcoRegistration

pytestmark = pytest.mark.django_db

HEADER = [
    "Registration_number",
    "Organisation_name",
    "Organisation_address_line_1",
    "Organisation_address_line_2",
    "Organisation_address_line_3",
    "Organisation_address_line_4",
    "Organisation_address_line_5",
    "Organisation_postcode",
    "Public_authority",
    "Start_date_of_registration",
    "End_date_of_registration",
    "Trading_names",
    "Payment_tier",
    "DPO_or_Person_responsible_for_DP_Email",
]


def register_row(number: str, name: str, **values: str) -> list[str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        Registration_number=number,
        Organisation_name=name,
        Start_date_of_registration="01/04/2026",
        End_date_of_registration="31/03/2027",
        Payment_tier="Tier 1",
        Public_authority="N",
    )
    row.update(values)
    return [row[column] for column in HEADER]


NORTHFIELD = register_row(
    "Z1234567",
    "NORTHFIELD COLLEGE LIMITED",
    Organisation_address_line_1="1 College Road",
    Organisation_address_line_2="Leeds",
    Organisation_postcode="LS2 9JT",
    Trading_names="Northfield College; Northfield Adult Learning",
    Payment_tier="Tier 2",
)
RIVERSIDE = register_row(
    "ZA123456",
    "RIVERSIDE TRAINING LTD",
    Start_date_of_registration="2026-06-01",
    End_date_of_registration="2027-05-31",
)


def write_register(
    path: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    bom: bool = False,
    newline: str = "\n",
) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    return path


@pytest.fixture
def register(tmp_path):
    return write_register(tmp_path / "register.csv", [NORTHFIELD, RIVERSIDE])


class IcoRegistrationFactory(DjangoModelFactory[IcoRegistration]):
    class Meta:
        model = IcoRegistration

    registration_number = factory.Sequence(lambda n: f"Z{n:07d}")
    organisation_name = "NORTHFIELD COLLEGE LIMITED"
    trading_names = "Northfield College\nNorthfield Adult Learning"
    payment_tier = "Tier 2"
    start_date = date(2026, 4, 1)
    end_date = date(2027, 3, 31)


# --- importing ----------------------------------------------------------------


def test_it_adds_each_registration_with_its_details(register):
    summary = ico_register_import(path=register)

    assert (summary.rows_read, summary.added, summary.rejected) == (2, 2, 0)
    northfield = IcoRegistration.objects.get(registration_number="Z1234567")
    assert northfield.organisation_name == "NORTHFIELD COLLEGE LIMITED"
    assert northfield.address == "1 College Road\nLeeds"
    assert northfield.postcode == "LS2 9JT"
    assert northfield.trading_names == "Northfield College\nNorthfield Adult Learning"
    assert northfield.payment_tier == "Tier 2"
    assert northfield.public_authority is False
    assert (northfield.start_date, northfield.end_date) == (
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    riverside = IcoRegistration.objects.get(registration_number="ZA123456")
    assert (riverside.start_date, riverside.end_date) == (
        date(2026, 6, 1),
        date(2027, 5, 31),
    )


def test_importing_the_same_file_twice_adds_and_updates_nothing(register):
    ico_register_import(path=register)
    first = dict(IcoRegistration.objects.values_list("pk", "imported_at"))

    summary = ico_register_import(path=register)

    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 2)
    assert dict(IcoRegistration.objects.values_list("pk", "imported_at")) == first


def test_a_changed_registration_is_updated_and_the_rest_left_alone(tmp_path, register):
    ico_register_import(path=register)
    renewed = register_row(
        "ZA123456",
        "RIVERSIDE TRAINING LTD",
        Start_date_of_registration="01/06/2027",
        End_date_of_registration="31/05/2028",
    )
    changed = write_register(tmp_path / "next.csv", [NORTHFIELD, renewed])

    summary = ico_register_import(path=changed)

    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    riverside = IcoRegistration.objects.get(registration_number="ZA123456")
    assert riverside.end_date == date(2028, 5, 31)
    assert IcoRegistration.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (register_row("X12", "A LTD"), 'bad registration number "X12"'),
        (register_row("", "A LTD"), 'bad registration number ""'),
        (register_row("Z7654321", ""), "no organisation name"),
        (
            register_row("Z7654321", "A LTD", End_date_of_registration="31/02/2027"),
            'End_date_of_registration "31/02/2027" is not a real date',
        ),
        (
            register_row("Z7654321", "A LTD", Start_date_of_registration="2026-13-01"),
            'Start_date_of_registration "2026-13-01" is not a real date',
        ),
        (
            register_row("Z7654321", "A LTD", End_date_of_registration="next year"),
            'End_date_of_registration "next year" is not a date like 31/12/2025',
        ),
        (
            register_row("Z7654321", "A LTD", End_date_of_registration="31/03/2020"),
            "End_date_of_registration is before Start_date_of_registration",
        ),
        (
            register_row("Z1234567", "NORTHFIELD AGAIN"),
            "registration number Z1234567 is repeated",
        ),
    ],
)
def test_it_rejects_a_row_it_cannot_use_with_its_line_and_reason(tmp_path, row, reason):
    path = write_register(tmp_path / "r.csv", [NORTHFIELD, row, RIVERSIDE])

    summary = ico_register_import(path=path)

    assert (summary.rows_read, summary.added, summary.rejected) == (3, 2, 1)
    assert [(r.line, r.reason) for r in summary.rejections] == [(3, reason)]
    assert not IcoRegistration.objects.filter(organisation_name="A LTD").exists()


def test_it_accepts_dates_with_a_time_and_empty_dates(tmp_path):
    rows = [
        register_row(
            "Z7654321",
            "A LTD",
            Start_date_of_registration="01/04/2026 00:00:00",
            End_date_of_registration="2027-03-31T00:00:00",
        ),
        register_row("Z7654322", "B LTD", End_date_of_registration=""),
    ]

    ico_register_import(path=write_register(tmp_path / "r.csv", rows))

    a, b = IcoRegistration.objects.order_by("registration_number")
    assert (a.start_date, a.end_date) == (date(2026, 4, 1), date(2027, 3, 31))
    assert b.end_date is None


def test_a_file_missing_required_columns_changes_nothing(tmp_path):
    IcoRegistrationFactory.create(registration_number="Z1234567")
    header = [
        c
        for c in HEADER
        if c not in {"Organisation_name", "Start_date_of_registration"}
    ]
    path = write_register(
        tmp_path / "r.csv", [["ZA123456"] * len(header)], header=header
    )

    with pytest.raises(IcoRegisterFormatError) as excinfo:
        ico_register_import(path=path)

    assert (
        "missing required columns: Organisation_name, Start_date_of_registration"
        in str(excinfo.value)
    )
    assert list(
        IcoRegistration.objects.values_list("registration_number", flat=True)
    ) == ["Z1234567"]


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(IcoRegisterFormatError, match="no header row"):
        ico_register_import(path=path)


def test_it_reads_a_byte_order_mark_and_crlf_line_endings(tmp_path):
    path = write_register(
        tmp_path / "r.csv", [NORTHFIELD, RIVERSIDE], bom=True, newline="\r\n"
    )

    summary = ico_register_import(path=path)

    assert (summary.added, summary.rejected) == (2, 0)
    northfield = IcoRegistration.objects.get(registration_number="Z1234567")
    assert northfield.payment_tier == "Tier 2"  # not "Tier 2\r"


def test_it_reads_quoted_fields_with_commas_quotes_and_line_breaks(tmp_path):
    rows = [
        register_row(
            "Z7654321",
            'SMITH, JONES & CO "TRAINING" LTD',
            Organisation_address_line_1="Unit 4, Riverside Park",
            Trading_names="Smith Jones\nSJ Training",
        ),
        register_row("bad", "B LTD"),
    ]
    path = write_register(tmp_path / "r.csv", rows)
    assert path.read_text().count("\n") == 4  # the line break inside a field adds one

    summary = ico_register_import(path=path)

    found = IcoRegistration.objects.get()
    assert found.organisation_name == 'SMITH, JONES & CO "TRAINING" LTD'
    assert found.address == "Unit 4, Riverside Park"
    assert found.trading_names == "Smith Jones\nSJ Training"
    assert [r.line for r in summary.rejections] == [4]  # its physical line


def test_it_matches_headers_ignoring_case_and_surrounding_spaces(tmp_path):
    header = [f" {c.upper()} " for c in HEADER]

    ico_register_import(
        path=write_register(tmp_path / "r.csv", [NORTHFIELD], header=header)
    )

    assert (
        IcoRegistration.objects.get().organisation_name == "NORTHFIELD COLLEGE LIMITED"
    )


def test_it_cuts_over_long_optional_values_rather_than_lose_the_registration(tmp_path):
    row = register_row(
        "Z7654321", "A LTD", Organisation_postcode="LS2 9JT LEEDS ENGLAND"
    )

    ico_register_import(path=write_register(tmp_path / "r.csv", [row]))

    assert IcoRegistration.objects.get().postcode == "LS2 9JT LEED"


def test_a_byte_that_is_not_utf8_does_not_stop_the_import(tmp_path):
    path = write_register(tmp_path / "r.csv", [NORTHFIELD, RIVERSIDE])
    path.write_bytes(path.read_bytes().replace(b"RIVERSIDE", b"RIVERSIDE \xff"))

    summary = ico_register_import(path=path)

    assert summary.added == 2
    riverside = IcoRegistration.objects.get(registration_number="ZA123456")
    assert riverside.organisation_name == "RIVERSIDE \ufffd TRAINING LTD"


def test_an_unreadable_record_is_rejected_and_the_rest_imported(tmp_path):
    huge = register_row("Z7654321", "A LTD", Trading_names="x" * 200)
    path = write_register(tmp_path / "r.csv", [NORTHFIELD, huge, RIVERSIDE])
    limit = csv.field_size_limit(100)
    try:
        summary = ico_register_import(path=path)
    finally:
        csv.field_size_limit(limit)

    assert summary.added == 2
    assert summary.rejections[0].line == 3
    assert "unreadable CSV" in summary.rejections[0].reason


def test_it_imports_ten_thousand_rows_in_batches(
    tmp_path, django_assert_max_num_queries
):
    rows = [register_row(f"Z{n:07d}", f"PROVIDER {n} LTD") for n in range(10_000)]
    path = write_register(tmp_path / "big.csv", rows)
    progress: list[IcoImportProgress] = []

    # 5 batches, each a savepoint, a read and an upsert: 20 queries on PostgreSQL.
    # SQLite splits each upsert into 99-row inserts (its 999-parameter limit): 120.
    limit = 25 if connection.vendor == "postgresql" else 125
    with django_assert_max_num_queries(limit):
        summary = ico_register_import(
            path=path, batch_size=2000, on_progress=progress.append
        )

    assert (summary.rows_read, summary.added) == (10_000, 10_000)
    assert IcoRegistration.objects.count() == 10_000
    assert [p.rows_read for p in progress] == [2000, 4000, 6000, 8000, 10_000, 10_000]
    assert progress[-1].bytes_read == progress[-1].bytes_total


def test_it_lists_only_the_first_rejections(tmp_path):
    rows = [register_row(f"BAD{n}", "A LTD") for n in range(5)]
    with mock.patch("registration.ico.register.MAX_LISTED_REJECTIONS", 2):
        summary = ico_register_import(path=write_register(tmp_path / "r.csv", rows))

    assert summary.rejected == 5
    assert len(summary.rejections) == 2


# --- the command --------------------------------------------------------------


def test_the_command_prints_a_summary_with_each_rejected_row(tmp_path, capsys):
    path = write_register(
        tmp_path / "r.csv", [NORTHFIELD, register_row("X12", "A LTD"), RIVERSIDE]
    )

    call_command("import_ico_register", str(path))

    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "Rows read: 3",
        "Added: 2",
        "Updated: 0",
        "Unchanged: 0",
        "Rejected: 1",
        '  Line 3: bad registration number "X12"',
    ]
    assert "[##############################] 100%  3 rows" in captured.err


def test_the_command_says_how_many_rejections_it_did_not_list(tmp_path, capsys):
    rows = [register_row(f"BAD{n}", "A LTD") for n in range(3)]
    with mock.patch("registration.ico.register.MAX_LISTED_REJECTIONS", 1):
        call_command(
            "import_ico_register", str(write_register(tmp_path / "r.csv", rows))
        )

    assert "… and 2 more rejected rows, not listed" in capsys.readouterr().out


def test_the_command_stops_on_a_file_missing_required_columns(tmp_path):
    path = write_register(
        tmp_path / "r.csv", [["Z1234567"]], header=["Registration_number"]
    )

    with pytest.raises(CommandError, match="missing required columns") as excinfo:
        call_command("import_ico_register", str(path))

    assert "Organisation_name" in str(excinfo.value)
    assert not IcoRegistration.objects.exists()


def test_the_command_stops_when_there_is_no_file(tmp_path):
    with pytest.raises(CommandError, match="No file at"):
        call_command("import_ico_register", str(tmp_path / "missing.csv"))


# --- verifying a registration -------------------------------------------------

TODAY = date(2026, 11, 28)


def test_a_current_registration_under_the_same_name_passes():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    found = ico_verify(
        ico_number=" z1234567 ", organisation_name="Northfield College Ltd", on=TODAY
    )

    assert (found.result, found.code) == ("pass", "registered")
    assert found.message == (
        "Z1234567 is registered to NORTHFIELD COLLEGE LIMITED until 31 March 2027."
    )


def test_a_trading_name_counts_as_the_same_organisation():
    IcoRegistrationFactory.create(
        registration_number="Z1234567", organisation_name="NORTHFIELD EDUCATION TRUST"
    )

    found = ico_verify(
        ico_number="Z1234567", organisation_name="Northfield Adult Learning", on=TODAY
    )

    assert found.result == "pass"


def test_a_registration_is_valid_on_its_end_date():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    assert (
        ico_verify(
            ico_number="Z1234567",
            organisation_name="NORTHFIELD COLLEGE LIMITED",
            on=date(2027, 3, 31),
        ).result
        == "pass"
    )


def test_a_lapsed_registration_fails_saying_when_it_lapsed():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    found = ico_verify(
        ico_number="Z1234567",
        organisation_name="NORTHFIELD COLLEGE LIMITED",
        on=date(2027, 4, 1),
    )

    assert (found.result, found.code) == ("fail", "lapsed")
    assert "lapsed on 31 March 2027" in found.message


def test_a_different_name_needs_review():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    found = ico_verify(
        ico_number="Z1234567", organisation_name="Southfield Training Ltd", on=TODAY
    )

    assert (found.result, found.code) == ("needs_review", "name_mismatch")
    assert (
        "“NORTHFIELD COLLEGE LIMITED”, not “Southfield Training Ltd”" in found.message
    )


def test_a_number_not_on_the_register_fails():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    found = ico_verify(ico_number="ZA999999", organisation_name="A Ltd", on=TODAY)

    assert (found.result, found.code) == ("fail", "not_found")
    assert "no registration number ZA999999" in found.message


def test_with_no_register_imported_a_caseworker_must_check():
    found = ico_verify(ico_number="Z1234567", organisation_name="A Ltd", on=TODAY)

    assert (found.result, found.code) == ("needs_review", "register_not_imported")


def test_an_invalid_number_fails_without_a_lookup(django_assert_num_queries):
    with django_assert_num_queries(0):
        found = ico_verify(ico_number="12345", organisation_name="A Ltd", on=TODAY)

    assert (found.result, found.code) == ("fail", "invalid_number")


def test_a_registration_without_an_end_date_needs_review():
    IcoRegistrationFactory.create(registration_number="Z1234567", end_date=None)

    found = ico_verify(
        ico_number="Z1234567", organisation_name="Northfield College", on=TODAY
    )

    assert (found.result, found.code) == ("needs_review", "no_end_date")


def test_it_checks_against_today_by_default():
    IcoRegistrationFactory.create(
        registration_number="Z1234567",
        end_date=timezone.localdate() - timedelta(days=1),
    )

    found = ico_verify(ico_number="Z1234567", organisation_name="Northfield College")

    assert found.result == "fail"


def test_the_evidence_is_json_for_the_check_record():
    IcoRegistrationFactory.create(registration_number="Z1234567")

    evidence = ico_verify(
        ico_number="Z1234567", organisation_name="Northfield College", on=TODAY
    ).evidence

    assert json.loads(json.dumps(evidence))["end_date"] == "2027-03-31"
    assert evidence["trading_names"] == [
        "Northfield College",
        "Northfield Adult Learning",
    ]


# --- registrations that leave the register (issue 19) ---------------------------------


def test_a_complete_file_marks_a_registration_it_no_longer_lists_as_removed(
    tmp_path, register
):
    ico_register_import(path=register)
    without_riverside = write_register(tmp_path / "next.csv", [NORTHFIELD])

    summary = ico_register_import(path=without_riverside, complete=True)

    assert summary.removed == 1
    gone = IcoRegistration.objects.get(registration_number="ZA123456")
    assert gone.removed_at is not None
    kept = IcoRegistration.objects.get(registration_number="Z1234567")
    assert kept.removed_at is None
    assert ico_verify(ico_number="ZA123456", organisation_name="RIVERSIDE").code == (
        "not_found"
    )


def test_a_partial_file_marks_nothing_removed(tmp_path, register):
    ico_register_import(path=register)

    summary = ico_register_import(path=write_register(tmp_path / "p.csv", [NORTHFIELD]))

    assert summary.removed == 0
    assert not IcoRegistration.objects.filter(removed_at__isnull=False).exists()


def test_a_complete_file_with_a_rejected_row_marks_nothing_removed(tmp_path, register):
    ico_register_import(path=register)
    path = write_register(tmp_path / "bad.csv", [NORTHFIELD, register_row("X1", "A")])

    summary = ico_register_import(path=path, complete=True)

    assert summary.removed == 0
    assert "rows were rejected" in summary.removal_skipped
    assert not IcoRegistration.objects.filter(removed_at__isnull=False).exists()


def test_a_removed_registration_listed_again_is_current_again(tmp_path, register):
    ico_register_import(path=register)
    ico_register_import(
        path=write_register(tmp_path / "next.csv", [NORTHFIELD]), complete=True
    )

    summary = ico_register_import(path=register, complete=True)

    assert summary.updated == 1
    assert not IcoRegistration.objects.filter(removed_at__isnull=False).exists()


def test_the_command_marks_removed_only_with_complete(tmp_path, register, capsys):
    ico_register_import(path=register)
    path = write_register(tmp_path / "next.csv", [NORTHFIELD])

    call_command("import_ico_register", str(path), "--complete")

    assert "Removed (no longer listed): 1" in capsys.readouterr().out
