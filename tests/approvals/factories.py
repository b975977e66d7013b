"""Factories for approvals (kept beside its tests; tests/factories.py holds the
shared user factory and personas)."""

from datetime import date, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from approvals.models import (
    Affiliation,
    DataShareRequest,
    PanelMeeting,
    RequestedDataset,
    Researcher,
    ResearchOrganisation,
)
from tests.factories import UserFactory


class ResearchOrganisationFactory(DjangoModelFactory[ResearchOrganisation]):
    class Meta:
        model = ResearchOrganisation

    name = factory.Sequence(lambda n: f"University of Somewhere {n}")
    kind = ResearchOrganisation.Kind.UNIVERSITY
    ico_number = factory.Sequence(lambda n: f"Z{n:07d}")


class AffiliationFactory(DjangoModelFactory[Affiliation]):
    class Meta:
        model = Affiliation

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(ResearchOrganisationFactory)


def _in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


class DataShareRequestFactory(DjangoModelFactory[DataShareRequest]):
    """A draft request; ``complete=True`` fills every section so it can be submitted."""

    class Meta:
        model = DataShareRequest
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"DS{n:05d}")
    organisation = factory.SubFactory(ResearchOrganisationFactory)
    requester = factory.SubFactory(UserFactory)

    class Params:
        complete = factory.Trait(
            project_title="Attainment gaps after the pandemic",
            summary="How attainment gaps changed, to inform catch-up funding.",
            research_interest="Recovery from the pandemic; disadvantage gaps.",
            legal_gateway=DataShareRequest.LegalGateway.DEA,
            lawful_basis=DataShareRequest.LawfulBasis.PUBLIC_TASK,
            special_category=False,
            linkage=False,
            records_expected=50_000,
            access_route=DataShareRequest.AccessRoute.SAFE_ROOM,
            start_date=factory.LazyFunction(lambda: _in_days(10)),
            end_date=factory.LazyFunction(lambda: _in_days(400)),
            retention_plan="Destroyed in the SRS at the end of the project.",
        )

    @factory.post_generation
    def children(obj: DataShareRequest, create: bool, extracted: object, **kw: object):
        if create and obj.project_title:
            RequestedDatasetFactory.create(request=obj)
            ResearcherFactory.create(request=obj)


class RequestedDatasetFactory(DjangoModelFactory[RequestedDataset]):
    class Meta:
        model = RequestedDataset

    request = factory.SubFactory(DataShareRequestFactory)
    academic_year = "2019/20"
    tier = RequestedDataset.Tier.TIER_2


class ResearcherFactory(DjangoModelFactory[Researcher]):
    class Meta:
        model = Researcher

    request = factory.SubFactory(DataShareRequestFactory)
    full_name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"researcher{n}@uni.example.ac.uk")
    accreditation = Researcher.Accreditation.FULL
    accreditation_number = factory.Sequence(lambda n: f"AR{n:06d}")
    accreditation_expires_on = factory.LazyFunction(lambda: _in_days(5 * 365))


class PanelMeetingFactory(DjangoModelFactory[PanelMeeting]):
    class Meta:
        model = PanelMeeting
        skip_postgeneration_save = True

    held_on = factory.LazyFunction(lambda: _in_days(14))
    chair = factory.SubFactory(UserFactory, staff=True)

    @factory.post_generation
    def members(obj: PanelMeeting, create: bool, extracted: object, **kw: object):
        if create:
            obj.members.add(obj.chair, *(extracted or ()))
