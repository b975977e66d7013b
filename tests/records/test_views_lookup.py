import re
import time
from datetime import date
from html import unescape
from http import HTTPStatus
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.models import Achievement, Learner, LearnerView
from records.uln import uln_check_digit
from registration.models import Organisation
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
)

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome
DOB = date(2007, 5, 14)
ULN = "9276308686"
SALT = "records.learner-handle"


def make_learner(uln=ULN, **kwargs) -> Learner:
    values = {
        "given_name": "Amelia",
        "middle_names": "Rose",
        "family_name": "Hughes",
        "previous_family_name": "Baker",
        "date_of_birth": DOB,
        "gender": Learner.Gender.FEMALE,
        "postcode": "LS2 9JT",
        "email": "amelia.hughes@example.com",
    }
    values.update(kwargs)
    return Learner.objects.create(uln=uln, **values)


def ulns(count):
    """``count`` valid ULNs that are not ULN."""
    found, stem = [], 100000000
    while len(found) < count:
        stem += 1
        digit = uln_check_digit(str(stem))
        if digit is not None:
            found.append(f"{stem}{digit}")
    return found


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def organisation(version):
    return OrganisationFactory.create(last_signed_version=version)


@pytest.fixture
def searcher(organisation):
    return member_of(organisation)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_(searcher):
    return signed_in(searcher)


def url(name):
    return reverse(f"records:{name}")


def body(response):
    """The page as text, with entities (') read as characters."""
    return unescape(response.content.decode())


CONFIRMED = {"privacy_notice": "on", "own_student": "on"}


def by_uln(client, uln=ULN, **extra):
    return client.post(url("find-by-uln"), {"uln": uln, **CONFIRMED, **extra})


DETAILS = {
    "given_name": "Amelia",
    "family_name": "Hughes",
    "date_of_birth_day": "14",
    "date_of_birth_month": "5",
    "date_of_birth_year": "2007",
    "gender": "2",
    "postcode": "LS2 9JT",
    **CONFIRMED,
}


def by_details(client, **changes):
    return client.post(url("find-by-details"), {**DETAILS, **changes})


def handles(response):
    return re.findall(r'name="handle" value="([^"]+)"', body(response))


def view_record(client, handle):
    return client.post(url("view-record"), {"handle": handle})


def assert_not_redirected(response):
    assert response.status_code == HTTPStatus.OK
    assert getattr(response, "url", None) is None
    assert not response.has_header("Location")


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"]


def assert_field_errors(response, *fields):
    assert response.status_code == HTTPStatus.OK
    html = body(response)
    assert 'class="govuk-error-summary"' in html
    for field in fields:
        assert f'id="id_{field}_error"' in html, field


# --- the start page and who reaches it


def test_the_start_page_offers_both_ways_to_find_a_learner(client_):
    response = client_.get(url("find"))

    html = body(response)
    assert response.status_code == HTTPStatus.OK
    assert html.count("<h1") == 1
    assert url("find-by-uln") in html
    assert url("find-by-details") in html
    assert "privacy notice" in html


@pytest.mark.parametrize("name", ["find", "find-by-uln", "find-by-details"])
def test_someone_signed_out_is_sent_to_sign_in(client, name):
    response = client.get(url(name))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("two_factor:login"))


def test_someone_signed_out_cannot_view_a_record(client):
    response = client.post(url("view-record"), {"handle": "x"})

    assert response.status_code == HTTPStatus.FOUND
    assert not LearnerView.objects.exists()


def _suspend(organisation):
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()


def _publish_new_agreement(organisation):
    AgreementVersionFactory.create()


def _forget_terms(organisation):
    organisation.memberships.update(terms_accepted_at=None)


@pytest.mark.parametrize(
    ("refuse", "reason"),
    [
        (_suspend, "Your organisation's access to the LRS is suspended."),
        (
            _publish_new_agreement,
            "Your organisation has not signed the current LRS agreement.",
        ),
        (_forget_terms, "Accept the LRS user terms before looking up learners."),
    ],
)
def test_every_lookup_page_states_the_refusal_and_nothing_more(
    client_, searcher, organisation, refuse, reason
):
    learner = make_learner()
    handle = signing.dumps({"l": learner.pk, "u": searcher.pk}, salt=SALT)
    refuse(organisation)

    responses = [
        client_.get(url("find")),
        client_.get(url("find-by-uln")),
        client_.get(url("find-by-details")),
        by_uln(client_),
        by_details(client_),
        view_record(client_, handle),
    ]

    for response in responses:
        html = body(response)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "You cannot look up learners" in html
        assert reason in html
        assert "<form" not in html.split('id="main-content"')[1].split("</main>")[0]
        assert "Hughes" not in html
    assert not LearnerView.objects.exists()


def test_someone_outside_any_organisation_is_refused(outsider):
    response = signed_in(outsider).get(url("find-by-uln"))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "not linked to a registered organisation" in body(response)


def test_a_reached_hourly_cap_shows_the_refusal_page(client_, settings):
    settings.LOOKUP_USER_HOURLY_CAP = 1
    make_learner()
    assert by_uln(client_).status_code == HTTPStatus.OK

    response = by_uln(client_)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "reached the number of lookups allowed in an hour" in body(response)
    assert "Hughes" not in body(response)
    outcomes = list(LearnerView.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == [OUTCOME.EXACT_MATCH, OUTCOME.REFUSED]


# --- find by ULN


def test_the_uln_form_asks_for_digits_without_autocomplete_or_spellcheck(client_):
    html = body(client_.get(url("find-by-uln")))

    field = re.search(r'<input[^>]+name="uln"[^>]*>', html)[0]
    assert 'inputmode="numeric"' in field
    assert 'autocomplete="off"' in field
    assert 'spellcheck="false"' in field
    assert "I have given this learner the LRS privacy notice" in html
    assert "I am looking up this learner to enrol them as our own student" in html


def test_a_uln_search_shows_the_match_in_the_response_and_logs_one_row(client_):
    make_learner()

    response = by_uln(client_)

    assert_not_redirected(response)
    html = body(response)
    assert "Learner found" in html
    assert "Amelia Rose Hughes" in html
    assert ULN in html
    # Enough to confirm the person without a second lookup (issue 17).
    assert "14 May 2007" in html
    assert "LS2 9JT" in html
    assert len(handles(response)) == 1
    row = LearnerView.objects.get()
    assert row.action == LearnerView.Action.SEARCH_ULN
    assert row.outcome == OUTCOME.EXACT_MATCH
    assert row.learner_uln == ULN
    assert row.request_id
    assert row.request_id == response["X-Request-ID"]


def test_a_uln_typed_with_spaces_is_found(client_):
    make_learner()

    response = by_uln(client_, uln=" 927 630 8686 ")

    assert "Learner found" in body(response)


def test_a_uln_with_no_learner_is_a_logged_no_match(client_):
    response = by_uln(client_, uln="1964986809")

    assert_not_redirected(response)
    assert "No learner found" in body(response)
    assert handles(response) == []
    assert LearnerView.objects.get().outcome == OUTCOME.NO_MATCH


@pytest.mark.parametrize(
    ("uln", "message"),
    [
        ("9276308687", "This ULN is not valid: check for a mistyped digit"),
        ("0000000042", "A ULN cannot start with 0"),
        ("9999999999", "9999999999 is the temporary ULN"),
        ("12345", "A ULN is 10 digits"),
        ("", "Enter a ULN"),
    ],
)
def test_a_bad_uln_is_refused_by_the_form_before_any_search(client_, uln, message):
    make_learner()

    response = by_uln(client_, uln=uln)

    assert_field_errors(response, "uln")
    assert message in body(response)
    assert "Error: " in body(response).split("</title>")[0]
    assert not LearnerView.objects.exists()


@pytest.mark.parametrize("missing", ["privacy_notice", "own_student"])
def test_both_confirmations_are_required_before_a_uln_search(client_, missing):
    make_learner()
    data = {"uln": ULN, **CONFIRMED}
    del data[missing]

    response = client_.post(url("find-by-uln"), data)

    assert_field_errors(response, missing)
    assert "Learner found" not in body(response)
    assert not LearnerView.objects.exists()


def test_the_confirmation_errors_say_what_to_confirm(client_):
    response = client_.post(url("find-by-uln"), {"uln": ULN})

    html = body(response)
    assert "Confirm you have given this learner the LRS privacy notice" in html
    assert "Confirm you are looking up this learner to enrol them as your own" in html


@pytest.mark.parametrize("name", ["find-by-uln", "find-by-details"])
def test_a_search_in_the_address_is_not_allowed(client_, name):
    make_learner()

    response = client_.get(
        url(name), {"uln": ULN, "family_name": "Hughes", **CONFIRMED}
    )

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not LearnerView.objects.exists()


def test_a_record_cannot_be_opened_by_get(client_, searcher):
    learner = make_learner()
    handle = signing.dumps({"l": learner.pk, "u": searcher.pk}, salt=SALT)

    response = client_.get(url("view-record"), {"handle": handle})

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not LearnerView.objects.exists()


def test_the_forms_post_to_addresses_without_learner_data(client_):
    for name in ("find-by-uln", "find-by-details"):
        html = body(client_.get(url(name)))
        actions = re.findall(r'<form method="(\w+)" action="([^"]*)"', html)
        assert ("post", url(name)) in actions, actions
        assert all("?" not in action for _, action in actions)


# --- viewing the record


def test_the_whole_uln_flow_logs_the_search_and_the_view(client_):
    learner = make_learner(ability_to_share=Learner.AbilityToShare.NOTICE_SEEN)
    Achievement.objects.create(
        learner=learner,
        awarding_organisation="Pearson",
        qualification_title="BTEC Level 3 National Diploma in Engineering",
        qualification_type="BTEC",
        level="3",
        subject="Engineering",
        grade="Distinction",
        award_date=date(2024, 7, 31),
        awarding_provider_ukprn="10012345",
    )
    [handle] = handles(by_uln(client_))

    response = view_record(client_, handle)

    assert_not_redirected(response)
    html = body(response)
    for shown in (
        ULN,
        "Amelia Rose Hughes",
        "Baker",
        "14 May 2007",
        "Female",
        "LS2 9JT",
        "amelia.hughes@example.com",
        "Privacy notice seen, may share",
        "Pearson",
        "BTEC Level 3 National Diploma in Engineering",
        "Engineering",
        "Distinction",
        "31 July 2024",
        "10012345",
    ):
        assert shown in html, shown
    assert html.count("<h1") == 1
    actions = list(LearnerView.objects.order_by("pk").values_list("action", "outcome"))
    assert actions == [
        (LearnerView.Action.SEARCH_ULN, OUTCOME.EXACT_MATCH),
        (LearnerView.Action.VIEW_RECORD, OUTCOME.SHOWN),
    ]
    assert LearnerView.objects.last().learner_uln == ULN


SHARE = Learner.AbilityToShare
NOT_SHARED_TEXT = (
    "The learner has not agreed to share their learning record, "
    "so no achievements are shown."
)


def _learner_with_an_achievement(ability_to_share) -> Learner:
    learner = make_learner(ability_to_share=ability_to_share)
    Achievement.objects.create(
        learner=learner,
        awarding_organisation="Pearson",
        qualification_title="BTEC Level 3 National Diploma in Engineering",
        qualification_type="BTEC",
        level="3",
        subject="Engineering",
        award_date=date(2024, 7, 31),
    )
    return learner


@pytest.mark.parametrize(
    ("choice", "label", "outcome"),
    [
        (SHARE.NOTICE_SEEN, "Privacy notice seen, may share", OUTCOME.SHOWN),
        (SHARE.NOTICE_NOT_SEEN, "Privacy notice not seen", OUTCOME.NOT_SHARED),
        (SHARE.NOT_PROVIDED, "Not provided", OUTCOME.NOT_SHARED),
    ],
)
def test_the_record_shows_achievements_only_when_the_learner_may_share(
    client_, choice, label, outcome
):
    _learner_with_an_achievement(choice)
    [handle] = handles(by_uln(client_))

    response = view_record(client_, handle)

    assert_not_redirected(response)
    assert_no_store(response)
    html = body(response)
    for shown in (ULN, "Amelia Rose Hughes", "14 May 2007", "LS2 9JT", label):
        assert shown in html, shown  # the demographics, whatever the choice
    shared = choice == SHARE.NOTICE_SEEN
    assert ("BTEC Level 3 National Diploma in Engineering" in html) is shared
    assert (NOT_SHARED_TEXT in html) is not shared
    assert ('class="govuk-inset-text"' in html) is not shared
    assert "No achievements are recorded for this learner." not in html
    view = LearnerView.objects.get(action=LearnerView.Action.VIEW_RECORD)
    assert view.outcome == outcome
    assert view.learner_uln == ULN


def test_a_record_without_achievements_says_so(client_):
    make_learner(ability_to_share=SHARE.NOTICE_SEEN)
    [handle] = handles(by_uln(client_))

    html = body(view_record(client_, handle))

    assert "No achievements are recorded for this learner." in html


def test_each_view_of_a_record_is_logged(client_):
    make_learner()
    [handle] = handles(by_uln(client_))

    view_record(client_, handle)
    view_record(client_, handle)

    views = LearnerView.objects.filter(action=LearnerView.Action.VIEW_RECORD)
    assert views.count() == 2
    assert LearnerView.objects.count() == 3


def test_a_tampered_handle_is_not_found_and_logs_nothing(client_):
    make_learner()
    [handle] = handles(by_uln(client_))
    value, signature = handle.rsplit(":", 1)

    for bad in (f"{value}:{signature[::-1]}", "not-a-handle", "", "a:b:c"):
        assert view_record(client_, bad).status_code == HTTPStatus.NOT_FOUND
    assert LearnerView.objects.count() == 1  # the search only


def test_an_expired_handle_is_not_found_and_logs_nothing(client_, searcher):
    learner = make_learner()
    sixteen_minutes_ago = time.time() - 16 * 60
    with mock.patch.object(signing.time, "time", return_value=sixteen_minutes_ago):
        handle = signing.dumps({"l": learner.pk, "u": searcher.pk}, salt=SALT)

    response = view_record(client_, handle)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not LearnerView.objects.exists()


def test_a_handle_still_works_within_fifteen_minutes(client_, searcher):
    learner = make_learner()
    fourteen_minutes_ago = time.time() - 14 * 60
    with mock.patch.object(signing.time, "time", return_value=fourteen_minutes_ago):
        handle = signing.dumps({"l": learner.pk, "u": searcher.pk}, salt=SALT)

    assert view_record(client_, handle).status_code == HTTPStatus.OK


def test_another_users_handle_is_not_found_and_logs_nothing(client_, organisation):
    make_learner()
    colleague = member_of(organisation)
    [handle] = handles(by_uln(signed_in(colleague)))

    response = view_record(client_, handle)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert LearnerView.objects.filter(action="view_record").count() == 0


@pytest.mark.parametrize(
    "payload",
    [["l", 1], {"l": "1", "u": None}, {"u": 1}, "text", {"l": 10**9, "u": None}],
)
def test_a_signed_but_unusable_handle_is_not_found(client_, searcher, payload):
    make_learner()
    if isinstance(payload, dict) and "u" in payload:
        payload["u"] = searcher.pk
    handle = signing.dumps(payload, salt=SALT)

    assert view_record(client_, handle).status_code == HTTPStatus.NOT_FOUND
    assert not LearnerView.objects.exists()


def test_a_handle_signed_for_something_else_is_not_found(client_, searcher):
    learner = make_learner()
    handle = signing.dumps({"l": learner.pk, "u": searcher.pk})  # no salt

    assert view_record(client_, handle).status_code == HTTPStatus.NOT_FOUND


def test_a_suspension_after_the_search_stops_the_view(client_, organisation):
    make_learner()
    [handle] = handles(by_uln(client_))
    _suspend(organisation)

    response = view_record(client_, handle)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Amelia" not in body(response)
    assert LearnerView.objects.count() == 1


def test_results_and_records_are_never_cached(client_):
    make_learner()
    found = by_uln(client_)
    missing = by_uln(client_, uln="1964986809")
    details = by_details(client_)
    record = view_record(client_, handles(found)[0])

    for response in (found, missing, details, record):
        assert_no_store(response)


# --- find by the five demographics


def test_the_details_form_uses_govuk_date_input_and_gender_codes(client_):
    html = body(client_.get(url("find-by-details")))

    for part in ("day", "month", "year"):
        assert f'name="date_of_birth_{part}"' in html
    radios = re.findall(r'name="gender" type="radio" value="(\d)"', html)
    assert radios == ["2", "1", "0", "9"]  # female, male, not known, not specified


def test_an_exact_match_by_details_shows_a_summary_and_a_view_button(client_):
    make_learner()

    response = by_details(client_, given_name="amelia", postcode="ls29jt")

    assert_not_redirected(response)
    html = body(response)
    assert "Learner found" in html
    assert "Amelia Rose Hughes" in html
    assert len(handles(response)) == 1
    row = LearnerView.objects.get()
    assert (row.action, row.outcome) == ("search_demographics", OUTCOME.EXACT_MATCH)


def test_the_whole_details_flow_logs_the_search_and_the_view(client_):
    make_learner()
    [handle] = handles(by_details(client_))

    response = view_record(client_, handle)

    assert "14 May 2007" in body(response)
    assert LearnerView.objects.count() == 2


def test_possible_matches_show_only_what_tells_them_apart(client_):
    make_learner(ULN, postcode="LS2 9JT", middle_names="")
    make_learner("1964986809", postcode="M1 1AE", middle_names="Jane")

    response = by_details(client_, postcode="BD1 1AA")

    assert_not_redirected(response)
    html = body(response)
    main = html.split('id="main-content"')[1]
    assert "2 possible matches" in main
    assert ">LS2<" in main
    assert ">M1<" in main
    assert ">J<" in main  # middle initial
    assert "Jane" not in main
    for hidden in (ULN, "1964986809", "LS2 9JT", "9JT", "M1 1AE", "2007", "14 May"):
        assert hidden not in main, hidden
    assert len(handles(response)) == 2
    row = LearnerView.objects.get()
    assert (row.outcome, row.match_count) == (OUTCOME.POSSIBLE_MATCHES, 2)


def test_each_possible_match_opens_its_own_record(client_):
    make_learner(ULN, postcode="LS2 9JT")
    make_learner("1964986809", postcode="M1 1AE")
    first, second = handles(by_details(client_, postcode="BD1 1AA"))

    pages = [body(view_record(client_, handle)) for handle in (first, second)]
    assert sorted(ULN in page for page in pages) == [False, True]
    assert sorted("1964986809" in page for page in pages) == [False, True]
    assert LearnerView.objects.count() == 3


def test_too_many_matches_shows_no_learner(client_):
    for n, uln in enumerate(ulns(11)):
        make_learner(uln, postcode=f"LS{n + 1} 1AA")

    response = by_details(client_, postcode="BD1 1AA")

    assert_not_redirected(response)
    html = body(response)
    assert "More than 10 learners match. Add more detail to narrow the search" in html
    main = html.split('id="main-content"')[1]
    assert "Amelia" not in main
    assert "Hughes" not in main
    assert handles(response) == []
    assert LearnerView.objects.get().outcome == OUTCOME.TOO_MANY_MATCHES


def test_no_match_by_details_gives_advice(client_):
    make_learner()

    response = by_details(client_, family_name="Smith")

    assert_not_redirected(response)
    html = body(response)
    assert "No learner found" in html
    assert "family name they had before" in html
    assert LearnerView.objects.get().outcome == OUTCOME.NO_MATCH


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Enter the learner's given name"),
        ({"family_name": "H" * 36}, "family_name", "35 characters or less"),
        ({"family_name": "Hughes2"}, "family_name", "must only include letters"),
        ({"family_name": "-Hughes"}, "family_name", "must only include letters"),
        ({"date_of_birth_day": "31", "date_of_birth_month": "2"}, "date_of_birth",
         "Date of birth must be a real date"),
        ({"date_of_birth_month": ""}, "date_of_birth",
         "Date of birth must include a month"),
        ({"date_of_birth_day": "", "date_of_birth_year": ""}, "date_of_birth",
         "Date of birth must include a day and year"),
        ({"date_of_birth_day": "", "date_of_birth_month": "",
          "date_of_birth_year": ""}, "date_of_birth",
         "Enter the learner's date of birth"),
        ({"date_of_birth_year": "07"}, "date_of_birth", "Year must include 4 numbers"),
        ({"date_of_birth_day": "x"}, "date_of_birth", "must be a real date"),
        # 11 digits overflowed date() (issue 16): a field error, not a 500
        ({"date_of_birth_day": "1" * 11}, "date_of_birth", "must be a real date"),
        ({"date_of_birth_month": "9" * 20}, "date_of_birth", "must be a real date"),
        ({"date_of_birth_day": "014"}, "date_of_birth", "must be a real date"),
        ({"date_of_birth_year": "1899"}, "date_of_birth", "after 1 January 1900"),
        ({"date_of_birth_year": str(timezone.localdate().year + 1)},
         "date_of_birth", "Date of birth must be in the past"),
        ({"gender": ""}, "gender", "Select the learner's gender"),
        ({"gender": "5"}, "gender", "Select a valid choice"),
        ({"postcode": "LS2"}, "postcode", "Enter a real postcode"),
        ({"postcode": "LS2 9JT<script>"}, "postcode", "Enter a real postcode"),
        ({"privacy_notice": ""}, "privacy_notice", "Confirm you have given"),
        ({"own_student": ""}, "own_student", "Confirm you are looking up"),
    ],
)  # fmt: skip
def test_bad_details_are_refused_by_the_form_before_any_search(
    client_, changes, field, message
):
    make_learner()

    response = by_details(client_, **changes)

    assert_field_errors(response, field)
    assert message in body(response)
    assert "Learner found" not in body(response)
    assert not LearnerView.objects.exists()


def test_the_error_summary_links_to_the_first_date_box_in_error(client_):
    response = by_details(client_, date_of_birth_month="")

    html = body(response)
    assert 'href="#id_date_of_birth_month"' in html
    month = re.search(r'<input[^>]+id="id_date_of_birth_month"[^>]*>', html)[0]
    day = re.search(r'<input[^>]+id="id_date_of_birth_day"[^>]*>', html)[0]
    assert "govuk-input--error" in month
    assert "govuk-input--error" not in day
    assert 'value="14"' in day


def test_today_is_not_a_date_of_birth(client_):
    today = timezone.localdate()

    response = by_details(
        client_,
        date_of_birth_day=str(today.day),
        date_of_birth_month=str(today.month),
        date_of_birth_year=str(today.year),
    )

    assert "Date of birth must be in the past" in body(response)


def test_names_with_apostrophes_hyphens_and_accents_are_accepted(client_):
    make_learner(given_name="Zoë", family_name="O'Brien-Smith")

    response = by_details(client_, given_name="zoë", family_name="O\u2019Brien-Smith")

    assert "Learner found" in body(response)


def test_no_learner_data_ever_reaches_an_address(client_):
    make_learner()
    make_learner("1964986809", postcode="M1 1AE")
    responses = [
        by_uln(client_),
        by_uln(client_, uln="1234567890"),
        by_details(client_),
        by_details(client_, postcode="BD1 1AA"),
        by_details(client_, family_name="Smith"),
    ]
    responses.append(view_record(client_, handles(responses[0])[0]))

    for response in responses:
        assert_not_redirected(response)
        for link in re.findall(r'(?:href|action)="([^"]*)"', body(response)):
            for personal in (ULN, "1964986809", "Amelia", "Hughes", "LS2", "2007"):
                assert personal not in link


# --- the account page


def test_members_find_the_lookup_pages_from_their_account(client_):
    html = body(client_.get(reverse("lrs_portal:account")))

    assert url("find") in html
    assert url("usage") not in html


def test_people_outside_an_organisation_get_no_lookup_link(outsider):
    html = body(signed_in(outsider).get(reverse("lrs_portal:account")))

    assert url("find") not in html


def test_the_super_user_finds_the_usage_page_from_their_account(organisation):
    boss = member_of(organisation, super_user=True)

    html = body(signed_in(boss).get(reverse("lrs_portal:account")))

    assert url("usage") in html


def test_an_inactive_user_is_signed_out(searcher):
    client = signed_in(searcher)
    searcher.is_active = False
    searcher.save()

    response = client.get(url("find"))

    assert response.status_code == HTTPStatus.FOUND
    assert not LearnerView.objects.exists()


def test_a_learner_deleted_after_the_search_is_not_found(client_):
    learner = make_learner()
    [handle] = handles(by_uln(client_))
    learner.delete()

    assert view_record(client_, handle).status_code == HTTPStatus.NOT_FOUND
    assert LearnerView.objects.count() == 1


# --- how much each search costs the database ---------------------------------------


def _statements(captured):
    """The statements run, leaving out transaction control (BEGIN, SAVEPOINT…)."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in captured if not q["sql"].startswith(control)]


@pytest.mark.parametrize("search", [by_uln, by_details])
def test_a_search_is_gated_counted_found_and_logged_in_eight_statements(
    client_, search
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_learner()
    search(client_)  # not the member's first search today (see below)
    with CaptureQueriesContext(connection) as captured:
        response = search(client_)

    assert response.status_code == HTTPStatus.OK
    statements = _statements(captured.captured_queries)
    # A member's first lookup of a day may also note the day on the membership
    # (once a day); every other lookup runs these and no more.
    # The session, the user and their roles (middleware); the membership with
    # everything the gate reads, locked, in one; the organisation's caps lock
    # (PostgreSQL; decision 26); both caps' counts in one; the learner; the log
    # row. Nothing else: no second gate, no session write.
    assert len(statements) <= 8, "\n".join(statements)
    gate = [s for s in statements if "registration_membership" in s]
    assert len(gate) == 1
    assert "registration_agreementversion" in gate[0]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in gate[0]
        locks = [s for s in statements if "pg_advisory_xact_lock" in s]
        assert len(locks) == 1
        # Taken before the counts, so that their snapshot follows it.
        assert statements.index(locks[0]) < statements.index(
            next(s for s in statements if "COUNT(" in s)
        )
    assert len([s for s in statements if "COUNT(" in s]) == 1
    assert len([s for s in statements if s.startswith("INSERT")]) == 1


@pytest.mark.parametrize(
    "search",
    [lambda c: by_uln(c, uln="123"), lambda c: by_details(c, family_name="")],
)
def test_a_refused_user_sees_the_refusal_not_their_form_errors(
    client_, organisation, search
):
    _suspend(organisation)

    response = search(client_)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "access to the LRS is suspended" in body(response)
    assert (
        "<form" not in body(response).split('id="main-content"')[1].split("</main>")[0]
    )
    assert not LearnerView.objects.exists()


# --- issue 17: confirming the person, month names, the matches table -------------


def test_the_match_page_shows_what_the_logged_search_read_and_nothing_more(
    client_, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_learner()

    with CaptureQueriesContext(connection) as queries:
        response = by_details(client_)

    html = body(response).split('id="main-content"')[1]
    assert "Learner found" in html
    for shown in ("Amelia Rose Hughes", "14 May 2007", "LS2 9JT", ULN):
        assert shown in html, shown
    learner_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and '"records_learner"' in q["sql"]
        and "records_learnerview" not in q["sql"]
    ]
    assert len(learner_reads) == 1  # the search's own read, inside its log's step
    assert LearnerView.objects.get().outcome == OUTCOME.EXACT_MATCH


@pytest.mark.parametrize("month", ["May", "may", "MAY", "5", "05", " May ", "may."])
def test_a_month_written_as_a_word_is_the_month(client_, month):
    make_learner()

    response = by_details(client_, date_of_birth_month=month)

    assert "Learner found" in body(response)


@pytest.mark.parametrize(
    ("month", "number"),
    [("march", 3), ("Sept", 9), ("sep", 9), ("September", 9), ("dec", 12)],
)
def test_month_names_and_abbreviations_are_read(month, number):
    from records.forms import real_past_date

    assert real_past_date("Date of birth", ("1", month, "2001")) == date(
        2001, number, 1
    )


# ("Mai" is May in Welsh, and a date input takes Welsh month names too.)
@pytest.mark.parametrize("month", ["Maia", "M", "13", "Smarch", "mayday"])
def test_a_word_that_is_no_month_is_not_a_real_date(client_, month):
    response = by_details(client_, date_of_birth_month=month)

    assert "Date of birth must be a real date" in body(response)
    assert not LearnerView.objects.exists()


def test_a_data_share_date_takes_a_month_name_too():
    from approvals.form_fields import DateField

    field = DateField(label="Start date", required="Enter the start date")

    assert field.clean(["1", "Sept", "2026"]) == date(2026, 9, 1)


def test_a_possible_match_without_a_middle_name_shows_nothing_there(client_):
    make_learner(ULN, postcode="LS2 9JT", middle_names="")
    make_learner("1964986809", postcode="M1 1AE", middle_names="Jane")

    html = body(by_details(client_, postcode="BD1 1AA"))

    main = html.split('id="main-content"')[1]
    assert "None" not in main
    cells = re.findall(r'<td class="govuk-table__cell"[^>]*>([^<]*)</td>', main)
    assert "" in cells  # the empty middle initial
    assert 'class="govuk-table app-table--stacked"' in main
    assert 'data-label="Postcode area"' in main
