from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from lrs_portal import roles
from lrs_portal.models import Notification, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@college{n}.example.com")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password(PASSWORD)

    class Params:
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: tuple[str, ...] | None, **kw: object):
        if create and extracted:
            obj.groups.add(*Group.objects.filter(name__in=extracted))


class TOTPDeviceFactory(DjangoModelFactory[TOTPDevice]):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "default"
    confirmed = True


def add_backup_codes(user: User, *codes: str) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return device


class NotificationFactory(DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    to = factory.Sequence(lambda n: f"recipient{n}@example.com")
    subject = "Your LRS Portal update"
    body = factory.Faker("paragraph")
    reference = "members.invitation"
    kind = "members.invitation"


ROLE_PERSONAS = {
    "provider_user": (roles.PROVIDER_USER,),
    "provider_super_user": (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
    "caseworker": (roles.CASEWORKER,),
    "assessor": (roles.DSAP_ASSESSOR,),
    "panel_member": (roles.DSAP_PANEL_MEMBER,),
    "requester": (roles.DSAP_REQUESTER,),
}


# --- registration ------------------------------------------------------------

from registration.models import (  # noqa: E402
    AgreementVersion,
    AwardingOrganisationAccreditation,
    IcoRegistration,
    Membership,
    Organisation,
    RegistrationApplication,
)


class AgreementVersionFactory(DjangoModelFactory[AgreementVersion]):
    class Meta:
        model = AgreementVersion

    number = factory.Sequence(lambda n: n + 1)
    title = "Learning Records Service agreement"
    text = factory.LazyAttribute(
        lambda o: (
            f"Version {o.number}. The licensee must not sub-license or pass on "
            "access to the Learning Records Service to anyone else."
        )
    )
    published_at = factory.LazyFunction(timezone.now)


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    ukprn = factory.Sequence(lambda n: str(10000000 + n))
    legal_name = factory.Sequence(lambda n: f"College {n} Limited")
    companies_house_number = factory.Sequence(lambda n: f"{n:08d}")
    ico_number = factory.Sequence(lambda n: f"Z{n:07d}")
    registered_address = "1 High Street\nLeeds\nLS1 1AA"
    website = factory.Sequence(lambda n: f"https://college{n}.example.com")
    estimated_learners_per_year = 1200
    purpose = "own_students"
    purpose_approved_at = factory.LazyFunction(timezone.now)
    signing_director_name = "SMITH, Jane Alice"
    signing_director_appointment = "/company/00000001/appointments/abc"
    signing_director_email = factory.Sequence(
        lambda n: f"jane.smith@college{n}.example.com"
    )


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    is_super_user = False
    terms_accepted_at = factory.LazyFunction(timezone.now)


class IcoRegistrationFactory(DjangoModelFactory[IcoRegistration]):
    """A current entry of the ICO register; pass end_date for a lapsed one."""

    class Meta:
        model = IcoRegistration

    registration_number = factory.Sequence(lambda n: f"ZX{n:06d}")
    organisation_name = factory.Sequence(lambda n: f"College {n} Limited")
    start_date = factory.LazyFunction(
        lambda: timezone.now().date() - timedelta(days=365)
    )
    end_date = factory.LazyFunction(lambda: timezone.now().date() + timedelta(days=365))


def member_of(organisation: Organisation, *, super_user: bool = False, **user_kwargs):
    """A user of ``organisation`` with the roles and object permissions it brings."""
    from registration.permissions import member_permissions_grant

    domain = organisation.website.split("//", 1)[-1].strip("/")
    number = User.objects.count()
    user = UserFactory.create(email=f"member{number}@{domain}", **user_kwargs)
    MembershipFactory.create(
        user=user, organisation=organisation, is_super_user=super_user
    )
    member_permissions_grant(
        user=user, organisation=organisation, super_user=super_user
    )
    return user


class RegistrationApplicationFactory(DjangoModelFactory[RegistrationApplication]):
    """A complete draft; traits give the other states."""

    class Meta:
        model = RegistrationApplication
        skip_postgeneration_save = True

    applicant = factory.SubFactory(UserFactory)
    reference = factory.Sequence(lambda n: f"LRS-T{n:05d}")
    legal_name = "NORTHFIELD COLLEGE LIMITED"
    ukprn = factory.Sequence(lambda n: str(10010000 + n))
    companies_house_number = "09876543"
    ico_number = "Z1234567"
    registered_address = "1 College Road\nLeeds\nLS2 9JT"
    website = "https://northfield-college.example.com"
    super_user_name = factory.LazyAttribute(lambda o: o.applicant.full_name)
    super_user_email = factory.LazyAttribute(lambda o: o.applicant.email)
    estimated_learners_per_year = 1500
    purpose = RegistrationApplication.Purpose.OWN_STUDENTS
    purpose_detail = (
        "We are a further education college. We look up the ULN and prior "
        "achievements of each learner we enrol, to place them on the right course."
    )
    learner_ages = factory.LazyFunction(lambda: ["14_16", "17_19"])
    learner_reach = "local"
    learner_reach_km = 30
    signing_director_name = "SMITH, Jane Alice"
    signing_director_appointment = "/company/09876543/appointments/jane-smith"
    signing_director_email = "jane.smith@northfield-college.example.com"
    declaration_accepted_at = factory.LazyFunction(timezone.now)

    class Params:
        submitted = factory.Trait(
            status=RegistrationApplication.Status.SUBMITTED,
            submitted_at=factory.LazyFunction(timezone.now),
        )
        exception = factory.Trait(purpose=RegistrationApplication.Purpose.OTHER)

    @factory.post_generation
    def accreditations(obj, create, extracted, **kwargs):
        if not create:
            return
        for name, ref in extracted or [
            ("Pearson", "PEA-1234"),
            ("City & Guilds", "CG-98"),
        ]:
            AwardingOrganisationAccreditation.objects.create(
                application=obj, awarding_organisation=name, reference=ref
            )


# --- Companies House officers and the signing letter ------------------------------

DIRECTOR_ADDRESS = {
    "premises": "1",
    "address_line_1": "High Street",
    "locality": "Leeds",
    "postal_code": "LS1 1AA",
    "country": "England",
}


def officer_item(
    name="SMITH, Jane Alice",
    appointment="/company/00000001/appointments/abc",
    *,
    role="director",
    resigned_on=None,
    address=None,
):
    """One officer as Companies House's officers API lists them."""
    item = {
        "name": name,
        "officer_role": role,
        "appointed_on": "2018-01-01",
        "links": {"self": appointment},
        "address": DIRECTOR_ADDRESS if address is None else address,
    }
    if resigned_on:
        item["resigned_on"] = resigned_on
    return item


def officers_snapshot(company_number, *items, fetched_at=None):
    """What Companies House said about a company's officers (now, unless told)."""
    from registration.models import CompaniesHouseSnapshot

    return CompaniesHouseSnapshot.objects.create(
        company_number=company_number,
        kind=CompaniesHouseSnapshot.Kind.OFFICERS,
        data={"items": list(items), "active_count": len(items)},
        source="fixture",
        fetched_at=fetched_at or timezone.now(),
    )


def organisation_officers(organisation, **kwargs):
    """A fresh snapshot listing the organisation's signing director as current."""
    return officers_snapshot(
        organisation.companies_house_number,
        officer_item(
            organisation.signing_director_name,
            organisation.signing_director_appointment,
        ),
        **kwargs,
    )


def letter_code() -> str:
    """The one-time code in the latest signing letter (read before it is posted)."""
    letter = Notification.objects.filter(reference="agreement.signing_code").latest(
        "pk"
    )
    return str(letter.personalisation["code"])


def issue_api_client(member: User, **kwargs):
    """An API client for ``member`` (a user with a membership), issued by the
    service as the organisation's super user would: an IssuedSecret, whose
    ``client_id`` and ``client_secret`` get tokens (see api_token)."""
    from lrs_portal.models import system_user
    from registration.services.api_clients import api_client_create

    values = {
        "organisation": member.membership.organisation,
        "member": member,
        "name": "College MIS",
        "expires_on": timezone.now().date() + timedelta(days=90),
        "acting_user": system_user(),
    }
    values.update(kwargs)
    return api_client_create(**values)


def api_token(client, client_id: str, client_secret: str, **extra):
    """POST /api/v1/token with HTTP Basic client authentication: the response."""
    import base64

    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return client.post(
        "/api/v1/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
        **extra,
    )
