"""A provider looks up a learner by ULN and by their details, in Debian's chromium.

Every search and record view leaves exactly one log row, and no ULN or name ever
appears in an address the browser asked for (records/views.py: results are
rendered in the response to the POST, and "View record" posts a signed handle).
"""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from records.models import Learner, LearnerView
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    PASSWORD,
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
)
from tests.records.factories import AchievementFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

ULN = "9276308686"
GIVEN_NAME = "Amelia"
FAMILY_NAME = "Hughes"
DOB = date(2007, 5, 14)
POSTCODE = "LS2 9JT"
QUALIFICATION = "GCSE (9-1) in Mathematics"
ACTION = LearnerView.Action
OUTCOME = LearnerView.Outcome


@pytest.fixture
def searcher():
    version = AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(last_signed_version=version)
    return member_of(organisation)


@pytest.fixture
def learner() -> Learner:
    learner = Learner.objects.create(
        uln=ULN,
        given_name=GIVEN_NAME,
        family_name=FAMILY_NAME,
        date_of_birth=DOB,
        gender=Learner.Gender.FEMALE,
        postcode=POSTCODE,
        ability_to_share=Learner.AbilityToShare.NOTICE_SEEN,
    )
    AchievementFactory.create(learner=learner, qualification_title=QUALIFICATION)
    return learner


def _confirm(page: Page) -> None:
    page.get_by_label("I have given this learner the LRS privacy notice").check()
    page.get_by_label(
        "I am looking up this learner to enrol them as our own student"
    ).check()


def _assert_exact_match(page: Page) -> None:
    expect(page.get_by_role("heading", name="Learner found")).to_be_visible()
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text(f"{GIVEN_NAME} {FAMILY_NAME}")
    expect(summary).to_contain_text(ULN)


@pytest.mark.usefixtures("log_truncate_allowed")
def test_a_provider_finds_a_learner_by_uln_and_by_details_leaving_one_log_row_each(
    live_server, page: Page, searcher, learner
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    visited: list[str] = []

    def step() -> None:
        visited.append(page.url)

    # Sign in through the GOV.UK sign-in page.
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(searcher.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")
    step()

    # Find a learner by ULN.
    page.get_by_role("link", name="Find a learner").click()
    page.wait_for_url("**/learners/")
    expect(
        page.get_by_role("heading", name="Find a learner", exact=True)
    ).to_be_visible()
    step()
    page.get_by_role("link", name="Find a learner by ULN").click()
    page.wait_for_url("**/learners/find-by-uln/")
    step()
    assert_accessible(page)
    page.get_by_label("Unique learner number (ULN)").fill(ULN)
    _confirm(page)
    page.get_by_role("button", name="Search").click()
    _assert_exact_match(page)
    step()

    # View the record.
    page.get_by_role("button", name="View record").click()
    expect(
        page.get_by_role("heading", name=f"{GIVEN_NAME} {FAMILY_NAME}")
    ).to_be_visible()
    step()
    expect(page.get_by_role("heading", name="Achievements")).to_be_visible()
    table = page.get_by_role("region", name="Achievements").get_by_role("table")
    expect(table.get_by_role("cell", name=QUALIFICATION)).to_be_visible()
    assert_accessible(page)

    # Find a learner by the five demographics.
    page.get_by_role("link", name="Find another learner").click()
    page.wait_for_url("**/learners/")
    step()
    page.get_by_role("link", name="Find a learner by their details").click()
    page.wait_for_url("**/learners/find-by-details/")
    step()
    page.get_by_label("Given name", exact=True).fill(GIVEN_NAME)
    page.get_by_label("Family name", exact=True).fill(FAMILY_NAME)
    page.get_by_label("Day", exact=True).fill(str(DOB.day))
    page.get_by_label("Month", exact=True).fill(str(DOB.month))
    page.get_by_label("Year", exact=True).fill(str(DOB.year))
    page.get_by_label("Female", exact=True).check()
    page.get_by_label("Postcode", exact=True).fill(POSTCODE)
    _confirm(page)
    page.get_by_role("button", name="Search").click()
    _assert_exact_match(page)
    step()

    # One log row per search and per record view, by this user, in order.
    rows = list(
        LearnerView.objects.order_by("id").values_list(
            "action", "outcome", "user_id", "organisation_id"
        )
    )
    organisation_id = searcher.membership.organisation_id
    assert rows == [
        (ACTION.SEARCH_ULN, OUTCOME.EXACT_MATCH, searcher.pk, organisation_id),
        (ACTION.VIEW_RECORD, OUTCOME.SHOWN, searcher.pk, organisation_id),
        (ACTION.SEARCH_DEMOGRAPHICS, OUTCOME.EXACT_MATCH, searcher.pk, organisation_id),
    ]

    # No ULN or name in any address the browser went to or asked for.
    assert len(visited) == 8
    assert requested
    for url in visited + requested:
        assert ULN not in url, url
        assert FAMILY_NAME.lower() not in url.lower(), url
        assert GIVEN_NAME.lower() not in url.lower(), url
