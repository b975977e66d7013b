"""A super user recertifies their users in Debian's chromium (issue 14's 'Done
when'): from their account to 'Confirm your users', one user confirmed, one
removed after the question, a late user shown as stopped, and every page free of
axe violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from records.permissions import REFUSALS, lookup_refusal
from registration.models import Membership, RecertificationConfirmation
from registration.services.recertification import recertification_open
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    PASSWORD,
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
STATUS = RecertificationConfirmation.Status


def test_a_super_user_confirms_one_user_and_removes_another(live_server, page: Page):
    organisation = OrganisationFactory.create(
        legal_name="NORTHFIELD COLLEGE LIMITED",
        last_signed_version=AgreementVersionFactory(),
    )
    super_user = member_of(organisation, super_user=True, full_name="Priya Shah")
    kept = member_of(organisation, full_name="Tom Reed")
    leaving = member_of(organisation, full_name="Lee Leaving")
    recertification_open(organisation=organisation)
    # Tom's answer is late: he cannot look up learners until confirmed.
    Membership.objects.filter(user=kept).update(
        recertify_by=timezone.now() - timedelta(hours=1)
    )
    assert (
        lookup_refusal(kept, Membership.objects.get(user=kept))
        == (REFUSALS["not_recertified"])
    )

    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(super_user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")
    page.get_by_role("link", name="Confirm your users").click()
    page.wait_for_url("**/organisation/users/confirm/")

    expect(page.get_by_role("heading", name="Confirm your users")).to_be_visible()
    table = page.get_by_role("table", name="Users waiting for your answer")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two users
    tom = table.get_by_role("row").filter(has_text="Tom Reed")
    expect(tom).to_contain_text("Cannot look up learners")  # in words, not colour
    expect(tom).to_contain_text("Never")  # never signed in, never looked up
    expect(table).not_to_contain_text("Priya Shah")  # not asked about herself
    assert_accessible(page)

    # Confirm Tom: his lookups work again.
    page.get_by_role("button", name="Confirm Tom Reed").click()
    page.wait_for_url("**/organisation/users/confirm/")
    expect(page.get_by_role("alert")).to_contain_text(
        "You confirmed Tom Reed still needs LRS access"
    )
    expect(table.get_by_role("row")).to_have_count(2)
    assert_accessible(page)
    assert lookup_refusal(kept, Membership.objects.get(user=kept)) is None

    # Remove Lee: asked first; Cancel goes back and changes nothing.
    page.get_by_role("link", name="Remove Lee Leaving").click()
    expect(
        page.get_by_role("heading", name="Are you sure you want to remove Lee Leaving?")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url("**/organisation/users/confirm/")
    expect(table).to_contain_text("Lee Leaving")

    page.get_by_role("link", name="Remove Lee Leaving").click()
    page.get_by_role("button", name="Remove user").click()
    page.wait_for_url("**/organisation/users/confirm/")
    expect(page.get_by_text("You have answered for all your users")).to_be_visible()
    assert_accessible(page)

    leaving.refresh_from_db()
    assert leaving.is_active is False
    assert dict(
        RecertificationConfirmation.objects.values_list("user__full_name", "status")
    ) == {"Tom Reed": STATUS.CONFIRMED, "Lee Leaving": STATUS.REMOVED}
