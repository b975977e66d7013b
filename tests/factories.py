import factory
from django.contrib.auth.models import Group
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
    reference = "test.notification"


ROLE_PERSONAS = {
    "provider_user": (roles.PROVIDER_USER,),
    "provider_super_user": (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
    "caseworker": (roles.CASEWORKER,),
    "assessor": (roles.DSAP_ASSESSOR,),
    "panel_member": (roles.DSAP_PANEL_MEMBER,),
    "requester": (roles.DSAP_REQUESTER,),
}
