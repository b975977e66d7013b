"""What a suspended provider reads: the volume explanation adds up in whole
numbers, the suspension page names a support address, and the lookup pages lead
to the suspension page (issue 17)."""

from decimal import Decimal
from html import unescape
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from records import audit
from records.jobs import audit_usage_run
from records.models import AuditRule
from registration.models import Suspension
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.test_audit import log, rule, yesterday

pytestmark = pytest.mark.django_db
Code = AuditRule.Code


def _org_volume(threshold="3", minimum=20):
    audit.audit_rules_ensure()
    return AuditRule(
        code=Code.ORG_VOLUME, threshold=Decimal(threshold), minimum_volume=minimum
    )


def test_a_minimum_limit_is_named_as_the_minimum():
    text = audit.volume_details(120, 1000, _org_volume())

    assert text == (
        "120 searches in the day, above the minimum limit of 20 searches (3 times "
        "the 5 searches a day expected from 1,000 learners a year is 15, less than "
        "the minimum)."
    )


def test_a_multiple_limit_is_the_whole_searches_it_allows():
    text = audit.volume_details(12_345, 1_234_000, _org_volume())

    assert text == (
        "12,345 searches in the day, above the limit of 18,510 searches (3 times "
        "the 6,170 searches a day expected from 1,234,000 learners a year)."
    )


def test_a_fractional_expectation_keeps_only_the_decimals_it_has():
    text = audit.volume_details(40, 1234, _org_volume())

    assert "above the limit of 18 searches" not in text  # 18.51 < 20: the minimum
    assert "3 times the 6.17 searches a day" in text
    assert "is 18.51, less than the minimum" in text
    assert ".00" not in text


@pytest.fixture
def college():
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create(),
        estimated_learners_per_year=1000,
    )


@pytest.fixture
def super_user(college):
    return member_of(college, super_user=True)


@pytest.fixture
def searcher(college, super_user):
    return member_of(college)


@pytest.fixture
def suspended(college, searcher):
    """120 searches against an expected 5 a day: the minimum (20) is the limit."""
    rule(Code.USER_VOLUME, enabled=False)
    log(searcher, yesterday(), 120)
    audit_usage_run()
    return Suspension.objects.get(organisation=college, subject_type="organisation")


def _page(user, name):
    client = Client()
    client.force_login(user)
    return client.get(reverse(name))


def test_the_suspension_page_explains_the_limit_in_whole_numbers(
    suspended, super_user, settings
):
    settings.SUPPORT_EMAIL = "lrs.help@example.org"

    html = unescape(_page(super_user, "registration:suspension").content.decode())

    assert "120 searches in the day, above the minimum limit of 20 searches" in html
    assert "times that is" not in html
    assert "120.00" not in html
    assert "20.00" not in html
    cells = html.split("What the check found", 1)[1].split("</table>", 1)[0]
    assert ">120</td>" in cells
    assert ">20</td>" in cells
    assert 'href="mailto:lrs.help@example.org">lrs.help@example.org</a>' in html
    assert 'href="mailto:"' not in html


def test_a_share_rule_is_shown_as_a_percentage(college, super_user):
    from registration.templatetags.suspension_figures import rule_found, rule_limit

    hit = {"rule": "no_match_rate", "value": "0.62", "threshold": "0.50"}
    count = {"rule": "user_volume", "value": "1512.00", "threshold": "150.00"}

    assert (rule_found(hit), rule_limit(hit)) == ("62%", "50%")
    assert (rule_found(count), rule_limit(count)) == ("1,512", "150")
    assert rule_found({"rule": "user_volume", "value": "not a number"}) == (
        "not a number"
    )


@pytest.mark.parametrize("name", ["records:find", "records:find-by-uln"])
def test_a_suspended_super_user_on_the_lookup_pages_is_led_to_the_suspension(
    suspended, super_user, name
):
    response = _page(super_user, name)

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert f'href="{reverse("registration:suspension")}"' in html
    assert f'href="{reverse("lrs_portal:account")}"' in html


def test_a_suspended_user_on_the_lookup_pages_learns_who_can_explain(
    suspended, searcher
):
    response = _page(searcher, "records:find-by-details")

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = unescape(response.content.decode())
    assert "super user can see why" in html
    assert f'href="{reverse("lrs_portal:account")}"' in html
