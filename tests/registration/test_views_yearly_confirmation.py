"""The super user's 'Confirm your organisation's registration' pages
(decision 0031): nothing changed, changed answers, check answers, done; and who
may not reach them."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registration.models import (
    Organisation,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services import organisation_transition
from registration.services.housekeeping import housekeeping_run
from registration.services.yearly_confirmation import yearly_confirmation_open
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
    officer_item,
    officers_snapshot,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
STATUS = YearlyConfirmation.Status
PAGE = reverse("registration:yearly-confirmation")
NOTHING = reverse("registration:yearly-confirmation-nothing-changed")
CHANGE = reverse("registration:yearly-confirmation-change")
CHECK = reverse("registration:yearly-confirmation-check")
DONE = reverse("registration:yearly-confirmation-done")


@pytest.fixture
def organisation():
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory(),
        registered_at=timezone.now() - timedelta(days=345),
    )
    organisation_officers(organisation)
    return organisation


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def confirmation(organisation, super_user):
    return yearly_confirmation_open(organisation=organisation)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_what_is_on_record_and_the_director_in_office(
    confirmation, super_user
):
    page = _client(super_user).get(PAGE)

    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Confirm your organisation's registration" in text
    assert "Enrol our own students" in text
    assert "1200" in text
    assert "SMITH, Jane Alice" in text
    assert "In office" in text
    due = confirmation.due_on
    assert f"Confirm by {due.day} {due:%B %Y}" in text
    assert f'action="{NOTHING}"' in text
    assert f'href="{CHANGE}"' in text


def test_a_director_companies_house_no_longer_lists_is_shown(
    confirmation, super_user, organisation
):
    officers_snapshot(
        organisation.companies_house_number,
        officer_item("JONES, Other", "/company/x/appointments/other"),
    )

    text = _client(super_user).get(PAGE).content.decode()

    assert "Not in office" in text
    assert reverse("registration:change-signing-director") in text


def test_nothing_changed_check_answers_and_confirm(confirmation, super_user):
    client = _client(super_user)

    chosen = client.post(NOTHING)
    assert chosen.status_code == HTTPStatus.FOUND
    assert chosen.url == CHECK
    check = client.get(CHECK)
    assert "You are confirming that nothing has changed" in check.content.decode()

    sent = client.post(CHECK)

    assert sent.status_code == HTTPStatus.FOUND
    assert sent.url == DONE
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.CONFIRMED
    assert confirmation.answered_by == super_user
    done = client.get(DONE)
    assert done.status_code == HTTPStatus.OK
    assert "Registration confirmed" in done.content.decode()
    # Nothing left to confirm: the steps lead back to the first page, which says so.
    assert client.post(CHECK).url == PAGE
    assert client.get(CHANGE).url == PAGE
    empty = client.get(PAGE).content.decode()
    assert "You have nothing to confirm now" in empty
    assert not ReverificationCase.objects.exists()


def test_changed_answers_go_to_a_caseworker(confirmation, super_user, organisation):
    client = _client(super_user)
    form = client.get(CHANGE)
    assert form.status_code == HTTPStatus.OK
    assert 'value="1200"' in form.content.decode()

    answered = client.post(
        CHANGE,
        {
            "purpose_unchanged": "yes",
            "learners_per_year": "3,000",
            "awarding_organisations_unchanged": "yes",
            "director_in_office": "yes",
        },
    )
    assert answered.url == CHECK
    check = client.get(CHECK).content.decode()
    assert "Learners a year: 1,200 on record, now 3,000." in check
    assert "Confirm and send the changes" in check

    client.post(CHECK)

    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.CHANGED
    assert confirmation.reverification_case.reason == "yearly_changed"
    assert "sent the changes you told us about" in client.get(DONE).content.decode()


def test_the_form_says_what_is_missing_linked_to_each_field(confirmation, super_user):
    response = _client(super_user).post(
        CHANGE,
        {
            "purpose_unchanged": "no",
            "learners_per_year": "many",
            "awarding_organisations_unchanged": "no",
        },
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = response.content.decode()
    assert "There is a problem" in text
    for field, message in [
        ("purpose_change", "Describe what has changed about how you use the LRS"),
        ("learners_per_year", "Enter the number of learners as a whole number"),
        ("awarding_organisations_change", "Say which awarding organisations"),
        ("director_in_office", "Select yes if the director who signed"),
    ]:
        assert f'href="#id_{field}"' in text
        assert message in text
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.PENDING


def test_check_answers_without_answers_goes_back_to_the_first_page(
    confirmation, super_user
):
    response = _client(super_user).get(CHECK)

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == PAGE


def test_the_done_page_without_an_answer_goes_back(confirmation, super_user):
    assert _client(super_user).get(DONE).url == PAGE


def test_nothing_changed_is_a_button_only_address(confirmation, super_user):
    response = _client(super_user).get(NOTHING)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    text = response.content.decode()
    assert "Confirm, nothing has changed" in text
    assert f'href="{PAGE}"' in text


def test_a_user_who_is_not_the_super_user_learns_who_can(confirmation, organisation):
    client = _client(member_of(organisation))

    for address in (PAGE, CHANGE, CHECK, DONE):
        response = client.get(address)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "super user" in response.content.decode()
    assert client.post(NOTHING).status_code == HTTPStatus.FORBIDDEN
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.PENDING


def test_another_organisations_super_user_sees_only_their_own(confirmation):
    stranger = member_of(
        OrganisationFactory.create(last_signed_version=AgreementVersionFactory()),
        super_user=True,
    )
    client = _client(stranger)

    page = client.get(PAGE)
    client.post(NOTHING)
    client.post(CHECK)

    assert "You have nothing to confirm now" in page.content.decode()
    assert confirmation.organisation.legal_name not in page.content.decode()
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.PENDING


def test_a_session_answer_for_another_confirmation_is_not_used(
    confirmation, super_user
):
    client = _client(super_user)
    session = client.session
    session["yearly_confirmation"] = {
        "pk": confirmation.pk + 1000,
        "answers": {"learners_per_year": 1, "director_in_office": True},
    }
    session.save()

    assert client.post(CHECK).url == PAGE
    confirmation.refresh_from_db()
    assert confirmation.status == STATUS.PENDING


def test_an_organisation_suspended_for_another_reason_is_not_found(
    confirmation, super_user, organisation, caseworker
):
    organisation_transition(
        organisation=organisation,
        to=Organisation.Status.SUSPENDED,
        acting_user=caseworker,
        reason="Usage far above its volume",
    )
    client = _client(super_user)

    for address in (PAGE, CHANGE, CHECK, DONE):
        assert client.get(address).status_code == HTTPStatus.NOT_FOUND
    assert client.post(NOTHING).status_code == HTTPStatus.NOT_FOUND


def test_an_organisation_suspended_for_not_confirming_confirms_and_gets_access_back(
    organisation, super_user
):
    due = timezone.now().date() - timedelta(days=30)
    YearlyConfirmation.objects.create(
        organisation=organisation, anniversary=due, due_on=due
    )
    housekeeping_run()
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.SUSPENDED
    client = _client(super_user)

    page = client.get(PAGE)
    assert "is suspended because this confirmation was not made" in (
        page.content.decode()
    )
    suspensions = client.get(reverse("registration:suspension")).content.decode()
    assert f'href="{PAGE}"' in suspensions
    client.post(NOTHING)
    client.post(CHECK)

    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    assert Suspension.objects.get().status == Suspension.Status.LIFTED
