"""The organisation's timeline holds the whole story (issue 19): suspension
cases, signing links, each signature once, and what other apps register."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registration.admin.timeline import organisation_timeline
from registration.models import Suspension
from registration.services import (
    agreement_sign,
    signing_request_send,
    suspension_explain,
    suspension_open,
    suspension_uphold,
)
from registration.timeline import (
    TimelineEntry,
    timeline_source_register,
    timeline_sources,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    letter_code,
    member_of,
    organisation_officers,
)
from tests.registration.test_resigning import _token

pytestmark = pytest.mark.django_db


def whats(organisation) -> list[str]:
    return [entry.what for entry in organisation_timeline(organisation)]


def test_a_suspension_case_is_told_step_by_step(caseworker):
    organisation = OrganisationFactory.create()
    super_user = member_of(organisation, super_user=True)
    suspension, _ = suspension_open(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.CASEWORKER,
        cause="caseworker",
        day=timezone.localdate(),
        reason="Searches far above the declared volume",
        acting_user=caseworker,
    )
    suspension_explain(
        suspension=suspension,
        acting_user=super_user,
        explanation="Enrolment week: 900 new learners.",
    )
    suspension_uphold(
        suspension=suspension, acting_user=caseworker, reason="Not enough evidence"
    )

    timeline = organisation_timeline(organisation)

    by_what = {entry.what: entry for entry in timeline}
    assert "Suspension of it opened (Caseworker)" in by_what
    explained = by_what[
        "Explanation of the suspension received: Enrolment week: 900 new learners."
    ]
    assert super_user.email in explained.who
    decided = by_what["Suspension: Suspension upheld"]
    assert decided.why == "Not enough evidence"
    assert caseworker.email in decided.who


def test_a_signing_link_sent_and_its_signature_appear_once_each(caseworker):
    AgreementVersionFactory.create(number=1)
    AgreementVersionFactory.create(
        number=2, resign_deadline=timezone.localdate() + timedelta(days=14)
    )
    organisation = OrganisationFactory.create()
    organisation_officers(organisation)
    signing_request_send(acting_user=caseworker, organisation=organisation)
    agreement_sign(
        token=_token(),
        typed_name="Jane Smith",
        confirmed=True,
        code=letter_code(),
        ip_address="192.0.2.7",
        user_agent="test",
    )

    found = whats(organisation)

    sent = [w for w in found if w.startswith("Signing link for version 2 sent")]
    assert sent == [
        f"Signing link for version 2 sent to SMITH, Jane Alice "
        f"({organisation.signing_director_email})"
    ]
    signed = [w for w in found if "signed" in w.lower()]
    assert signed == ["SMITH, Jane Alice signed version 2 of the agreement"]


def test_a_newer_link_shows_the_old_one_cancelled(caseworker):
    AgreementVersionFactory.create(number=1)
    organisation = OrganisationFactory.create()
    organisation_officers(organisation)
    signing_request_send(acting_user=caseworker, organisation=organisation)
    signing_request_send(acting_user=caseworker, organisation=organisation)

    found = whats(organisation)

    assert found.count("Signing link for version 1 cancelled") == 1
    assert sum(w.startswith("Signing link for version 1 sent") for w in found) == 2


def test_a_registered_source_adds_its_entries(monkeypatch):
    organisation = OrganisationFactory.create()
    monkeypatch.setattr("registration.timeline._sources", {})
    when = timezone.now() + timedelta(days=1)
    timeline_source_register(
        "test", lambda o: [TimelineEntry(when, "System", f"About {o.ukprn}", "")]
    )
    timeline_source_register(
        "test", lambda o: [TimelineEntry(when, "System", f"Once {o.ukprn}", "")]
    )

    found = whats(organisation)

    assert found[0] == f"Once {organisation.ukprn}"
    assert f"About {organisation.ukprn}" not in found
    assert len(timeline_sources()) == 1
