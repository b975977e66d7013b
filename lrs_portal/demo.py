"""Demo accounts for `manage.py seed_demo`: one per role, idempotent."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lrs_portal import roles
from lrs_portal.models import User

# Demo only: seed_demo refuses to run with DEBUG off, so these never reach production.
DEMO_PASSWORD = "demo-Learning-Records-2026"  # noqa: S105
DEMO_BACKUP_CODES = tuple(f"demo{n:04d}" for n in range(1, 11))


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    roles: tuple[str, ...]
    try_this: str
    staff: bool = False
    superuser: bool = False


ACCOUNTS = (
    DemoAccount(
        "admin@education.example.com",
        "Ada Admin",
        (),
        "admin: everything, including audit rules and risk appetite",
        staff=True,
        superuser=True,
    ),
    DemoAccount(
        "caseworker@education.example.com",
        "Cara Caseworker",
        (roles.CASEWORKER,),
        "admin: vet LRS-DEMO01 to approval; decide SwiftCheck's suspension",
        staff=True,
    ),
    DemoAccount(
        "assessor@education.example.com",
        "Asa Assessor",
        (roles.DSAP_ASSESSOR,),
        "admin: assess data share DS00101 once it is triaged",
        staff=True,
    ),
    DemoAccount(
        "panel@education.example.com",
        "Pat Panel",
        (roles.DSAP_PANEL_MEMBER,),
        "admin: chair today's panel meeting, vote on DS00102 and decide it",
        staff=True,
    ),
    DemoAccount(
        "panel.two@education.example.com",
        "Dev Okoro",
        (roles.DSAP_PANEL_MEMBER,),
        "admin: vote on DS00102 (three votes make the quorum)",
        staff=True,
    ),
    DemoAccount(
        "panel.three@education.example.com",
        "Mary Lindqvist",
        (roles.DSAP_PANEL_MEMBER,),
        "admin: the third vote on DS00102",
        staff=True,
    ),
    DemoAccount(
        "caseworker.two@education.example.com",
        "Sam Adeyemi",
        (roles.CASEWORKER,),
        "admin: the second pair of eyes on a public summary or a decision",
        staff=True,
    ),
    DemoAccount(
        "priya.shah@northfield-college.example.com",
        "Priya Shah",
        (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
        "look up learners; invite and manage Northfield's users; its usage",
    ),
    DemoAccount(
        "tom.reed@northfield-college.example.com",
        "Tom Reed",
        (roles.PROVIDER_USER,),
        "look up learners (a provider user)",
    ),
    DemoAccount(
        "alex.morgan@swiftcheck-screening.example.com",
        "Alex Morgan",
        (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
        "read SwiftCheck's suspension and explain it",
    ),
    DemoAccount(
        "rhea.jones@research-institute.example.com",
        "Rhea Jones",
        (roles.DSAP_REQUESTER,),
        "follow data shares DS00101-DS00103; start a new one",
    ),
)


def ensure_mfa(user: User) -> None:
    # A default TOTP device makes two_factor ask for a code at sign-in; the printed
    # backup codes answer it, so MFA stays on in the demo without a phone.
    TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    backup, _ = StaticDevice.objects.get_or_create(
        user=user, name="backup", defaults={"confirmed": True}
    )
    have = set(backup.token_set.values_list("token", flat=True))
    StaticToken.objects.bulk_create(
        StaticToken(device=backup, token=code)
        for code in DEMO_BACKUP_CODES
        if code not in have
    )


def seed() -> list[str]:
    """Create the demo accounts (if missing) and return lines describing them."""
    lines = [
        f"Demo sign-ins (password for every account: {DEMO_PASSWORD}; "
        "department staff also give a backup code, listed below)"
    ]
    for account in ACCOUNTS:
        user = User.objects.filter(email=account.email).first()
        if user is None:
            user = User.objects.create_user(
                account.email,
                DEMO_PASSWORD,
                full_name=account.full_name,
                is_staff=account.staff,
                is_superuser=account.superuser,
            )
        elif not user.has_usable_password():  # made by an older demo without one
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=account.roles))
        if account.staff:
            ensure_mfa(user)
        lines.append(f"  {account.email:45} {account.try_this}")
    lines.append("Backup codes for staff accounts: " + " ".join(DEMO_BACKUP_CODES))
    return lines
