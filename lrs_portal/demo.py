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
    staff: bool = False
    superuser: bool = False


ACCOUNTS = (
    DemoAccount(
        "admin@education.example.com", "Ada Admin", (), staff=True, superuser=True
    ),
    DemoAccount(
        "caseworker@education.example.com",
        "Cara Caseworker",
        (roles.CASEWORKER,),
        staff=True,
    ),
    DemoAccount(
        "assessor@education.example.com",
        "Asa Assessor",
        (roles.DSAP_ASSESSOR,),
        staff=True,
    ),
    DemoAccount(
        "panel@education.example.com",
        "Pat Panel",
        (roles.DSAP_PANEL_MEMBER,),
        staff=True,
    ),
    DemoAccount(
        "priya.shah@northfield-college.example.com",
        "Priya Shah",
        (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
    ),
    DemoAccount(
        "tom.reed@northfield-college.example.com",
        "Tom Reed",
        (roles.PROVIDER_USER,),
    ),
    DemoAccount(
        "alex.morgan@swiftcheck-screening.example.com",
        "Alex Morgan",
        (roles.PROVIDER_SUPER_USER, roles.PROVIDER_USER),
    ),
    DemoAccount(
        "rhea.jones@research-institute.example.com",
        "Rhea Jones",
        (roles.DSAP_REQUESTER,),
    ),
)


def _ensure_mfa(user: User) -> None:
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
    lines = [f"Demo sign-ins (password for every account: {DEMO_PASSWORD})"]
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
        user.groups.add(*Group.objects.filter(name__in=account.roles))
        label = ", ".join(account.roles) or "Superuser"
        if account.staff:
            _ensure_mfa(user)
            label += " (MFA: use a backup code)"
        lines.append(f"  {account.email:45} {label}")
    lines.append("Backup codes for staff accounts: " + " ".join(DEMO_BACKUP_CODES))
    return lines
