import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from records.csv_import import (
    CsvFormatError,
    ImportProgress,
    ProgressBar,
    RejectedRow,
)
from records.loading import (
    ACHIEVEMENT_COLUMNS,
    LEARNER_COLUMNS,
    achievements_import,
    learners_import,
    normalise_postcode,
)
from records.models import Achievement, Learner
from tests.records.factories import LearnerFactory, nth_uln

pytestmark = pytest.mark.django_db

AMELIA = {
    "uln": "9276308686",
    "given_name": "Amelia",
    "middle_names": "Rose",
    "family_name": "Hughes",
    "previous_family_name": "",
    "date_of_birth": "2007-05-14",
    "gender": "2",
    "postcode": "LS2 9JT",
    "email": "amelia.hughes@example.com",
}
OLIVER = {
    **AMELIA,
    "uln": nth_uln(1),
    "given_name": "Oliver",
    "middle_names": "",
    "family_name": "Bennett",
    "date_of_birth": "2005-03-02",
    "gender": "1",
    "postcode": "M14 5RT",
    "email": "",
}


# On PostgreSQL a learners file is screened in SQL when PostgreSQL reads it as
# Python does, and read row by row otherwise; every test here runs with both
# readers (the second by making the screen decline every file), and gives the
# same outcome, except those marked for the screen alone.
READERS = ("screened", "row by row")


def pytest_generate_tests(metafunc):
    if "reader" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("screen_only")
        metafunc.parametrize("reader", READERS[:1] if only else READERS, indirect=True)


@pytest.fixture(autouse=True)
def reader(request, monkeypatch):
    from records import loading

    if request.param == "row by row":
        monkeypatch.setattr(loading, "learners_screened", lambda *args, **kwargs: False)
    return request.param


# Cells close to the edges of the checks, for the SQL screen's property test.
CELL_ALPHABET = "0123456789-@. abAZ'é\t"
MUTATIONS = {
    "uln": ["9276308687", "9999999999", "0276308686", " 9276308686", "927630868"],
    "given_name": ["", " ", "A" * 35, "A" * 36, "Zoë", "a\tb", "O'Neil"],
    "middle_names": ["", "B" * 70, "B" * 71],
    "family_name": ["", "C" * 35, "C" * 36, "Smith-Jones"],
    "previous_family_name": ["", "D" * 35, "D" * 36],
    "date_of_birth": [
        "2004-02-29",
        "2001-02-29",
        "1900-02-29",
        "2000-02-29",
        "2001-04-31",
        "1899-12-31",
        "1900-01-01",
        "2999-01-01",
        "2001-00-10",
        "2001-10-00",
        " 2001-10-10",
    ],
    "gender": ["0", "1", "9", "3", " 2", "02", "F"],
    "postcode": [
        "ls2 9jt",
        "LS29JT",
        "BFPO 57",
        "BFPO 12345",
        "GIR 0AA",
        "LS2 9CI",
        "EC1A 1BB",
        "W1A 0AX",
        " M1 1AE ",
    ],
    "email": [
        "",
        "a@b.co",
        "a@b",
        "a@-b.com",
        "a@b.c0m",
        "a..b@c.com",
        "a@b-.com",
        "A@B.CO",
        "a" * 243 + "@example.com",
    ],
}


def learner(**changes: str) -> dict[str, str]:
    return {**AMELIA, "uln": nth_uln(7), **changes}


def write(
    path: Path, rows: list[dict[str, str]], columns=LEARNER_COLUMNS, header=None
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header or columns)
        writer.writerows([row[column] for column in columns] for row in rows)
    return path


@dataclass
class Run:
    out: str
    err: str
    error: CommandError | None


def run(command: str, path: Path, **options) -> Run:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), stdout=out, stderr=err, **options)
    except CommandError as exc:
        return Run(out.getvalue(), err.getvalue(), exc)
    return Run(out.getvalue(), err.getvalue(), None)


def reported(err: str, line: int) -> str:
    """What stderr says about a line ("" if nothing)."""
    prefix = f"Line {line}: "
    found = [
        text[len(prefix) :] for text in err.splitlines() if text.startswith(prefix)
    ]
    return "\n".join(found)


def ulns() -> set[str]:
    return set(Learner.objects.values_list("uln", flat=True))


# --- Learners: good rows load -----------------------------------------------------


def test_it_adds_each_learner_with_their_details(tmp_path):
    result = run("import_learners", write(tmp_path / "l.csv", [AMELIA, OLIVER]))

    assert result.error is None
    amelia = Learner.objects.get(uln="9276308686")
    assert (amelia.given_name, amelia.middle_names, amelia.family_name) == (
        "Amelia",
        "Rose",
        "Hughes",
    )
    assert amelia.date_of_birth.isoformat() == "2007-05-14"
    assert amelia.gender == Learner.Gender.FEMALE
    assert amelia.postcode == "LS2 9JT"
    assert amelia.email == "amelia.hughes@example.com"
    assert amelia.ability_to_share == Learner.AbilityToShare.NOT_PROVIDED
    assert Learner.objects.get(uln=OLIVER["uln"]).email == ""


def test_the_summary_counts_rows_on_stdout_and_the_progress_bar_goes_to_stderr(
    tmp_path,
):
    result = run("import_learners", write(tmp_path / "l.csv", [AMELIA, OLIVER]))

    assert result.out.splitlines() == [
        "Rows read: 2",
        "Added: 2",
        "Updated: 0",
        "Unchanged: 0",
        "Rejected: 0",
    ]
    assert "100%" in result.err


def test_names_keep_their_accents_apostrophes_and_hyphens(tmp_path):
    row = learner(given_name="Siân", family_name="O'Brien-Nowak", middle_names="Zoë")

    run("import_learners", write(tmp_path / "l.csv", [row]))

    stored = Learner.objects.get(uln=row["uln"])
    assert (stored.given_name, stored.middle_names, stored.family_name) == (
        "Siân",
        "Zoë",
        "O'Brien-Nowak",
    )


def test_surrounding_spaces_are_trimmed(tmp_path):
    row = learner(given_name="  Amelia ", family_name=" Hughes", uln=" 9276308686 ")

    run("import_learners", write(tmp_path / "l.csv", [row]))

    stored = Learner.objects.get(uln="9276308686")
    assert (stored.given_name, stored.family_name) == ("Amelia", "Hughes")


def test_a_file_with_a_byte_order_mark_and_windows_line_endings_loads(tmp_path):
    text = ",".join(LEARNER_COLUMNS) + "\r\n"
    text += ",".join(AMELIA[c] for c in LEARNER_COLUMNS) + "\r\n"
    path = tmp_path / "l.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())

    result = run("import_learners", path)

    assert result.error is None
    assert ulns() == {"9276308686"}


def test_the_columns_may_come_in_any_order_and_case(tmp_path):
    columns = list(reversed(LEARNER_COLUMNS))
    header = [column.upper() for column in columns]

    run("import_learners", write(tmp_path / "l.csv", [AMELIA], columns, header))

    assert Learner.objects.get(uln="9276308686").given_name == "Amelia"


# --- Learners: every bad row is reported, with its line --------------------------

BAD_LEARNERS = [
    pytest.param(
        {"uln": "9276308687"},
        'uln "9276308687": this ULN is not valid: check for a mistyped digit',
        id="bad check digit",
    ),
    pytest.param(
        {"uln": "0000000042"},
        'uln "0000000042": a ULN cannot start with 0',
        id="leading zero",
    ),
    pytest.param(
        {"uln": "9999999999"},
        "9999999999 is the temporary ULN, not a learner's own number",
        id="temporary ULN",
    ),
    pytest.param({"uln": "927630868"}, "a ULN is 10 digits", id="nine digits"),
    pytest.param({"uln": ""}, 'uln "": enter a ULN', id="no ULN"),
    pytest.param(
        {"date_of_birth": "2001-02-30"},
        'date_of_birth "2001-02-30" is not a real date',
        id="impossible date",
    ),
    pytest.param(
        {"date_of_birth": "14/05/2007"},
        'date_of_birth "14/05/2007" is not a date like 2007-05-14',
        id="date not yyyy-mm-dd",
    ),
    pytest.param(
        {"date_of_birth": "2099-01-01"},
        "date_of_birth 2099-01-01 is in the future",
        id="born in the future",
    ),
    pytest.param(
        {"date_of_birth": "1899-12-31"},
        "date_of_birth 1899-12-31 is before 1900",
        id="born before 1900",
    ),
    pytest.param(
        {"date_of_birth": ""}, "date_of_birth is missing", id="no date of birth"
    ),
    pytest.param(
        {"gender": "3"},
        'gender "3" is not one of 0 (not known), 1 (male), 2 (female), '
        "9 (not specified)",
        id="unknown gender code",
    ),
    pytest.param({"gender": "F"}, 'gender "F" is not one of', id="gender letter"),
    pytest.param({"given_name": ""}, "given_name is missing", id="no given name"),
    pytest.param({"family_name": "   "}, "family_name is missing", id="no family name"),
    pytest.param(
        {"given_name": "A" * 36},
        "given_name is 36 characters long; the most is 35",
        id="long given name",
    ),
    pytest.param(
        {"middle_names": "B" * 71},
        "middle_names is 71 characters long; the most is 70",
        id="long middle names",
    ),
    pytest.param(
        {"family_name": "C" * 36},
        "family_name is 36 characters long; the most is 35",
        id="long family name",
    ),
    pytest.param(
        {"previous_family_name": "D" * 36},
        "previous_family_name is 36 characters long; the most is 35",
        id="long previous family name",
    ),
    pytest.param(
        {"email": "amelia@"},
        'email "amelia@" is not an email address',
        id="bad email",
    ),
    pytest.param(
        {"email": "amelia hughes@example.com"},
        "is not an email address",
        id="email with a space",
    ),
    pytest.param(
        {"email": "a" * 250 + "@example.com"},
        "email is 262 characters long; the most is 254",
        id="long email",
    ),
    pytest.param(
        {"postcode": "LS2 9JTX"},
        'postcode "LS2 9JTX" is not a UK postcode like LS2 9JT (or BFPO 1234)',
        id="bad postcode",
    ),
    pytest.param({"postcode": "LS2 9CI"}, "is not a UK postcode", id="inward CI"),
    pytest.param({"postcode": ""}, "postcode is missing", id="no postcode"),
    pytest.param(
        {"given_name": "Ame\tlia"},
        "contains a line break, tab or other control character",
        id="control character",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_LEARNERS)
def test_a_bad_row_is_reported_with_its_line_and_the_good_rows_load(
    tmp_path, changes, reason
):
    path = write(tmp_path / "l.csv", [AMELIA, learner(**changes), OLIVER])

    result = run("import_learners", path)

    assert reason in reported(result.err, 3)
    assert "Line 3" not in result.out
    assert ulns() == {AMELIA["uln"], OLIVER["uln"]}
    assert "Added: 2" in result.out
    assert "Rejected: 1" in result.out


def test_a_file_with_a_bad_row_makes_the_command_fail_after_loading_the_rest(
    tmp_path,
):
    path = write(tmp_path / "l.csv", [AMELIA, learner(gender="7")])

    result = run("import_learners", path)

    assert result.error is not None
    assert result.error.returncode == 1
    assert "1 row was rejected" in str(result.error)
    assert ulns() == {AMELIA["uln"]}


def test_every_problem_in_a_row_is_given(tmp_path):
    bad = learner(uln="9276308687", gender="5", postcode="nowhere")

    result = run("import_learners", write(tmp_path / "l.csv", [bad]))

    line = next(line for line in result.err.splitlines() if line.startswith("Line"))
    assert "mistyped digit" in line
    assert 'gender "5"' in line
    assert 'postcode "nowhere"' in line


def test_a_repeated_uln_is_reported_on_its_later_line_and_the_first_loads(tmp_path):
    again = {**AMELIA, "given_name": "Emily"}
    path = write(tmp_path / "l.csv", [AMELIA, OLIVER, again])

    result = run("import_learners", path)

    assert "Line 4: uln 9276308686 is repeated: it is also on line 2" in result.err
    assert Learner.objects.get(uln="9276308686").given_name == "Amelia"


def test_a_repeat_of_a_rejected_row_is_not_a_repeat(tmp_path):
    path = write(tmp_path / "l.csv", [{**AMELIA, "gender": "4"}, AMELIA])

    result = run("import_learners", path)

    assert "Line 2: gender" in result.err
    assert "Line 3" not in result.err
    assert ulns() == {AMELIA["uln"]}


def test_a_row_with_too_few_values_is_reported(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text(
        ",".join(LEARNER_COLUMNS)
        + "\n"
        + ",".join(AMELIA[c] for c in LEARNER_COLUMNS[:-1])
        + "\n"
    )

    result = run("import_learners", path)

    assert "Line 2: has 8 values, expected 9" in result.err
    assert not ulns()


def test_line_numbers_count_the_lines_inside_quoted_values(tmp_path):
    path = write(
        tmp_path / "l.csv",
        [learner(given_name="Amelia\nRose"), OLIVER, {**OLIVER, "uln": "1"}],
    )

    result = run("import_learners", path)

    assert "Line 2: contains a line break" in result.err
    assert 'Line 5: uln "1"' in result.err
    assert ulns() == {OLIVER["uln"]}


def test_a_row_that_is_not_utf8_is_reported(tmp_path):
    path = write(tmp_path / "l.csv", [AMELIA, OLIVER])
    path.write_bytes(path.read_bytes().replace(b"Oliver", b"Oliv\xe9r"))

    result = run("import_learners", path)

    assert "Line 3: is not UTF-8 text" in result.err
    assert ulns() == {AMELIA["uln"]}


def test_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path / "l.csv", [AMELIA, OLIVER])
    path.write_text(path.read_text().replace("\n", "\n\n", 1))

    result = run("import_learners", path)

    assert result.error is None
    assert "Rows read: 2" in result.out


def test_the_service_reports_each_rejected_row_as_it_goes(tmp_path):
    path = write(tmp_path / "l.csv", [learner(gender="3"), AMELIA, OLIVER])
    seen: list[RejectedRow] = []

    summary = learners_import(path=path, on_reject=seen.append)

    assert [(row.line, row.reason[:6]) for row in seen] == [(2, "gender")]
    assert summary.rejections == seen
    assert (summary.rows_read, summary.added, summary.rejected) == (3, 2, 1)


# --- Learners: the header --------------------------------------------------------


def test_a_header_missing_columns_names_them_and_changes_nothing(tmp_path):
    LearnerFactory.create(uln=OLIVER["uln"], given_name="Before")
    columns = [c for c in LEARNER_COLUMNS if c not in {"gender", "email"}]
    path = write(tmp_path / "l.csv", [AMELIA, {**OLIVER, "given_name": "X"}], columns)

    result = run("import_learners", path)

    assert result.error is not None
    assert "missing columns: gender, email" in str(result.error)
    assert "Nothing was imported" in str(result.error)
    assert ulns() == {OLIVER["uln"]}
    assert Learner.objects.get().given_name == "Before"


def test_an_achievements_file_is_not_taken_for_learners(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(",".join(ACHIEVEMENT_COLUMNS) + "\n")

    result = run("import_learners", path)

    assert result.error is not None
    assert "missing columns: given_name, middle_names" in str(result.error)
    assert "unexpected columns: awarding_organisation" in str(result.error)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("")

    with pytest.raises(CsvFormatError, match="The file is empty"):
        learners_import(path=path)


def test_a_missing_file_is_refused(tmp_path):
    result = run("import_learners", tmp_path / "nothing.csv")

    assert result.error is not None
    assert "No file at" in str(result.error)


# --- Learners: loading again -------------------------------------------------------


def test_loading_the_same_file_again_changes_nothing(tmp_path):
    path = write(tmp_path / "l.csv", [AMELIA, OLIVER, learner(postcode="ls29jt")])
    run("import_learners", path)
    before = dict(Learner.objects.values_list("uln", "updated_at"))

    result = run("import_learners", path)

    assert "Added: 0\nUpdated: 0\nUnchanged: 3" in result.out
    assert dict(Learner.objects.values_list("uln", "updated_at")) == before


def test_a_changed_learner_is_updated_and_only_its_updated_at_moves(tmp_path):
    learners_import(path=write(tmp_path / "a.csv", [AMELIA, OLIVER]))
    Learner.objects.filter(uln=AMELIA["uln"]).update(ability_to_share=1)
    before = dict(Learner.objects.values_list("uln", "updated_at"))
    moved = {**AMELIA, "postcode": "M1 1AE", "previous_family_name": "Jones"}

    summary = learners_import(path=write(tmp_path / "b.csv", [moved, OLIVER]))

    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    amelia = Learner.objects.get(uln=AMELIA["uln"])
    assert (amelia.postcode, amelia.previous_family_name) == ("M1 1AE", "Jones")
    assert amelia.updated_at > before[AMELIA["uln"]]
    assert amelia.ability_to_share == 1  # not in the file, so left alone
    oliver = Learner.objects.get(uln=OLIVER["uln"])
    assert oliver.updated_at == before[OLIVER["uln"]]


def test_a_new_learner_in_a_later_file_is_added_beside_the_others(tmp_path):
    learners_import(path=write(tmp_path / "a.csv", [AMELIA]))

    summary = learners_import(path=write(tmp_path / "b.csv", [AMELIA, OLIVER]))

    assert (summary.added, summary.updated, summary.unchanged) == (1, 0, 1)
    assert ulns() == {AMELIA["uln"], OLIVER["uln"]}


# --- Postcodes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ls29jt", "LS2 9JT"),
        ("LS2 9JT", "LS2 9JT"),
        (" sw1a   1aa ", "SW1A 1AA"),
        ("EC1A1BB", "EC1A 1BB"),
        ("w1d 3qf", "W1D 3QF"),
        ("cr02yr", "CR0 2YR"),
        ("BT71NN", "BT7 1NN"),
        ("gir0aa", "GIR 0AA"),
        ("bfpo 57", "BFPO 57"),
        ("BFPO1234", "BFPO 1234"),
    ],
)
def test_postcodes_are_stored_in_capitals_with_one_space(tmp_path, given, stored):
    run("import_learners", write(tmp_path / "l.csv", [learner(postcode=given)]))

    assert Learner.objects.get().postcode == stored


@pytest.mark.parametrize(
    "value",
    ["", "LS2", "LS2 9JTX", "QS1 1AA", "LS2 9CI", "12345", "BFPO 12345", "BFPO"],
)
def test_normalise_postcode_turns_down_what_is_not_a_uk_postcode(value):
    assert normalise_postcode(value) is None


# --- Batches (the path SQLite takes) ------------------------------------------------


def test_batches_take_a_few_queries_each_not_one_per_row(
    tmp_path, django_assert_max_num_queries
):
    rows = [learner(uln=nth_uln(n)) for n in range(300)]
    path = write(tmp_path / "l.csv", rows)

    # Per batch of 100: one read and, on SQLite, two inserts (999 parameters
    # each); and the savepoint around the import.
    with django_assert_max_num_queries(3 * 3 + 2):
        summary = learners_import(path=path, use_copy=False, batch_size=100)

    assert summary.added == 300
    # Unchanged batches are read, never written.
    with django_assert_max_num_queries(3 + 2):
        summary = learners_import(path=path, use_copy=False, batch_size=100)
    assert summary.unchanged == 300


# --- Achievements ---------------------------------------------------------------------

GCSE = {
    "uln": AMELIA["uln"],
    "awarding_organisation": "AQA",
    "qualification_title": "GCSE (9-1) in Mathematics",
    "qualification_type": "GCSE",
    "level": "2",
    "subject": "Mathematics",
    "grade": "7",
    "award_date": "2023-08-24",
    "awarding_provider_ukprn": "10034567",
}
BTEC = {
    **GCSE,
    "awarding_organisation": "Pearson",
    "qualification_title": "Pearson BTEC Level 3 National Extended Diploma in Sport",
    "qualification_type": "BTEC National",
    "level": "3",
    "subject": "Sport",
    "grade": "DDM",
    "award_date": "2025-08-14",
    "awarding_provider_ukprn": "",
}


@pytest.fixture
def amelia(db):
    return LearnerFactory.create(uln=AMELIA["uln"])


def write_achievements(path: Path, rows: list[dict[str, str]]) -> Path:
    return write(path, rows, ACHIEVEMENT_COLUMNS)


def test_it_adds_each_achievement_to_its_learner(tmp_path, amelia):
    path = write_achievements(tmp_path / "a.csv", [GCSE, BTEC])

    result = run("import_achievements", path)

    assert result.error is None
    assert "Added: 2" in result.out
    gcse = amelia.achievements.get(qualification_type="GCSE")
    assert (gcse.awarding_organisation, gcse.subject, gcse.grade) == (
        "AQA",
        "Mathematics",
        "7",
    )
    assert gcse.award_date.isoformat() == "2023-08-24"
    assert gcse.awarding_provider_ukprn == "10034567"
    assert amelia.achievements.get(level="3").awarding_provider_ukprn == ""


def test_an_achievement_for_an_unknown_uln_is_reported_and_the_rest_load(
    tmp_path, amelia
):
    stranger = {**GCSE, "uln": OLIVER["uln"]}
    path = write_achievements(tmp_path / "a.csv", [GCSE, stranger, BTEC])

    result = run("import_achievements", path)

    assert result.error is not None
    assert (
        f"Line 3: uln {OLIVER['uln']}: there is no learner with this ULN "
        "(import the learner first)"
    ) in result.err
    assert amelia.achievements.count() == 2
    assert "Rejected: 1" in result.out


def test_the_same_achievement_twice_in_a_file_is_reported_on_its_later_line(
    tmp_path, amelia
):
    path = write_achievements(tmp_path / "a.csv", [GCSE, BTEC, {**GCSE, "grade": "9"}])

    result = run("import_achievements", path)

    assert "Line 4: the same achievement" in result.err
    assert "is also on line 2" in result.err
    assert amelia.achievements.get(qualification_type="GCSE").grade == "7"


BAD_ACHIEVEMENTS = [
    pytest.param({"uln": "9276308687"}, "mistyped digit", id="bad check digit"),
    pytest.param(
        {"award_date": "2023-02-30"},
        'award_date "2023-02-30" is not a real date',
        id="impossible date",
    ),
    pytest.param(
        {"award_date": "2099-08-24"}, "is in the future", id="awarded in the future"
    ),
    pytest.param(
        {"awarding_organisation": ""},
        "awarding_organisation is missing",
        id="no awarding organisation",
    ),
    pytest.param({"subject": ""}, "subject is missing", id="no subject"),
    pytest.param(
        {"qualification_title": "T" * 256},
        "qualification_title is 256 characters long; the most is 255",
        id="long title",
    ),
    pytest.param(
        {"grade": "G" * 21}, "grade is 21 characters long; the most is 20", id="grade"
    ),
    pytest.param(
        {"awarding_provider_ukprn": "1234"},
        'awarding_provider_ukprn "1234" is not a UKPRN',
        id="bad UKPRN",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_ACHIEVEMENTS)
def test_a_bad_achievement_is_reported_with_its_line_and_the_rest_load(
    tmp_path, amelia, changes, reason
):
    path = write_achievements(tmp_path / "a.csv", [GCSE, {**BTEC, **changes}])

    result = run("import_achievements", path)

    assert reason in reported(result.err, 3)
    assert result.error is not None
    assert list(amelia.achievements.values_list("qualification_type", flat=True)) == [
        "GCSE"
    ]


def test_loading_the_same_achievements_again_changes_nothing(tmp_path, amelia):
    path = write_achievements(tmp_path / "a.csv", [GCSE, BTEC])
    run("import_achievements", path)
    before = list(Achievement.objects.order_by("pk").values())

    result = run("import_achievements", path)

    assert "Added: 0\nUpdated: 0\nUnchanged: 2" in result.out
    assert list(Achievement.objects.order_by("pk").values()) == before


def test_a_changed_grade_updates_the_achievement_in_place(tmp_path, amelia):
    achievements_import(path=write_achievements(tmp_path / "a.csv", [GCSE, BTEC]))
    pk = amelia.achievements.get(qualification_type="GCSE").pk

    summary = achievements_import(
        path=write_achievements(tmp_path / "b.csv", [{**GCSE, "grade": "8"}, BTEC])
    )

    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    assert amelia.achievements.get(pk=pk).grade == "8"


def test_an_achievements_header_missing_columns_changes_nothing(tmp_path, amelia):
    columns = [c for c in ACHIEVEMENT_COLUMNS if c != "award_date"]

    result = run("import_achievements", write(tmp_path / "a.csv", [GCSE], columns))

    assert result.error is not None
    assert "missing columns: award_date" in str(result.error)
    assert not Achievement.objects.exists()


def test_achievement_batches_take_a_few_queries_each(
    tmp_path, django_assert_max_num_queries
):
    learners = LearnerFactory.create_batch(50)
    rows = [
        {**GCSE, "uln": learner.uln, "qualification_title": f"Title {n}"}
        for learner in learners
        for n in range(4)
    ]
    path = write_achievements(tmp_path / "a.csv", rows)

    # Per batch of 100: learners, their achievements, and two inserts on SQLite.
    with django_assert_max_num_queries(2 * 4 + 2):
        summary = achievements_import(path=path, use_copy=False, batch_size=100)

    assert summary.added == 200


# --- PostgreSQL: COPY into a staging table and one upsert --------------------------


def _many(count: int) -> list[dict[str, str]]:
    return [learner(uln=nth_uln(n), given_name=f"Learner{n}") for n in range(count)]


@pytest.mark.postgres
def test_on_postgresql_the_queries_do_not_grow_with_the_rows(tmp_path):
    small = write(tmp_path / "small.csv", _many(5))
    large = write(tmp_path / "large.csv", _many(2005)[5:])

    with CaptureQueriesContext(connection) as few:
        learners_import(path=small)
    with CaptureQueriesContext(connection) as many:
        summary = learners_import(path=large)

    def work(captured):  # the statements, not the savepoints around them
        return [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]

    assert summary.added == 2000
    assert len(work(many)) == len(work(few)) <= 6
    assert any("CREATE TEMPORARY TABLE" in sql for sql in work(many))
    assert any("ON CONFLICT" in sql for sql in work(many))


def _learner_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid), c.conname FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid"
            " WHERE x.indrelid = 'records_learner'::regclass ORDER BY 1"
        )
        return cursor.fetchall()


@pytest.mark.postgres
def test_a_large_load_into_an_empty_table_rebuilds_the_same_indexes(
    tmp_path, monkeypatch
):
    from records import loading_copy

    monkeypatch.setattr(loading_copy, "REBUILD_INDEXES_FROM", 3)
    before = _learner_indexes()
    path = write(tmp_path / "l.csv", [*_many(4), {**_many(4)[0], "email": "x"}])

    with CaptureQueriesContext(connection) as captured:
        summary = learners_import(path=path)

    assert (summary.added, summary.rejected) == (4, 1)  # the repeated ULN
    sql = [q["sql"] for q in captured.captured_queries]
    assert any(s.startswith("DROP INDEX") for s in sql)
    assert not any("ON CONFLICT" in s for s in sql)
    assert _learner_indexes() == before
    assert any(name == "learner_uln_unique" for *_, name in before)
    # Not empty any more: the next load upserts, and changes nothing.
    with CaptureQueriesContext(connection) as captured:
        summary = learners_import(path=write(tmp_path / "m.csv", _many(4)))
    assert summary.unchanged == 4
    assert any("ON CONFLICT" in q["sql"] for q in captured.captured_queries)
    sql = [q["sql"] for q in captured.captured_queries]
    assert not any(s.startswith("DROP INDEX") or "DROP CONSTRAINT" in s for s in sql)


# --- PostgreSQL: the file itself COPYed and screened in SQL --------------------


def _paths_taken(captured) -> set[str]:
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    return {
        name
        for name, table in (
            ("screened", "records_learner_screen"),
            ("row by row", "records_learner_import"),
        )
        if f'CREATE TEMPORARY TABLE "{table}"' in sql
    }


@pytest.mark.screen_only
@pytest.mark.postgres
@pytest.mark.parametrize(
    ("rows", "path_taken"),
    [
        pytest.param([AMELIA, OLIVER], {"screened"}, id="plain"),
        # The screen's table is made, the COPY stops at the quote and is rolled
        # back, and the file is read row by row.
        pytest.param(
            [AMELIA, {**OLIVER, "family_name": "Bennett, Jr"}],
            {"screened", "row by row"},
            id="a quoted value",
        ),
    ],
)
def test_a_plain_file_is_screened_in_sql_and_one_with_quotes_read_row_by_row(
    tmp_path, rows, path_taken
):
    path = write(tmp_path / "l.csv", rows)

    with CaptureQueriesContext(connection) as captured:
        summary = learners_import(path=path)

    assert _paths_taken(captured) == path_taken
    assert summary.added == 2
    assert Learner.objects.get(uln=OLIVER["uln"]).family_name == rows[1]["family_name"]


@pytest.mark.postgres
def test_a_line_that_would_end_a_copy_early_is_reported_and_the_rest_load(tmp_path):
    path = write(tmp_path / "l.csv", [AMELIA])
    path.write_text(path.read_text() + "\\.\n" + ",".join(OLIVER.values()) + "\n")

    with CaptureQueriesContext(connection) as captured:
        summary = learners_import(path=path)

    assert "row by row" in _paths_taken(captured)
    assert [(row.line, row.reason) for row in summary.rejections] == [
        (3, "has 1 values, expected 9")
    ]
    assert ulns() == {AMELIA["uln"], OLIVER["uln"]}


@pytest.mark.postgres
def test_an_end_of_copy_line_split_between_two_chunks_is_still_seen(
    tmp_path, monkeypatch
):
    from records import loading_screen

    path = write(tmp_path / "l.csv", [AMELIA])
    head = path.read_bytes()
    # Chunks of len(head) + 1 bytes: the first ends with the newline and the
    # backslash, the second starts with the dot.
    monkeypatch.setattr(loading_screen, "COPY_CHUNK", len(head) + 1)
    path.write_bytes(head + b"\\.\n" + ",".join(OLIVER.values()).encode() + b"\n")
    assert path.read_bytes()[len(head) - 1 : len(head) + 2] == b"\n\\."

    summary = learners_import(path=path)

    assert [(row.line, row.reason) for row in summary.rejections] == [
        (3, "has 1 values, expected 9")
    ]
    assert ulns() == {AMELIA["uln"], OLIVER["uln"]}


def test_a_file_whose_lines_end_in_a_carriage_return_alone_loads(tmp_path):
    lines = [
        ",".join(LEARNER_COLUMNS),
        *(",".join(row.values()) for row in [AMELIA, OLIVER]),
    ]
    path = tmp_path / "l.csv"
    path.write_bytes(("\r".join(lines) + "\r").encode())

    summary = learners_import(path=path)

    assert (summary.rows_read, summary.added, summary.rejected) == (2, 2, 0)


def test_a_value_too_long_for_the_csv_reader_is_reported_as_unreadable(tmp_path):
    import csv as csv_module

    limit = csv_module.field_size_limit()
    path = write(tmp_path / "l.csv", [AMELIA, learner(given_name="x" * (limit + 1))])

    summary = learners_import(path=path)

    assert [(row.line, row.reason) for row in summary.rejections] == [
        (3, f"unreadable CSV (field larger than field limit ({limit}))")
    ]
    assert ulns() == {AMELIA["uln"]}


@pytest.mark.postgres
def test_a_repeat_is_found_when_the_first_line_needed_the_full_check(tmp_path):
    # Line 2 has an accent and a postcode to tidy, so Python stores it; line 3
    # passes the SQL screen; line 4 is rejected in Python; line 5 repeats line 3.
    first = {**AMELIA, "given_name": "Zoë", "postcode": "ls29jt"}
    rows = [first, {**AMELIA, "given_name": "Emily"}, learner(gender="5"), OLIVER]
    rows.append({**OLIVER, "given_name": "Again"})
    path = write(tmp_path / "l.csv", rows)

    summary = learners_import(path=path)

    assert [(row.line, row.reason[:25]) for row in summary.rejections] == [
        (3, "uln 9276308686 is repeate"),
        (4, 'gender "5" is not one of '),
        (6, f"uln {OLIVER['uln']} is repeate"),
    ]
    amelia = Learner.objects.get(uln=AMELIA["uln"])
    assert (amelia.given_name, amelia.postcode) == ("Zoë", "LS2 9JT")
    assert Learner.objects.get(uln=OLIVER["uln"]).given_name == "Oliver"
    assert (summary.rows_read, summary.added, summary.rejected) == (5, 2, 3)


@pytest.mark.postgres
def test_the_screen_counts_and_reloads_like_the_row_by_row_path(tmp_path):
    rows = [AMELIA, OLIVER, learner(given_name="  Spaced  ", gender=" 1 ")]
    path = write(tmp_path / "l.csv", rows)
    learners_import(path=path)

    again = learners_import(path=path)
    changed = write(tmp_path / "m.csv", [{**AMELIA, "email": ""}, OLIVER])
    updated = learners_import(path=changed)

    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert (updated.added, updated.updated, updated.unchanged) == (0, 1, 1)
    spaced = Learner.objects.get(uln=nth_uln(7))
    assert (spaced.given_name, spaced.gender) == ("Spaced", 1)


@pytest.mark.postgres
def test_rows_turned_away_by_the_screen_are_checked_in_batches(tmp_path, monkeypatch):
    from records import loading_screen

    monkeypatch.setattr(loading_screen, "SCREENED_OUT_BATCH", 3)
    rows = [{**row, "postcode": "ls2 9jt"} for row in _many(10)]
    rows.insert(5, learner(gender="8"))
    rows.append({**rows[7], "given_name": "Repeat"})  # a repeat of line 9
    path = write(tmp_path / "l.csv", rows)

    summary = learners_import(path=path)

    assert [(row.line, row.reason[:8]) for row in summary.rejections] == [
        (7, 'gender "'),
        (13, f"uln {rows[7]['uln']}"[:8]),
    ]
    assert summary.added == 10
    assert set(Learner.objects.values_list("postcode", flat=True)) == {"LS2 9JT"}


def _screened(rows: list[dict[str, str]]) -> list[bool]:
    """What the SQL screen says of each row (learners' cells as in a file)."""
    from django.utils import timezone

    from records import loading_screen

    table = "screen_check"
    text = ", ".join(f"{name} text" for name in LEARNER_COLUMNS)
    screen = loading_screen.learner_screen(timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (n integer, {text})")
        for n, row in enumerate(rows):
            cursor.execute(
                f"INSERT INTO {table} VALUES (%s, {', '.join(['%s'] * 9)})",  # noqa: S608
                [n, *(row[name] for name in LEARNER_COLUMNS)],
            )
        cursor.execute(f"SELECT ({screen}) FROM {table} ORDER BY n")  # noqa: S608
        found = [ok for (ok,) in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {table}")
    return found


def _python_stores_as_is(row: dict[str, str]) -> bool:
    """Whether the row-by-row check accepts the row and stores its cells exactly
    as they are in the file (the date and gender as their date and code)."""
    from django.utils import timezone

    from records import loading_checks

    cells = [row[name] for name in LEARNER_COLUMNS]
    try:
        values = loading_checks.LearnerCheck(timezone.localdate()).values(
            [cell.strip() for cell in cells]
        )
    except loading_checks.Rejected:
        return False
    return [str(value) for value in values] == cells


SCREEN_CASES = [
    AMELIA,
    OLIVER,
    {**AMELIA, "given_name": "  Amelia ", "gender": " 2"},  # Python trims these
    {**AMELIA, "date_of_birth": "2004-02-29"},
    {**AMELIA, "date_of_birth": "2000-02-29"},
    {**AMELIA, "date_of_birth": "1900-02-29"},
    {**AMELIA, "date_of_birth": "2001-02-29"},
    {**AMELIA, "date_of_birth": "2001-04-31"},
    {**AMELIA, "date_of_birth": "2001-13-01"},
    {**AMELIA, "date_of_birth": "1900-01-01"},
    {**AMELIA, "date_of_birth": "1899-12-31"},
    {**AMELIA, "date_of_birth": "9999-12-31"},
    {**AMELIA, "date_of_birth": "2007-5-14"},
    {**AMELIA, "date_of_birth": "abcd-ef-gh"},
    {**AMELIA, "uln": "9276308687"},
    {**AMELIA, "uln": "9999999999"},
    {**AMELIA, "uln": "0276308686"},
    {**AMELIA, "uln": "92763086860"},
    {**AMELIA, "postcode": "ls2 9jt"},
    {**AMELIA, "postcode": "LS29JT"},
    {**AMELIA, "postcode": "BFPO 57"},
    {**AMELIA, "postcode": "GIR 0AA"},
    {**AMELIA, "postcode": "LS2 9CI"},
    {**AMELIA, "email": "a@b.co"},
    {**AMELIA, "email": "a@b"},
    {**AMELIA, "email": "a@-b.com"},
    {**AMELIA, "email": "o'brien+lrs@mail.example.org"},
    {**AMELIA, "email": "a@b.c0m"},
    {**AMELIA, "email": "a" * 243 + "@example.com"},
    {**AMELIA, "given_name": "A" * 35},
    {**AMELIA, "given_name": "A" * 36},
    {**AMELIA, "given_name": "Zoë"},
    {**AMELIA, "given_name": "Ame\tlia"},
    {**AMELIA, "family_name": "   "},
    {**AMELIA, "gender": "3"},
]


@pytest.mark.screen_only
@pytest.mark.postgres
def test_the_screen_passes_only_rows_python_stores_as_they_are():
    screened = _screened(SCREEN_CASES)

    wrongly_passed = [
        row
        for row, ok in zip(SCREEN_CASES, screened, strict=True)
        if ok and not _python_stores_as_is(row)
    ]
    assert wrongly_passed == []
    # The plain rows do pass, so the screen does the work.
    passed = dict(zip(map(str, SCREEN_CASES), screened, strict=True))
    for row in [
        *SCREEN_CASES[:2],
        *SCREEN_CASES[3:5],
        SCREEN_CASES[9],
        SCREEN_CASES[29],
    ]:
        assert passed[str(row)], row


@pytest.mark.screen_only
@pytest.mark.postgres
@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.fixed_dictionaries(
        {
            name: st.one_of(
                st.just(AMELIA[name]),
                st.text(alphabet=CELL_ALPHABET, max_size=14),
                st.sampled_from(MUTATIONS[name]),
            )
            for name in LEARNER_COLUMNS
        }
    )
)
def test_the_screen_never_passes_a_row_python_would_change_or_refuse(row):
    (ok,) = _screened([row])

    assert not ok or _python_stores_as_is(row)


@pytest.mark.postgres
def test_copy_stores_the_same_rows_as_the_batches(tmp_path):
    rows = [
        AMELIA,
        OLIVER,
        learner(given_name="Siân", previous_family_name="Back\\slash", email=""),
        learner(uln=nth_uln(9), postcode="bfpo 57", middle_names="N\\A"),
    ]
    path = write(tmp_path / "l.csv", rows)
    fields = [*LEARNER_COLUMNS, "ability_to_share"]

    learners_import(path=path, use_copy=False)
    batches = list(Learner.objects.order_by("uln").values_list(*fields))
    Learner.objects.all().delete()
    learners_import(path=path, use_copy=True)

    assert list(Learner.objects.order_by("uln").values_list(*fields)) == batches
    assert Learner.objects.get(uln=nth_uln(7)).previous_family_name == "Back\\slash"


@pytest.mark.postgres
def test_copy_counts_added_updated_and_unchanged(tmp_path):
    learners_import(path=write(tmp_path / "a.csv", [AMELIA, OLIVER]), use_copy=True)
    before = dict(Learner.objects.values_list("uln", "updated_at"))
    rows = [{**AMELIA, "email": ""}, OLIVER, learner()]

    summary = learners_import(path=write(tmp_path / "b.csv", rows), use_copy=True)

    assert (summary.added, summary.updated, summary.unchanged) == (1, 1, 1)
    assert Learner.objects.get(uln=OLIVER["uln"]).updated_at == before[OLIVER["uln"]]
    assert Learner.objects.get(uln=AMELIA["uln"]).updated_at > before[AMELIA["uln"]]


@pytest.mark.postgres
def test_copy_imports_run_twice_in_one_transaction_and_leave_no_staging_table(
    tmp_path,
):
    path = write(tmp_path / "l.csv", [AMELIA])

    with transaction.atomic():
        learners_import(path=path, use_copy=True)
        summary = learners_import(path=path, use_copy=True)

    assert summary.unchanged == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.records_learner_import')")
        assert cursor.fetchone() == (None,)


@pytest.mark.postgres
def test_copy_reports_achievements_of_unknown_learners_by_line(tmp_path, amelia):
    rows = [GCSE, {**GCSE, "uln": nth_uln(3)}, BTEC, {**BTEC, "uln": nth_uln(4)}]

    summary = achievements_import(
        path=write_achievements(tmp_path / "a.csv", rows), use_copy=True
    )

    assert [row.line for row in summary.rejections] == [3, 5]
    assert (summary.added, summary.unchanged, summary.rejected) == (2, 0, 2)
    summary = achievements_import(
        path=write_achievements(tmp_path / "a.csv", [GCSE, {**BTEC, "grade": "PPP"}]),
        use_copy=True,
    )
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)


# --- The progress bar ----------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_redraws_in_place_with_rejected_rows_above_it():
    stream = Terminal()
    bar = ProgressBar(OutputWrapper(stream))

    bar.update(ImportProgress(10, 50, 100))
    bar.message("Line 7: gender is missing")
    bar.update(ImportProgress(20, 100, 100, read_all=True))
    bar.finish()

    shown = stream.getvalue()
    assert shown.startswith("\r\x1b[K[###############...............]  50%  10 rows")
    assert "\r\x1b[KLine 7: gender is missing\n[###" in shown
    assert shown.endswith("100%  20 rows read, saving…\n")
