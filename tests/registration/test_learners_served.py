"""The learners a provider declares it serves (issue 13, decision 25): asked in
the application, shown on check answers and in vetting, copied on approval and
shown on the organisation's admin page."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from registration.models import Organisation, RegistrationApplication
from registration.services import application_missing_sections
from tests.factories import (
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
URL = reverse("registration:learners-served")


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


@pytest.fixture
def draft():
    return RegistrationApplicationFactory.create(
        learner_ages=None, learner_reach="", learner_reach_km=None
    )


@pytest.fixture
def client_of(draft):
    client = Client()
    client.force_login(draft.applicant)
    return client


def _html(response):
    return response.content.decode()


def test_the_section_is_on_the_task_list_and_must_be_completed(draft, client_of):
    assert "learners_served" in application_missing_sections(draft)
    html = _html(client_of.get(reverse("registration:task-list")))
    assert "Learners you serve" in html
    assert URL in html


def test_the_page_asks_ages_as_checkboxes_and_reach_with_a_conditional_distance(
    client_of,
):
    html = _html(client_of.get(URL))
    assert html.count('type="checkbox"') == 5
    for label in ["Under 14", "14 to 16", "17 to 19", "20 to 24", "25 and over"]:
        assert label in html
    assert 'data-aria-controls="conditional-id_learner_reach-local"' in html
    assert "govuk-radios__conditional" in html
    assert "One mile is about 1.6 kilometres" in html
    assert "govuk-back-link" in html


def test_saving_stores_the_answers_with_history(draft, client_of):
    response = client_of.post(
        URL,
        {
            "learner_ages": ["17_19", "20_24"],
            "learner_reach": "local",
            "learner_reach_km": "1,5",  # commas are allowed in whole numbers
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.learner_ages == ["17_19", "20_24"]
    assert draft.learner_reach == "local"
    assert draft.learner_reach_km == 15
    assert draft.history.latest().history_change_reason == "Learners served saved"
    assert "learners_served" not in application_missing_sections(draft)
    # Coming back shows what was saved.
    html = _html(client_of.get(URL))
    assert 'value="17_19" checked' in html
    assert 'value="15"' in html


def test_across_england_needs_no_distance_and_drops_one_typed(draft, client_of):
    client_of.post(
        URL,
        {
            "learner_ages": ["25_over"],
            "learner_reach": "england",
            "learner_reach_km": "",
        },
    )
    draft.refresh_from_db()
    assert draft.learner_reach == "england"
    assert draft.learner_reach_km is None
    client_of.post(
        URL,
        {
            "learner_ages": ["25_over"],
            "learner_reach": "england",
            "learner_reach_km": "40",
        },
    )
    draft.refresh_from_db()
    assert draft.learner_reach_km is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"learner_reach": "england"}, "learner_ages", "Select the ages"),
        (
            {"learner_ages": ["30_40"], "learner_reach": "england"},
            "learner_ages",
            "Select the ages",
        ),
        ({"learner_ages": ["17_19"]}, "learner_reach", "Select where most"),
        (
            {"learner_ages": ["17_19"], "learner_reach": "abroad"},
            "learner_reach",
            "Select where most",
        ),
        (
            {"learner_ages": ["17_19"], "learner_reach": "local"},
            "learner_reach_km",
            "Enter the distance most of your learners live within",
        ),
        (
            {
                "learner_ages": ["17_19"],
                "learner_reach": "local",
                "learner_reach_km": "0",
            },
            "learner_reach_km",
            "must be 1 kilometre or more",
        ),
        (
            {
                "learner_ages": ["17_19"],
                "learner_reach": "local",
                "learner_reach_km": "501",
            },
            "learner_reach_km",
            "500 kilometres or fewer",
        ),
        (
            {
                "learner_ages": ["17_19"],
                "learner_reach": "local",
                "learner_reach_km": "ten",
            },
            "learner_reach_km",
            "whole number of kilometres",
        ),
        (
            {
                "learner_ages": ["17_19"],
                "learner_reach": "local",
                "learner_reach_km": "9" * 5000,
            },
            "learner_reach_km",
            "whole number of kilometres",
        ),
    ],
)
def test_bad_answers_are_refused_with_a_linked_error(
    draft, client_of, data, field, message
):
    response = client_of.post(URL, data)
    assert response.status_code == HTTPStatus.OK
    html = _html(response)
    assert 'class="govuk-error-summary"' in html
    assert f'href="#id_{field}"' in html
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert "<title>Error: " in html
    draft.refresh_from_db()
    assert draft.learner_ages is None


def test_another_users_draft_is_not_changed(draft):
    stranger = Client()
    stranger.force_login(UserFactory.create())
    stranger.post(
        URL,
        {"learner_ages": ["25_over"], "learner_reach": "england"},
    )
    draft.refresh_from_db()
    assert draft.learner_ages is None


def test_a_submitted_application_cannot_change_them(client_of, draft):
    draft.status = RegistrationApplication.Status.SUBMITTED
    draft.save()
    client_of.post(URL, {"learner_ages": ["25_over"], "learner_reach": "england"})
    draft.refresh_from_db()
    assert draft.learner_ages is None


def test_check_answers_shows_them_with_a_change_link(draft, client_of):
    draft.learner_ages = ["14_16", "17_19"]
    draft.learner_reach = "local"
    draft.learner_reach_km = 30
    draft.save()
    html = _html(client_of.get(reverse("registration:check-answers")))
    assert "Learners you serve" in html
    assert "14 to 16, 17 to 19" in html
    assert "Mostly within 30 km of the registered address" in html
    assert f'href="{URL}"' in html
    assert 'Change<span class="govuk-visually-hidden"> ages of the learners' in html


def test_vetting_and_the_organisation_page_show_the_declaration(
    admin_verified_client,
):
    application = RegistrationApplicationFactory.create(
        submitted=True, learner_reach="england", learner_reach_km=None
    )
    page = _html(
        admin_verified_client.get(
            reverse(
                "admin:registration_registrationapplication_change",
                args=[application.pk],
            )
        )
    )
    assert "Learners served (declared)" in page
    assert "14 to 16, 17 to 19" in page
    assert "From across England" in page

    declared = OrganisationFactory.create(
        learner_ages=["20_24", "25_over"], learner_reach="local", learner_reach_km=40
    )
    page = _html(
        admin_verified_client.get(
            reverse("admin:registration_organisation_change", args=[declared.pk])
        )
    )
    assert "20 to 24, 25 and over" in page
    assert "Mostly within 40 km of the registered address" in page


def test_an_organisation_registered_before_shows_it_declared_nothing(
    admin_verified_client,
):
    before = OrganisationFactory.create()
    assert before.learner_ages is None
    assert before.learner_reach == ""
    page = _html(
        admin_verified_client.get(
            reverse("admin:registration_organisation_change", args=[before.pk])
        )
    )
    assert "Not declared (registered before the application asked" in page
    assert Organisation.objects.filter(learner_ages__isnull=True).count() == 1
