"""Usage alerts reach the organisation's timeline through the registry that
registration provides (registration never imports records)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from records.models import UsageAlert
from registration.admin.timeline import organisation_timeline
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db


def test_usage_alerts_about_the_organisation_and_its_users_are_on_its_timeline():
    organisation = OrganisationFactory.create()
    other = OrganisationFactory.create()
    user = member_of(organisation)
    day = timezone.localdate()
    UsageAlert.objects.create(
        subject_type=UsageAlert.Subject.ORGANISATION,
        organisation=organisation,
        day=day,
        rule="org_volume",
        value=Decimal("950.00"),
        threshold=Decimal("400.00"),
        details="Well above the declared volume.",
    )
    UsageAlert.objects.create(
        subject_type=UsageAlert.Subject.USER,
        user=user,
        organisation=organisation,
        day=day,
        rule="consecutive_ulns",
        value=Decimal("30.00"),
        threshold=Decimal("20.00"),
        status=UsageAlert.Status.CLOSED,
    )
    UsageAlert.objects.create(
        subject_type=UsageAlert.Subject.ORGANISATION,
        organisation=other,
        day=day,
        rule="org_volume",
        value=Decimal("1.00"),
        threshold=Decimal("0.00"),
    )

    entries = [e for e in organisation_timeline(organisation) if "alert" in e.what]

    whats = sorted(e.what for e in entries)
    on = f"{day:%d %b %Y}"
    assert whats == [
        f"Usage alert (closed) about user {user.email} on {on}: Searches of "
        "consecutive ULNs, 30.00 against 20.00",
        f"Usage alert about the organisation on {on}: Organisation volume above "
        "its expected volume, 950.00 against 400.00",
    ]
    assert "Well above the declared volume." in {e.why for e in entries}
