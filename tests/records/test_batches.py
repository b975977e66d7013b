from datetime import date

import pytest

from records.batch_files import BatchFileRefused, batch_file_read
from records.batches import BatchRefused, batch_run, batch_submit
from records.models import Batch, BatchRow, Learner, LearnerLink, LearnerView
from records.services import LookupRefused, learner_search_by_demographics
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import LearnerFactory, nth_uln

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome
DOB = date(2007, 5, 14)
DEMOGRAPHIC_HEADER = "given_name,family_name,date_of_birth,gender,postcode"


@pytest.fixture(autouse=True)
def _roomy_caps(settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1000
    settings.LOOKUP_ORG_DAILY_MINIMUM = 1000


@pytest.fixture
def organisation():
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create()
    )


@pytest.fixture
def searcher(organisation):
    return member_of(organisation)


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def submit(user, *lines: str) -> Batch:
    return batch_submit(
        user=user, data=csv_file(*lines), filename="enrolments.csv", request_id="r1"
    )


def uln_batch(user, count: int) -> Batch:
    return submit(user, "uln,reference", *(f"{nth_uln(n)},S{n}" for n in range(count)))


# --- reading the file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The selected file is empty"),
        (b"\r\n \r\n", "The selected file is empty"),
        (b"uln\r\n", "has no learners in it"),
        (b"learner,number\r\n1,2\r\n", "The file has a column \u201clearner\u201d"),
        (b"uln,uln\r\n9276308686,9276308686\r\n", "A column is named twice"),
        (
            b"uln,given_name\r\n9276308686,Amelia\r\n",
            "either uln, or given_name, family_name",
        ),
        ("uln\r\n9276308686\r\n".encode("utf-16"), "must be a CSV file"),
        (b"uln,reference\r\n9276308686,Caf\xe9\r\n", "must be saved as UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00", "must be a CSV file"),
        (b'uln\r\n"9276308686\r\n', "line 2 cannot be read"),
    ],
)
def test_a_malformed_file_is_refused_whole(data, message):
    with pytest.raises(BatchFileRefused, match=message):
        batch_file_read(data)


def test_a_file_of_more_than_10000_learners_is_refused_whole():
    data = csv_file("uln", *([nth_uln(1)] * 10_001))

    with pytest.raises(BatchFileRefused, match="at most 10,000 learners"):
        batch_file_read(data)


def test_a_file_of_exactly_10000_learners_is_read():
    assert len(batch_file_read(csv_file("uln", *([nth_uln(1)] * 10_000))).lines) == (
        10_000
    )


def test_a_spreadsheets_byte_order_mark_and_blank_lines_are_harmless():
    parsed = batch_file_read(b"\xef\xbb\xbfULN, Reference\r\n\r\n9276308686,A1\r\n")

    assert parsed.kind == "uln"
    assert [(line.line, line.uln, line.reference) for line in parsed.lines] == [
        (3, "9276308686", "A1")
    ]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("1234567890", "This ULN is not valid: check for a mistyped digit"),
        ("9999999999", "9999999999 is the temporary ULN"),
        ("12345", "A ULN is 10 digits, like 9276308686"),
        ("", "Enter a ULN"),
    ],
)
def test_a_bad_uln_is_that_lines_error_in_the_pages_words(line, error):
    parsed = batch_file_read(csv_file("uln,reference", "9276308686,A", f"{line},B"))

    assert parsed.lines[0].error == ""
    assert error in parsed.lines[1].error
    assert parsed.lines[1].reference == "B"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("Amelia,Hughes,2007-02-30,2,LS2 9JT", "Date of birth must be a real date"),
        ("Amelia,Hughes,14/05/2007,2,LS2 9JT", "written year-month-day"),
        ("Amelia,Hughes,2999-01-01,2,LS2 9JT", "Date of birth must be in the past"),
        ("Amelia,Hughes,2007-05-14,3,LS2 9JT", "Gender must be 0 (not known)"),
        ("Amelia,Hughes,2007-05-14,2,NOT A CODE", "Enter a real postcode"),
        ("Am3lia,Hughes,2007-05-14,2,LS2 9JT", "Given name must only include"),
        (",Hughes,2007-05-14,2,LS2 9JT", "Enter the learner's given name"),
        ("Amelia,Hughes,2007-05-14,2", "4 values"),
    ],
)
def test_a_bad_demographic_line_is_that_lines_error(line, error):
    parsed = batch_file_read(csv_file(DEMOGRAPHIC_HEADER, line))

    assert error in parsed.lines[0].error
    assert parsed.lines[0].given_name == ""  # nothing of it is kept


# --- submitting ------------------------------------------------------------------


def test_a_batch_past_the_members_cap_is_refused_whole_saying_how_many_fit(
    searcher, settings
):
    settings.LOOKUP_USER_HOURLY_CAP = 3

    with pytest.raises(BatchRefused, match="Send a file of at most 3 learners"):
        uln_batch(searcher, 5)

    assert not Batch.objects.exists()
    assert not LearnerView.objects.exists()


def test_a_batch_past_the_organisations_cap_is_refused_whole(
    searcher, organisation, settings
):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 2
    organisation.estimated_learners_per_year = 1
    organisation.save()

    with pytest.raises(BatchRefused, match="your organisation can make 2 more"):
        uln_batch(searcher, 3)

    assert not Batch.objects.exists()


def test_lines_in_error_do_not_count_against_the_caps(searcher, settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1

    batch = submit(searcher, "uln", "9276308686", "1234567890", "12345")

    assert batch.rows_total == 3
    assert batch.rows_done == batch.rows_failed == 2


def test_a_member_the_gate_refuses_cannot_submit(searcher, organisation):
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    with pytest.raises(LookupRefused):
        uln_batch(searcher, 2)

    assert not Batch.objects.exists()


# --- running ---------------------------------------------------------------------


def test_a_uln_batch_finds_each_row_in_input_order_and_logs_each_once(searcher):
    learner = LearnerFactory.create(uln=nth_uln(1))
    batch = submit(searcher, "reference,uln", f"A,{nth_uln(0)}", f"B,{learner.uln}")

    batch = batch_run(batch_id=batch.pk)

    assert batch.status == Batch.Status.COMPLETE
    assert batch.rows_done == 2
    rows = list(batch.rows.order_by("line"))
    assert [(r.reference, r.outcome, r.code, r.matched_ulns) for r in rows] == [
        ("A", OUTCOME.NO_MATCH, "WSRC0001", ""),
        ("B", OUTCOME.EXACT_MATCH, "WSRC0004", learner.uln),
    ]
    logged = LearnerView.objects.order_by("pk")
    assert [(v.learner_uln, v.outcome, v.channel) for v in logged] == [
        (nth_uln(0), OUTCOME.NO_MATCH, LearnerView.Channel.BATCH),
        (learner.uln, OUTCOME.EXACT_MATCH, LearnerView.Channel.BATCH),
    ]
    assert {v.user_id for v in logged} == {searcher.pk}


def test_a_merged_uln_in_a_batch_answers_its_master_as_a_single_search_does(
    searcher,
):
    master = LearnerFactory.create(uln=nth_uln(1))
    merged = LearnerFactory.create(uln=nth_uln(2))
    LearnerLink.objects.create(learner=merged, master=master)
    batch = submit(searcher, "uln", merged.uln)

    batch = batch_run(batch_id=batch.pk)

    row = batch.rows.get()
    assert (row.outcome, row.code, row.matched_ulns) == (
        OUTCOME.LINKED_LEARNER_MATCH,
        "WSRC0022",
        master.uln,
    )
    logged = LearnerView.objects.get()
    assert (logged.learner_uln, logged.outcome) == (
        master.uln,
        OUTCOME.LINKED_LEARNER_MATCH,
    )


def test_a_searched_row_keeps_no_demographics(searcher):
    LearnerFactory.create(given_name="Amelia", family_name="Hughes")
    batch = submit(searcher, DEMOGRAPHIC_HEADER, "Amelia,Hughes,2007-05-14,2,LS2 9JT")

    batch_run(batch_id=batch.pk)

    row = BatchRow.objects.get()
    assert row.outcome == OUTCOME.EXACT_MATCH
    assert (row.given_name, row.family_name, row.postcode, row.uln) == ("",) * 4
    assert row.date_of_birth is None
    assert row.gender is None


def test_a_demographic_batch_gives_what_the_single_search_gives(searcher, settings):
    settings.BATCH_CHUNK_ROWS = 2
    LearnerFactory.create(given_name="Amelia", family_name="Hughes")
    LearnerFactory.create(given_name="Amelia", family_name="Hughes", postcode="M1 1AE")
    LearnerFactory.create(given_name="Ben", family_name="Shaw", postcode="M1 1AE")
    LearnerFactory.create_batch(12, given_name="Cara", family_name="Lee")
    searches = [
        ("Amelia", "Hughes", 2, "LS2 9JT"),  # one exact among two
        ("Amy", "Hughes", 2, "M1 1AE"),  # possible, by postcode
        ("Ben", "SHAW", 1, "m11ae"),  # possible: gender differs
        ("Cara", "Lee", 1, "B1 1AA"),  # too many
        ("Dan", "Jones", 1, "B1 1AA"),  # no match
    ]
    lines = [f"{g},{f},2007-05-14,{s},{p}" for g, f, s, p in searches]
    batch = submit(searcher, DEMOGRAPHIC_HEADER, *lines)

    batch_run(batch_id=batch.pk)

    singles = [
        learner_search_by_demographics(
            user=searcher,
            given_name=g,
            family_name=f,
            date_of_birth=DOB,
            gender=s,
            postcode=p,
            request_id="single",
        )
        for g, f, s, p in searches
    ]
    rows = list(batch.rows.order_by("line"))
    assert [r.outcome for r in rows] == [s.outcome for s in singles]
    assert [r.matched_ulns.split() for r in rows] == [
        [s.learner.uln] if s.learner else sorted(c.uln for c in s.candidates)
        for s in singles
    ]


def test_lines_in_error_are_neither_searched_nor_logged(searcher):
    batch = submit(searcher, "uln", "1234567890", nth_uln(0))

    batch_run(batch_id=batch.pk)

    first = batch.rows.get(line=2)
    assert first.outcome == ""
    assert "not valid" in first.error
    assert LearnerView.objects.count() == 1


def test_running_a_batch_twice_searches_and_logs_each_row_once(searcher, settings):
    settings.BATCH_CHUNK_ROWS = 2
    batch = uln_batch(searcher, 5)

    batch_run(batch_id=batch.pk)
    again = batch_run(batch_id=batch.pk)

    assert again.status == Batch.Status.COMPLETE
    assert again.rows_done == 5
    assert LearnerView.objects.count() == 5


def test_a_worker_killed_mid_batch_leaves_its_chunk_unsearched_and_unlogged(
    searcher, settings, monkeypatch
):
    import records.batches

    settings.BATCH_CHUNK_ROWS = 2
    batch = uln_batch(searcher, 5)
    real = records.batches._save_results
    calls = []

    def dies_on_second_chunk(*args):
        calls.append(args)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        real(*args)

    monkeypatch.setattr(records.batches, "_save_results", dies_on_second_chunk)
    with pytest.raises(SystemExit):
        batch_run(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING
    assert batch.rows_done == 2
    assert LearnerView.objects.count() == 2  # the dead chunk's log rows rolled back

    finished = batch_run(batch_id=batch.pk)

    assert finished.status == Batch.Status.COMPLETE
    assert LearnerView.objects.count() == 5
    assert sorted(LearnerView.objects.values_list("learner_uln", flat=True)) == sorted(
        nth_uln(n) for n in range(5)
    )


def test_a_suspension_mid_batch_stops_it_with_the_reason(
    searcher, organisation, settings, monkeypatch
):
    import records.batches

    settings.BATCH_CHUNK_ROWS = 2
    batch = uln_batch(searcher, 5)
    real = records.batches._save_results

    def suspend_after_first_chunk(*args):
        real(*args)
        organisation.status = Organisation.Status.SUSPENDED
        organisation.save()

    monkeypatch.setattr(records.batches, "_save_results", suspend_after_first_chunk)

    stopped = batch_run(batch_id=batch.pk)

    assert stopped.status == Batch.Status.FAILED
    assert "access to the LRS is suspended" in stopped.failure_reason
    assert stopped.finished_at is not None
    assert stopped.rows_done == 2
    assert LearnerView.objects.count() == 2
    assert batch.rows.filter(outcome="").count() == 3


def test_a_cap_reached_mid_batch_stops_it_and_logs_the_refusal(searcher, settings):
    settings.BATCH_CHUNK_ROWS = 2
    batch = uln_batch(searcher, 4)
    settings.LOOKUP_USER_HOURLY_CAP = 3  # others' searches used the room since

    stopped = batch_run(batch_id=batch.pk)

    assert stopped.status == Batch.Status.FAILED
    assert "lookups allowed in an hour" in stopped.failure_reason
    outcomes = list(LearnerView.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == [OUTCOME.NO_MATCH, OUTCOME.NO_MATCH, OUTCOME.REFUSED]


def test_a_member_who_left_the_organisation_mid_batch_stops_it(searcher):
    batch = uln_batch(searcher, 2)
    searcher.is_active = False
    searcher.save()

    stopped = batch_run(batch_id=batch.pk)

    assert stopped.status == Batch.Status.FAILED
    assert stopped.failure_reason == "Your account cannot be used."
    assert not LearnerView.objects.exists()


def test_a_learner_matched_by_a_batch_is_the_learner_of_the_log_row(searcher):
    learner = LearnerFactory.create()
    batch = submit(
        searcher,
        DEMOGRAPHIC_HEADER,
        f"{learner.given_name},{learner.family_name},2007-05-14,2,LS2 9JT",
    )

    batch_run(batch_id=batch.pk)

    row = LearnerView.objects.get()
    assert row.learner_uln == learner.uln
    assert row.action == LearnerView.Action.SEARCH_DEMOGRAPHICS
    assert row.match_count == 1
    assert Learner.objects.count() == 1
