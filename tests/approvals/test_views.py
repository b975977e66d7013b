from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import services
from approvals.models import DataShareRequest, ResearchOrganisation
from tests.approvals.conftest import Cast, make_requester
from tests.approvals.factories import DataShareRequestFactory

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, share: DataShareRequest, *args) -> str:
    return reverse(f"approvals:{name}", args=[share.reference, *args])


# --- the list ---


def test_the_list_says_when_there_are_no_requests(cast: Cast):
    other = make_requester(
        ResearchOrganisation.objects.create(name="New", kind="charity")
    )

    response = _client(other).get(reverse("approvals:requests"))

    assert response.status_code == HTTPStatus.OK
    assert "Your organisation has not made any requests yet." in response.text


def test_the_list_shows_only_the_organisation_s_requests(cast: Cast):
    DataShareRequestFactory.create(project_title="Someone else's project")

    response = _client(cast.requester).get(reverse("approvals:requests"))

    assert cast.request.reference in response.text
    assert "Someone else&#x27;s project" not in response.text


def test_the_list_is_paginated(cast: Cast):
    for _ in range(21):
        DataShareRequestFactory.create(
            organisation=cast.organisation, requester=cast.requester
        )

    first = _client(cast.requester).get(reverse("approvals:requests"))
    second = _client(cast.requester).get(reverse("approvals:requests") + "?page=2")

    assert first.text.count("govuk-table__row") == 21  # header and 20 rows
    assert second.text.count("govuk-table__row") == 3  # header and 2 rows
    assert 'rel="next"' in first.text


def test_starting_a_request_is_a_post_that_makes_a_draft(cast: Cast):
    client = _client(cast.requester)

    assert client.get(reverse("approvals:start-request")).status_code == 405
    response = client.post(reverse("approvals:start-request"))

    started = DataShareRequest.objects.exclude(pk=cast.request.pk).get()
    assert response.url == _url("tasks", started)
    assert started.status == S.DRAFT
    assert started.organisation == cast.organisation


# --- filling it in ---


def test_the_task_list_shows_each_section(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    response = _client(cast.requester).get(_url("tasks", draft))

    assert "You have completed 0 of 7 sections." in response.text
    assert "Check answers and submit" in response.text


@pytest.mark.parametrize("field", ["project_title", "summary", "research_interest"])
def test_an_answer_longer_than_its_column_is_a_field_error(cast: Cast, field):
    # issue 16: a 100,000-character project title was accepted
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )
    answers = {"project_title": "T", "summary": "S", "research_interest": "R"}

    response = _client(cast.requester).post(
        _url("section", draft, "project"), {**answers, field: "x" * 100_000}
    )

    assert response.status_code == HTTPStatus.OK
    assert f'href="#id_{field}"' in response.content.decode()
    assert "characters or fewer" in response.content.decode()
    draft.refresh_from_db()
    assert len(getattr(draft, field)) < 100_000


def test_a_section_saves_and_records_who(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    response = _client(cast.requester).post(
        _url("section", draft, "project"),
        {
            "project_title": "Reading at age 7",
            "summary": "Public benefit",
            "research_interest": "Early years",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.project_title == "Reading at age 7"
    latest = draft.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        cast.requester,
        "The project and its public benefit saved",
    )


def test_a_section_with_errors_shows_an_error_summary_and_saves_nothing(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    response = _client(cast.requester).post(
        _url("section", draft, "access"), {"access_route": "direct_supply"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "There is a problem" in response.text
    assert "Give the reason you need direct supply" in response.text
    draft.refresh_from_db()
    assert draft.access_route == ""


def test_dates_must_be_real_and_in_order(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    response = _client(cast.requester).post(
        _url("section", draft, "dates"),
        {
            "start_date_day": "31",
            "start_date_month": "2",
            "start_date_year": "2027",
            "end_date_day": "1",
            "end_date_month": "1",
            "end_date_year": "2027",
            "retention_plan": "Destroyed",
        },
    )

    assert "Start date must be a real date" in response.text
    assert 'href="#id_start_date_day"' in response.text


def test_an_unknown_section_is_not_found(cast: Cast):
    response = _client(cast.requester).get(_url("section", cast.request, "nonsense"))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_adding_and_removing_a_dataset(cast: Cast):
    client = _client(cast.requester)

    client.post(
        _url("datasets", cast.request), {"academic_year": "2020/21", "tier": "3"}
    )
    added = cast.request.datasets.get(academic_year="2020/21")
    assert added.tier == 3
    client.post(_url("remove-dataset", cast.request, added.pk))

    assert not cast.request.datasets.filter(academic_year="2020/21").exists()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2019/21", "two years in a row"),
        ("1999/00", "must be between 2002/03"),
        ("2019-20", "in the format 2019/20"),
        ("", "Enter the academic year"),
    ],
)
def test_an_academic_year_must_be_a_real_npd_year(cast: Cast, year, message):
    response = _client(cast.requester).post(
        _url("datasets", cast.request), {"academic_year": year, "tier": "2"}
    )

    assert message in response.text


def test_a_researcher_without_accreditation_needs_no_expiry_date(cast: Cast):
    _client(cast.requester).post(
        _url("researchers", cast.request),
        {
            "full_name": "Sam Student",
            "email": "sam@uni.example.ac.uk",
            "accreditation": "none",
        },
    )

    added = cast.request.researchers.get(email="sam@uni.example.ac.uk")
    assert added.accreditation_expires_on is None


def test_an_accredited_researcher_needs_a_number_and_expiry(cast: Cast):
    response = _client(cast.requester).post(
        _url("researchers", cast.request),
        {"full_name": "Pat", "email": "pat@uni.example.ac.uk", "accreditation": "full"},
    )

    assert "Enter the accreditation number" in response.text
    assert "Enter the date the accreditation expires" in response.text


# --- submitting and following it ---


def test_check_answers_then_submit(cast: Cast):
    client = _client(cast.requester)
    page = client.get(_url("check-answers", cast.request))
    assert "Attainment gaps after the pandemic" in page.text

    response = client.post(_url("check-answers", cast.request), {"confirmed": "on"})

    assert response.url == _url("request", cast.request)
    assert cast.refresh().status == S.SUBMITTED


def test_an_incomplete_request_is_refused_with_the_sections_named(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    response = _client(cast.requester).post(
        _url("check-answers", draft), {"confirmed": "on"}
    )

    assert "Complete the section: The project and its public benefit" in response.text
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_a_returned_request_is_answered_and_resubmitted(cast: Cast):
    cast.submit()
    services.request_return_for_information(
        request=cast.request, acting_user=cast.caseworker, request_text="Which tier?"
    )
    client = _client(cast.requester)
    assert "Which tier?" in client.get(_url("request", cast.request)).text

    missing = client.post(_url("check-answers", cast.request), {"confirmed": "on"})
    assert "Answer our request for information" in missing.text
    client.post(
        _url("check-answers", cast.request),
        {"confirmed": "on", "response": "Tier 2 only"},
    )

    assert cast.refresh().status == S.SUBMITTED
    assert cast.request.information_response == "Tier 2 only"


def test_a_submitted_request_s_sections_redirect_to_its_status(cast: Cast):
    cast.submit()

    response = _client(cast.requester).post(
        _url("section", cast.request, "project"), {"project_title": "Changed"}
    )

    assert response.url == _url("request", cast.request)
    assert cast.refresh().project_title == "Attainment gaps after the pandemic"


def test_the_status_page_shows_the_decision_and_how_it_supports_the_aims(cast: Cast):
    cast.approve()

    response = _client(cast.requester).get(_url("request", cast.request))

    assert "Approved" in response.text
    assert "It informs catch-up funding, a research interest." in response.text


def test_withdrawing_asks_first_then_withdraws_on_post(cast: Cast):
    client = _client(cast.requester)

    assert "Are you sure" in client.get(_url("withdraw", cast.request)).text
    assert cast.refresh().status == S.DRAFT
    client.post(_url("withdraw", cast.request))

    assert cast.refresh().status == S.WITHDRAWN


def test_the_destruction_certificate_is_sent_after_release(cast: Cast):
    cast.release()
    today = timezone.localdate()

    response = _client(cast.requester).post(
        _url("certificate", cast.request),
        {
            "destroyed_by": "Dr A Researcher",
            "destroyed_on_day": str(today.day),
            "destroyed_on_month": str(today.month),
            "destroyed_on_year": str(today.year),
            "what_was_destroyed": "Extract and derived tables",
            "method": "Deleted in the SRS",
        },
    )

    assert response.url == _url("request", cast.request)
    assert cast.refresh().certificate.destroyed_by == "Dr A Researcher"


def test_a_certificate_dated_tomorrow_is_refused(cast: Cast):
    cast.release()
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = _client(cast.requester).post(
        _url("certificate", cast.request),
        {
            "destroyed_by": "A",
            "destroyed_on_day": str(tomorrow.day),
            "destroyed_on_month": str(tomorrow.month),
            "destroyed_on_year": str(tomorrow.year),
            "what_was_destroyed": "x",
            "method": "y",
        },
    )

    assert "Date destroyed must be today or in the past" in response.text


def test_no_certificate_page_before_release(cast: Cast):
    response = _client(cast.requester).get(_url("certificate", cast.request))

    assert response.url == _url("request", cast.request)


# --- the public register ---


def test_the_register_lists_approved_shares_only(cast: Cast):
    cast.approve()
    DataShareRequestFactory.create(complete=True, project_title="Still a draft")

    response = Client().get(reverse("approvals:published"))

    assert "Attainment gaps after the pandemic" in response.text
    assert "Still a draft" not in response.text


def test_the_register_csv_cannot_run_formulas(cast: Cast):
    cast.request.project_title = '=HYPERLINK("http://evil")'
    cast.request.save()
    cast.release()  # the register lists the years released

    response = Client().get(reverse("approvals:published-csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content.decode()
    assert "'=HYPERLINK" in body
    assert "2019/20 (tier 2)" in body
    assert body.splitlines()[0].startswith("Reference,Requesting organisation")


def test_a_requester_s_account_page_links_to_their_requests(cast: Cast):
    response = _client(cast.requester).get(reverse("lrs_portal:account"))

    assert reverse("approvals:requests") in response.text


def test_a_provider_s_account_page_does_not(provider_user):
    response = _client(provider_user).get(reverse("lrs_portal:account"))

    assert reverse("approvals:requests") not in response.text


def test_the_status_page_shows_what_has_happened(cast: Cast):
    cast.submit()
    services.request_return_for_information(
        request=cast.request, acting_user=cast.caseworker, request_text="Which tier?"
    )

    response = _client(cast.requester).get(_url("request", cast.request))

    timeline = response.text.split("What has happened")[1]
    assert timeline.index("Draft") < timeline.index("Submitted: checking")
    assert timeline.index("Submitted: checking") < timeline.index(
        "More information needed"
    )
