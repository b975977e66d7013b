from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from lrs_portal.models import UserSession
from lrs_portal.transitions import TransitionNotAllowed
from registration.models import Organisation, ReverificationCase
from registration.services import (
    ORGANISATION_TRANSITIONS,
    organisation_change_details,
    organisation_revoke,
    organisation_transition,
    reverification_open,
    reverification_resolve,
)
from tests.factories import PASSWORD, OrganisationFactory, member_of
from tests.lrs_portal.auth_helpers import post_credentials

pytestmark = pytest.mark.django_db
S = Organisation.Status


def test_revoking_an_organisation_signs_its_users_out_at_once(caseworker):
    organisation = OrganisationFactory.create()
    member = member_of(organisation)
    outsider_org_member = member_of(OrganisationFactory.create())
    clients = {}
    for user in (member, outsider_org_member):
        clients[user.pk] = Client()
        post_credentials(clients[user.pk], user.email, PASSWORD)

    organisation_revoke(
        organisation=organisation, acting_user=caseworker, reason="Passed on access"
    )

    organisation.refresh_from_db()
    assert organisation.status == S.REVOKED
    assert not UserSession.objects.filter(user=member).exists()
    account = reverse("lrs_portal:account")
    assert clients[member.pk].get(account).status_code == HTTPStatus.FOUND
    assert clients[outsider_org_member.pk].get(account).status_code == HTTPStatus.OK


def test_status_changes_record_who_and_why(caseworker):
    organisation = OrganisationFactory.create()

    organisation_transition(
        organisation=organisation,
        to=S.SUSPENDED,
        acting_user=caseworker,
        reason="Searches far above the declared volume",
    )

    latest = organisation.history.latest()
    assert latest.status == S.SUSPENDED
    assert latest.history_user == caseworker
    assert latest.history_change_reason == "Searches far above the declared volume"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.REVOKED, S.SUSPENDED),
        (S.DEREGISTERED, S.SUSPENDED),
        (S.REGISTERED, S.REGISTERED),
    ],
)
def test_moves_outside_the_table_are_refused_and_change_nothing(caseworker, start, to):
    organisation = OrganisationFactory.create(status=start)

    with pytest.raises(TransitionNotAllowed):
        organisation_transition(
            organisation=organisation, to=to, acting_user=caseworker, reason="x"
        )

    organisation.refresh_from_db()
    assert organisation.status == start


def test_every_status_in_the_table_is_a_real_status():
    valid = set(S.values)
    assert set(ORGANISATION_TRANSITIONS) == valid
    assert all(targets <= valid for targets in ORGANISATION_TRANSITIONS.values())


def test_a_change_of_name_opens_a_case_and_flags_the_organisation(provider_super_user):
    organisation = OrganisationFactory.create(legal_name="EDUDUDES LTD")

    cases = organisation_change_details(
        organisation=organisation,
        acting_user=provider_super_user,
        source="provider change",
        legal_name="TRUST SYSTEMS SOFTWARE UK LTD",
    )

    organisation.refresh_from_db()
    assert organisation.legal_name == "TRUST SYSTEMS SOFTWARE UK LTD"
    assert organisation.flagged_for_review
    assert [c.reason for c in cases] == [ReverificationCase.Reason.LEGAL_NAME_CHANGED]
    assert "EDUDUDES LTD" in cases[0].details


def test_each_identity_change_opens_its_own_case(provider_super_user):
    organisation = OrganisationFactory.create()

    cases = organisation_change_details(
        organisation=organisation,
        acting_user=provider_super_user,
        source="provider change",
        trading_names="Trustopia",
        companies_house_number="12345678",
    )

    assert {c.reason for c in cases} == {
        ReverificationCase.Reason.TRADING_NAME_CHANGED,
        ReverificationCase.Reason.COMPANY_NUMBER_CHANGED,
    }


def test_an_unchanged_value_opens_no_case(provider_super_user):
    organisation = OrganisationFactory.create(legal_name="SAME LTD")

    cases = organisation_change_details(
        organisation=organisation,
        acting_user=provider_super_user,
        source="provider change",
        legal_name="SAME LTD",
    )

    assert cases == []
    assert not ReverificationCase.objects.exists()


def test_opening_the_same_case_twice_keeps_one_open_case(caseworker):
    organisation = OrganisationFactory.create()
    for _ in range(2):
        reverification_open(
            organisation=organisation,
            reason=ReverificationCase.Reason.DIRECTOR_LEFT,
            details="The signing director resigned.",
            source="nightly re-verification",
            acting_user=caseworker,
        )

    assert ReverificationCase.objects.filter(organisation=organisation).count() == 1


def test_resolving_the_last_open_case_clears_the_flag(caseworker):
    organisation = OrganisationFactory.create()
    first, second = (
        reverification_open(
            organisation=organisation,
            reason=reason,
            details="d",
            source="s",
            acting_user=caseworker,
        )
        for reason in (
            ReverificationCase.Reason.LEGAL_NAME_CHANGED,
            ReverificationCase.Reason.ICO_LAPSED,
        )
    )

    reverification_resolve(case=first, acting_user=caseworker, resolution="Checked")
    organisation.refresh_from_db()
    assert organisation.flagged_for_review

    reverification_resolve(case=second, acting_user=caseworker, resolution="Renewed")
    organisation.refresh_from_db()
    assert not organisation.flagged_for_review
    assert second.resolved_by == caseworker
