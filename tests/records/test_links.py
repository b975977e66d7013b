"""Merged learners (the LRS's MasterSubstituted, WSRC0022): the model, the ULN
search through the gate, the response codes, the links import, the page and admin."""

import threading
import time
from html import unescape
from http import HTTPStatus

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from records.links import learner_linked_ulns, learner_links_import, learner_master
from records.models import Learner, LearnerLink, LearnerView
from records.response_codes import RESPONSE_CODES, lrs_response_code
from records.services import learner_search_by_demographics, learner_search_by_uln
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import LearnerFactory, nth_uln
from tests.records.test_log_postgres import second_connection

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome


@pytest.fixture
def searcher():
    version = AgreementVersionFactory.create()
    return member_of(OrganisationFactory.create(last_signed_version=version))


def link(learner: Learner, master: Learner) -> LearnerLink:
    return LearnerLink.objects.create(learner=learner, master=master)


# --- The response codes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (OUTCOME.NO_MATCH, "WSRC0001"),
        (OUTCOME.TOO_MANY_MATCHES, "WSRC0002"),
        (OUTCOME.POSSIBLE_MATCHES, "WSRC0003"),
        (OUTCOME.EXACT_MATCH, "WSRC0004"),
        (OUTCOME.LINKED_LEARNER_MATCH, "WSRC0022"),
        (OUTCOME.NOT_SHARED, "WSEC0206"),
    ],
)
def test_each_outcome_has_the_lrs_code_domain_md_gives(outcome, code):
    assert lrs_response_code(outcome) == code


@pytest.mark.parametrize("outcome", [OUTCOME.SHOWN, OUTCOME.REFUSED, "made_up"])
def test_an_outcome_without_an_lrs_code_is_refused_not_guessed(outcome):
    with pytest.raises(ValueError, match="not an outcome with an LRS code"):
        lrs_response_code(outcome)


def test_every_search_outcome_has_a_code():
    searches = set(OUTCOME.values) - {
        OUTCOME.SHOWN,
        OUTCOME.NOT_SHARED,
        OUTCOME.REFUSED,
    }
    assert searches <= set(RESPONSE_CODES)


# --- The model ---------------------------------------------------------------------


def test_a_learner_cannot_be_merged_into_itself():
    learner = LearnerFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        link(learner, learner)


def test_a_learner_is_merged_into_one_master_at_most():
    merged, first, second = LearnerFactory.create_batch(3)
    link(merged, first)

    with pytest.raises(IntegrityError), transaction.atomic():
        link(merged, second)


def test_a_chain_of_links_resolves_to_the_final_master():
    a, b, c = LearnerFactory.create_batch(3)
    link(a, b)
    link(b, c)

    assert learner_master(a) == c
    assert learner_master(b) == c
    assert learner_master(c) is None


def test_the_master_lists_every_uln_merged_into_it_directly_or_not():
    a, b, c, other = LearnerFactory.create_batch(4)
    link(a, b)
    link(b, c)

    assert learner_linked_ulns(c) == sorted([a.uln, b.uln])
    assert learner_linked_ulns(b) == [a.uln]
    assert learner_linked_ulns(other) == []


@pytest.mark.postgres
def test_the_database_refuses_a_link_that_closes_a_cycle():
    a, b, c = LearnerFactory.create_batch(3)
    link(a, b)
    link(b, c)

    with pytest.raises(IntegrityError, match="cycle"), transaction.atomic():
        link(c, a)
    with pytest.raises(IntegrityError, match="cycle"), transaction.atomic():
        LearnerLink.objects.filter(learner=b).update(master=a)
    assert LearnerLink.objects.count() == 2


# --- The search, through the gate ----------------------------------------------------


def test_a_search_by_a_merged_uln_answers_the_master_as_a_linked_match(searcher):
    merged, master = LearnerFactory.create_batch(2)
    link(merged, master)

    result = learner_search_by_uln(user=searcher, uln=merged.uln, request_id="r1")

    assert result.outcome == OUTCOME.LINKED_LEARNER_MATCH
    assert result.learner == master
    assert lrs_response_code(result.outcome) == "WSRC0022"
    row = LearnerView.objects.get()
    assert (row.outcome, row.learner_uln, row.match_count) == (
        OUTCOME.LINKED_LEARNER_MATCH,
        master.uln,
        1,
    )


def test_a_search_through_a_chain_answers_the_final_master(searcher):
    a, b, c = LearnerFactory.create_batch(3)
    link(a, b)
    link(b, c)

    result = learner_search_by_uln(user=searcher, uln=a.uln, request_id="r1")

    assert (result.outcome, result.learner) == (OUTCOME.LINKED_LEARNER_MATCH, c)
    assert LearnerView.objects.get().learner_uln == c.uln


def test_a_search_by_the_masters_own_uln_is_an_exact_match(searcher):
    merged, master = LearnerFactory.create_batch(2)
    link(merged, master)

    result = learner_search_by_uln(user=searcher, uln=master.uln, request_id="r1")

    assert (result.outcome, result.learner) == (OUTCOME.EXACT_MATCH, master)


def test_a_search_by_details_finds_the_master_not_the_merged_record(searcher):
    master = LearnerFactory.create(given_name="Amelia", family_name="Hughes")
    merged = LearnerFactory.create(given_name="Amelia", family_name="Hughes")
    link(merged, master)

    result = learner_search_by_demographics(
        user=searcher,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth=master.date_of_birth,
        gender=master.gender,
        postcode=master.postcode,
        request_id="r1",
    )

    assert (result.outcome, result.learner) == (OUTCOME.EXACT_MATCH, master)


# --- The page and admin --------------------------------------------------------------


def test_the_result_page_says_the_uln_was_merged_and_shows_the_master(searcher):
    merged = LearnerFactory.create()
    master = LearnerFactory.create(given_name="Amelia", family_name="Hughes")
    link(merged, master)
    client = Client()
    client.force_login(searcher)

    response = client.post(
        reverse("records:find-by-uln"),
        {"uln": merged.uln, "privacy_notice": "on", "own_student": "on"},
    )

    assert response.status_code == HTTPStatus.OK
    page = unescape(response.content.decode())
    assert (
        f"The ULN you searched for, {merged.uln}, has been merged into another "
        "learner record." in " ".join(page.split())
    )
    assert f"Use ULN {master.uln} for this learner from now on" in page
    assert "Amelia Hughes" in page
    assert 'name="handle"' in page
    assert LearnerView.objects.get().outcome == OUTCOME.LINKED_LEARNER_MATCH


def test_admin_shows_a_learners_linked_ulns_and_what_it_was_merged_into(
    admin_verified_client,
):
    a, b, c = LearnerFactory.create_batch(3)
    link(a, b)
    link(b, c)
    client = admin_verified_client

    master_page = client.get(reverse("admin:records_learner_change", args=[c.pk]))
    merged_page = client.get(reverse("admin:records_learner_change", args=[a.pk]))

    assert master_page.status_code == merged_page.status_code == HTTPStatus.OK
    assert ", ".join(sorted([a.uln, b.uln])) in master_page.content.decode()
    merged = merged_page.content.decode()
    assert reverse("admin:records_learner_change", args=[b.pk]) in merged
    assert f"searches now answer {c.uln}" in merged


# --- The links file ---------------------------------------------------------------


def links_file(tmp_path, *rows, header="uln,master_uln"):
    path = tmp_path / "links.csv"
    path.write_text("\n".join([header, *(",".join(row) for row in rows)]) + "\n")
    return path


@pytest.fixture
def learners():
    return LearnerFactory.create_batch(4)


def held() -> set[tuple[str, str]]:
    return set(LearnerLink.objects.values_list("learner__uln", "master__uln"))


def test_the_links_file_records_each_merge(tmp_path, learners):
    a, b, c, _ = learners
    path = links_file(tmp_path, (a.uln, b.uln), (b.uln, c.uln))

    summary = learner_links_import(path=path)

    assert (summary.rows_read, summary.added, summary.rejected) == (2, 2, 0)
    assert held() == {(a.uln, b.uln), (b.uln, c.uln)}


def test_loading_the_same_links_again_changes_nothing(tmp_path, learners):
    a, b, _, _ = learners
    path = links_file(tmp_path, (a.uln, b.uln))
    learner_links_import(path=path)
    linked_at = LearnerLink.objects.get().linked_at

    summary = learner_links_import(path=path)

    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 1)
    assert LearnerLink.objects.get().linked_at == linked_at


def test_a_link_to_another_master_moves_it(tmp_path, learners):
    a, b, c, _ = learners
    learner_links_import(path=links_file(tmp_path, (a.uln, b.uln)))

    summary = learner_links_import(path=links_file(tmp_path, (a.uln, c.uln)))

    assert summary.updated == 1
    assert held() == {(a.uln, c.uln)}


def test_a_link_to_an_unknown_master_is_refused_with_its_line(tmp_path, learners):
    a, b, _, _ = learners
    unknown = nth_uln(9000)
    path = links_file(tmp_path, (a.uln, unknown), (b.uln, a.uln))

    summary = learner_links_import(path=path)

    assert [str(r) for r in summary.rejections] == [
        f"Line 2: master_uln {unknown}: there is no learner with this ULN"
    ]
    assert held() == {(b.uln, a.uln)}


def test_an_unknown_or_invalid_merged_uln_is_refused(tmp_path, learners):
    a, _, _, _ = learners
    path = links_file(tmp_path, (nth_uln(9001), a.uln), ("9276308687", a.uln))

    summary = learner_links_import(path=path)

    reasons = [str(r) for r in summary.rejections]
    assert (
        reasons[0] == f"Line 2: uln {nth_uln(9001)}: there is no learner with this ULN"
    )
    assert reasons[1].startswith("Line 3: uln 9276308687: ")
    assert not LearnerLink.objects.exists()


def test_a_self_link_is_refused(tmp_path, learners):
    a, _, _, _ = learners

    summary = learner_links_import(path=links_file(tmp_path, (a.uln, a.uln)))

    assert [str(r) for r in summary.rejections] == [
        f"Line 2: uln {a.uln} cannot be merged into itself"
    ]
    assert not LearnerLink.objects.exists()


def test_a_cycle_in_the_file_is_refused_on_the_line_that_closes_it(tmp_path, learners):
    a, b, c, _ = learners
    path = links_file(tmp_path, (a.uln, b.uln), (b.uln, c.uln), (c.uln, a.uln))

    summary = learner_links_import(path=path)

    assert summary.added == 2
    assert len(summary.rejections) == 1
    assert str(summary.rejections[0]).startswith(
        f"Line 4: uln {c.uln} cannot be merged into {a.uln}: {a.uln} is already "
        f"merged into {c.uln}"
    )
    assert held() == {(a.uln, b.uln), (b.uln, c.uln)}


def test_a_cycle_with_the_links_already_held_is_refused(tmp_path, learners):
    a, b, _, _ = learners
    link(a, b)

    summary = learner_links_import(path=links_file(tmp_path, (b.uln, a.uln)))

    assert "cycle" in str(summary.rejections[0])
    assert held() == {(a.uln, b.uln)}


def test_a_repeated_uln_is_refused_on_its_later_line(tmp_path, learners):
    a, b, c, _ = learners

    summary = learner_links_import(
        path=links_file(tmp_path, (a.uln, b.uln), (a.uln, c.uln))
    )

    assert str(summary.rejections[0]).startswith(
        f"Line 3: uln {a.uln} is repeated: it is also on line 2"
    )
    assert held() == {(a.uln, b.uln)}


def test_the_learners_header_is_not_taken_for_links(tmp_path, learners):
    path = links_file(tmp_path, ("x", "y"), header="uln,given_name")

    with pytest.raises(CommandError, match="missing columns: master_uln"):
        call_command("import_learner_links", str(path))
    assert not LearnerLink.objects.exists()


def test_the_command_loads_the_good_rows_and_fails_on_a_bad_one(tmp_path, learners):
    a, b, _, _ = learners
    path = links_file(tmp_path, (a.uln, b.uln), (b.uln, b.uln))

    with pytest.raises(CommandError, match="1 row was rejected"):
        call_command("import_learner_links", str(path))
    assert held() == {(a.uln, b.uln)}


def _waiting_on_an_advisory_lock(pid: int) -> bool:
    with second_connection() as watcher:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    return row is not None and row[0] == "Lock"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_cannot_each_add_one_half_of_a_cycle():
    a, b = LearnerFactory.create_batch(2)
    insert = "INSERT INTO records_learnerlink (learner_id, master_id, linked_at)"
    first, second = second_connection(), second_connection()
    outcome: list[BaseException | None] = []
    try:
        first.execute("BEGIN")
        first.execute(f"{insert} VALUES (%s, %s, now())", [a.pk, b.pk])

        def other_half() -> None:
            try:
                second.execute(f"{insert} VALUES (%s, %s, now())", [b.pk, a.pk])
                outcome.append(None)
            except psycopg.Error as exc:
                outcome.append(exc)

        writer = threading.Thread(target=other_half)
        writer.start()
        pid = second.info.backend_pid
        for _ in range(500):  # the second waits for the first's lock
            if _waiting_on_an_advisory_lock(pid):
                break
            time.sleep(0.01)
        first.execute("COMMIT")
        writer.join()
    finally:
        first.close()
        second.close()

    assert isinstance(outcome[0], psycopg.errors.CheckViolation)
    assert held() == {(a.uln, b.uln)}
