"""API clients: create, rotate the secret, revoke, note use, remind before expiry.

Every change is saved with history (who and why), which the organisation's
timeline shows (registration.apps registers the source). The secret is returned
once, by the function that makes it, and stored only hashed.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, get_application_model

from lrs_portal.models import User
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.api_clients import (
    MAX_GRACE_DAYS,
    ApiClient,
    grace_end,
    ip_ranges_parse,
    latest_expiry,
)
from registration.models import Membership, Organisation

Application = get_application_model()


class ApiClientRefused(ValueError):
    """A client that cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class IssuedSecret:
    """A client and the secret just made for it: shown once, then only its hash."""

    api_client: ApiClient
    client_secret: str

    @property
    def client_id(self) -> str:
        return self.api_client.client_id


def _check_member(organisation: Organisation, member: User) -> None:
    if not Membership.objects.filter(user=member, organisation=organisation).exists():
        raise ApiClientRefused(
            _("%(email)s is not a member of %(organisation)s")
            % {"email": member.email, "organisation": organisation.legal_name}
        )
    if not member.is_active:
        raise ApiClientRefused(
            _("%(email)s's account cannot be used") % {"email": member.email}
        )


def _check_expiry(expires_on: date) -> None:
    today = timezone.now().date()
    if expires_on < today:
        raise ApiClientRefused(_("The expiry date must be today or in the future"))
    if expires_on > latest_expiry(today):
        raise ApiClientRefused(
            _("The expiry date must be no more than 12 months from today")
        )


def api_client_create(
    *,
    organisation: Organisation,
    member: User,
    name: str,
    expires_on: date,
    acting_user: User,
    allowed_ip_ranges: str = "",
) -> IssuedSecret:
    """Issue a client to one of the organisation's members: client credentials
    only, confidential, its secret hashed; returns the secret, once."""
    name = name.strip()
    if not name:
        raise ApiClientRefused(_("Enter a name for the API client"))
    _check_member(organisation, member)
    _check_expiry(expires_on)
    ranges = "\n".join(ip_ranges_parse(allowed_ip_ranges))
    secret = generate_client_secret()
    with transaction.atomic():
        application = Application.objects.create(
            name=f"{organisation.ukprn}: {name}"[:255],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        client = ApiClient(
            organisation=organisation,
            member=member,
            name=name,
            application=application,
            allowed_ip_ranges=ranges,
            expires_on=expires_on,
            created_by=acting_user,
        )
        save_with_history(
            client, acting_user=acting_user, reason=f"API client created for {member}"
        )
    return IssuedSecret(api_client=client, client_secret=secret)


def _locked(api_client: ApiClient) -> ApiClient:
    return (
        ApiClient.objects.select_for_update(of=("self",))
        .select_related("application", "organisation", "member")
        .get(pk=api_client.pk)
    )


def api_client_rotate_secret(
    *, api_client: ApiClient, grace_days: int, acting_user: User
) -> IssuedSecret:
    """A new secret, returned once; the old one keeps working for ``grace_days``
    (0 to 7). With no grace the old secret and every token it got stop now."""
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise ApiClientRefused(
            _("The grace period is 0 to %(max)s days") % {"max": MAX_GRACE_DAYS}
        )
    now = timezone.now()
    secret = generate_client_secret()
    with transaction.atomic():
        client = _locked(api_client)
        if client.status != ApiClient.Status.ACTIVE:
            raise ApiClientRefused(
                _("Only an active API client's secret can be changed")
            )
        application = client.application
        until = grace_end(days=grace_days, now=now)
        client.previous_secret_hash = application.client_secret if until else ""
        client.previous_secret_until = until
        client.secret_rotated_at = now
        application.client_secret = secret
        application.save(update_fields=["client_secret", "updated"])
        if until is None:
            AccessToken.objects.filter(application=application).delete()
        grace = f"{grace_days} days" if grace_days != 1 else "1 day"
        save_with_history(
            client,
            acting_user=acting_user,
            reason=f"Secret changed; the old one works for {grace}"
            if until
            else "Secret changed; the old one stopped working at once",
            fields=[
                "previous_secret_hash",
                "previous_secret_until",
                "secret_rotated_at",
            ],
        )
    return IssuedSecret(api_client=client, client_secret=secret)


def api_client_revoke(
    *, api_client: ApiClient, acting_user: User, reason: str
) -> ApiClient:
    """Revoke a client for good: its tokens are refused from their next use."""
    reason = reason.strip()
    if not reason:
        raise ApiClientRefused(_("Enter why the API client is being revoked"))
    with transaction.atomic():
        client = _locked(api_client)
        if client.revoked_at is not None:
            raise ApiClientRefused(_("The API client is already revoked"))
        client.revoked_at = timezone.now()
        client.revoked_by = acting_user
        client.revoked_reason = reason[:500]
        client.previous_secret_hash = ""
        client.previous_secret_until = None
        save_with_history(
            client,
            acting_user=acting_user,
            reason=f"API client revoked: {reason}"[:100],
            fields=[
                "revoked_at",
                "revoked_by",
                "revoked_reason",
                "previous_secret_hash",
                "previous_secret_until",
            ],
        )
    return client


def api_client_record_use(
    *, api_client: ApiClient, now: datetime | None = None
) -> bool:
    """Note that the client was used; return whether it wrote.

    A usage time, not a change of state (like User.last_login): kept out of
    history, and written at most once every API_CLIENT_LAST_USED_EVERY per
    client, by one conditional UPDATE, so concurrent calls write it once.
    """
    now = now or timezone.now()
    stale = now - settings.API_CLIENT_LAST_USED_EVERY
    if api_client.last_used_at is not None and api_client.last_used_at > stale:
        return False
    written = ApiClient.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=api_client.pk
    ).update(last_used_at=now)
    api_client.last_used_at = now
    return bool(written)


# --- expiry reminders (run by the nightly housekeeping job) ----------------------

_REMINDER_FIELDS = {30: "reminded_30_days_at", 7: "reminded_7_days_at"}


def api_client_reminders_due(*, today: date) -> list[tuple[ApiClient, int]]:
    """The clients owed an expiry reminder today, and how many days ahead it is
    for (30 or 7; the nearer one only, once each)."""
    due: list[tuple[ApiClient, int]] = []
    seen: set[int] = set()
    for days in sorted(settings.API_CLIENT_REMINDER_DAYS):
        field = _REMINDER_FIELDS[days]
        clients = (
            ApiClient.objects.usable(today=today)
            .filter(expires_on__lte=today + timedelta(days=days), **{field: None})
            .select_related("organisation", "member")
            .order_by("pk")
        )
        for client in clients:
            if client.pk not in seen:
                seen.add(client.pk)
                due.append((client, days))
    return due


def api_client_remind(*, api_client: ApiClient, days: int) -> bool:
    """Email the super users and the responsible member that the client expires
    soon; False (nothing sent) when this reminder was claimed already."""
    now = timezone.now()
    # The nearer reminder claims the further one too: a client created 10 days
    # before expiry gets one reminder, not two.
    claims = {field: now for limit, field in _REMINDER_FIELDS.items() if limit >= days}
    with transaction.atomic():
        claimed = ApiClient.objects.filter(
            pk=api_client.pk, **{_REMINDER_FIELDS[days]: None}
        ).update(**claims)
        if not claimed:
            return False
        _reminder_send(api_client)
    return True


def _reminder_send(client: ApiClient) -> None:
    organisation = client.organisation
    recipients = sorted({*organisation.super_user_emails(), client.member.email})
    link = f"{settings.SERVICE_URL}{reverse('registration:api-clients')}"
    body = (
        f"The API client “{client.name}” of {organisation.legal_name} expires at "
        f"the end of {client.expires_on:%d %B %Y}. After that its tokens are "
        "refused and your systems cannot search the LRS with it.\n\n"
        f"Your organisation's super user can create a new client at {link}\n\n"
        f"If you have questions, email {settings.SUPPORT_EMAIL}."
    )
    for email in recipients:
        notification_send(
            to=email,
            subject=f"Your LRS API client expires on {client.expires_on:%d %B %Y}",
            body=body,
            reference=f"api_client.{client.pk}.expiry",
        )
