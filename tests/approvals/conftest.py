"""The cast of a data share request's life, and a helper that moves a request
through it by the services (never by setting a status by hand)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import FIVE_SAFES, DataShareRequest, PanelMeeting
from lrs_portal import roles
from lrs_portal.models import User
from tests.approvals.factories import (
    DataShareRequestFactory,
    PanelMeetingFactory,
    ResearchOrganisationFactory,
)
from tests.factories import UserFactory


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """Freeze the clock at noon (UK time) on ``day``, for the rules that say
    what may happen on or after a date (no library: Django's clock is patched)."""
    noon = datetime.combine(day, time(12), tzinfo=ZoneInfo("Europe/London"))
    with mock.patch("django.utils.timezone.now", return_value=noon):
        yield


def make_requester(organisation: Any, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    services.requester_add(
        user=user, organisation=organisation, acting_user=UserFactory.create()
    )
    return user


def staff(*role: str) -> User:
    return UserFactory.create(roles=role, is_staff=True)


@dataclass
class Cast:
    organisation: Any
    requester: User
    caseworker: User
    assessor: User
    chair: User
    members: list[User]
    siro: User
    meeting: PanelMeeting
    request: DataShareRequest = field(init=False)

    def refresh(self) -> DataShareRequest:
        self.request.refresh_from_db()
        return self.request

    def submit(self) -> DataShareRequest:
        services.request_submit(request=self.request, acting_user=self.requester)
        return self.refresh()

    def triage(self) -> DataShareRequest:
        self.submit()
        services.request_accept_for_assessment(
            request=self.request, acting_user=self.caseworker
        )
        services.request_assign_assessor(
            request=self.refresh(),
            acting_user=self.caseworker,
            assessor=self.assessor,
            no_conflict_declared=True,
        )
        return self.refresh()

    def assess(self, recommendation: str = "approve") -> DataShareRequest:
        self.triage()
        services.assessment_record(
            no_conflict_declared=True,
            request=self.request,
            acting_user=self.assessor,
            ratings={key: "low" for key, _ in FIVE_SAFES},
            reasons={key: f"{label} is fine" for key, label in FIVE_SAFES},
            recommendation=recommendation,
        )
        return self.refresh()

    def to_panel(self) -> DataShareRequest:
        self.assess()
        services.request_place_on_meeting(
            request=self.request, acting_user=self.caseworker, meeting=self.meeting
        )
        return self.refresh()

    def votes(self, *votes: str | None) -> None:
        for member, vote in zip(self.members, votes, strict=False):
            if vote is None:  # this member does not vote
                continue
            services.panel_vote_cast(
                request=self.request, acting_user=member, vote=vote, comments=""
            )

    def decide(self, outcome: str = "approved", **kwargs: Any) -> Any:
        return services.decision_record(
            request=self.request,
            acting_user=self.chair,
            outcome=outcome,
            reasons=kwargs.pop("reasons", "A valuable, well-protected project."),
            supports_aims=kwargs.pop(
                "supports_aims", "It informs catch-up funding, a research interest."
            ),
            **kwargs,
        )

    def approve(self) -> DataShareRequest:
        self.to_panel()
        self.votes("approve", "approve", "approve")
        self.decide()
        return self.refresh()

    def release(self) -> DataShareRequest:
        self.approve()
        services.release_record(
            request=self.request,
            acting_user=self.caseworker,
            dataset=self.request.datasets.get(),
            srs_project_reference="SRS-2026-001",
            researchers=list(self.request.researchers.all()),
            end_date=self.request.end_date,
        )
        return self.refresh()


@pytest.fixture
def siro(db: None) -> User:
    return staff(roles.SIRO)


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    organisation = ResearchOrganisationFactory.create()
    members = [staff(roles.DSAP_PANEL_MEMBER) for _ in range(4)]
    chair = members[0]
    # Held today: votes and the decision are only possible on the meeting's day.
    meeting = PanelMeetingFactory.create(
        held_on=timezone.localdate(), chair=chair, members=members[1:]
    )
    the_cast = Cast(
        organisation=organisation,
        requester=make_requester(organisation),
        caseworker=staff(roles.CASEWORKER),
        assessor=staff(roles.DSAP_ASSESSOR),
        chair=chair,
        members=members,
        siro=staff(roles.SIRO),
        meeting=meeting,
    )
    the_cast.request = DataShareRequestFactory.create(
        complete=True, organisation=organisation, requester=the_cast.requester
    )
    return the_cast
