"""API clients: a member's credential for the LRS web service (issue 12).

Each client is an OAuth 2.0 confidential client (a django-oauth-toolkit
Application, client credentials grant only, its secret stored hashed), issued by
the organisation's super user to one named member: every call made with it is
the member's, and is refused whenever the member or the organisation would be
refused on the pages. Its state changes only through
registration.services.api_clients. Decision record:
docs/decisions/0020-api-clients-and-tokens.md.
"""

import ipaddress
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

# At most this far ahead a client may expire (and at most this long a rotated
# secret keeps working): the "12 months" and "7 days".
MAX_EXPIRY_MONTHS = 12
MAX_GRACE_DAYS = 7
MAX_IP_RANGES = 20

# Why a client itself may not be used now, in the pages' plain words; the
# member's and organisation's refusals are records.permissions.REFUSALS.
CLIENT_REFUSALS = {
    "client_revoked": "This API client has been revoked. Ask your organisation's "
    "super user for a new one.",
    "client_expired": "This API client has expired. Ask your organisation's super "
    "user for a new one.",
    "address_not_allowed": "This API client cannot be used from your network "
    "address. Your organisation's super user sets the addresses it may be used from.",
}


def latest_expiry(today: date | None = None) -> date:
    """The furthest expiry date allowed: the same day 12 months on (28 February
    for a client created on 29 February)."""
    today = today or timezone.now().date()
    try:
        return today.replace(year=today.year + MAX_EXPIRY_MONTHS // 12)
    except ValueError:
        return today.replace(year=today.year + MAX_EXPIRY_MONTHS // 12, day=28)


def ip_ranges_parse(text: str) -> list[str]:
    """The CIDR ranges in ``text`` (one per line, or separated by commas or
    spaces), normalised; ValidationError naming each line that is not one."""
    entries = [entry for entry in text.replace(",", " ").split() if entry]
    problems = []
    ranges: list[str] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            problems.append(
                _(
                    "“%(entry)s” is not an IP address or range. Enter ranges like "
                    "203.0.113.0/24 or 2001:db8::/48"
                )
                % {"entry": entry[:50]}
            )
            continue
        if str(network) not in ranges:
            ranges.append(str(network))
    if problems:
        raise ValidationError(problems)
    if len(ranges) > MAX_IP_RANGES:
        raise ValidationError(
            _("Enter %(max)s IP ranges or fewer") % {"max": MAX_IP_RANGES}
        )
    return ranges


def validate_ip_ranges(text: str) -> None:
    ip_ranges_parse(text)


class ApiClientQuerySet(models.QuerySet["ApiClient"]):
    def usable(self, *, today: date | None = None) -> "ApiClientQuerySet":
        """Clients not revoked and not past their expiry date."""
        today = today or timezone.now().date()
        return self.filter(revoked_at__isnull=True, expires_on__gte=today)


class ApiClient(models.Model):
    """A provider system's credential: issued to one member, for one organisation."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    organisation = models.ForeignKey(
        "registration.Organisation",
        on_delete=models.PROTECT,
        related_name="api_clients",
    )
    # The member responsible: a user, not their Membership row, which removal
    # deletes; a removed member's clients are refused by the gate (not a member).
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=100)
    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.PROTECT,
        related_name="api_client",
    )
    allowed_ip_ranges = models.TextField(
        "allowed IP ranges",
        blank=True,
        validators=[validate_ip_ranges],
        help_text="One CIDR range a line; empty allows any address.",
    )
    expires_on = models.DateField(
        help_text="The last day (UTC) the client may be used."
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Usage, not state: written at most once a minute, kept out of history.
    last_used_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # The secret before the last rotation (hashed, like the Application's) and
    # until when it is still accepted: the rotation's grace period.
    previous_secret_hash = models.CharField(max_length=255, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_reason = models.CharField(max_length=500, blank=True)
    # Which expiry reminders went out (claimed once each by the daily job).
    reminded_30_days_at = models.DateTimeField(null=True, blank=True)
    reminded_7_days_at = models.DateTimeField(null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            "last_used_at",
            "previous_secret_hash",
            "reminded_30_days_at",
            "reminded_7_days_at",
        ]
    )

    class Meta:
        verbose_name = "API client"
        permissions = (("revoke_apiclient", "Can revoke API clients"),)
        ordering = ("organisation", "name", "pk")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True)
                | models.Q(revoked_by__isnull=False),
                name="api_client_revoked_by_someone",
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.legal_name})"

    @property
    def client_id(self) -> str:
        return str(self.application.client_id)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_on < timezone.now().date():
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def ip_ranges(self) -> list[str]:
        return ip_ranges_parse(self.allowed_ip_ranges)

    def allows_address(self, address: str) -> bool:
        """Whether a call from ``address`` may use the client: any address when
        no ranges are set, else one inside a range (never an unreadable one)."""
        ranges = self.ip_ranges
        if not ranges:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(network) for network in ranges)

    def lapsed_code(self) -> str | None:
        """Why the client may not be used now from anywhere (revoked, expired)."""
        if self.revoked_at is not None:
            return "client_revoked"
        if self.expires_on < timezone.now().date():
            return "client_expired"
        return None

    def refusal_code(self, *, address: str) -> str | None:
        """Why the client itself may not be used from ``address`` now, or None."""
        lapsed = self.lapsed_code()
        if lapsed is not None:
            return lapsed
        if not self.allows_address(address):
            return "address_not_allowed"
        return None

    def previous_secret_valid(self, *, now: datetime | None = None) -> bool:
        """Whether the secret before the last rotation is still in its grace."""
        return bool(
            self.previous_secret_hash
            and self.previous_secret_until is not None
            and (now or timezone.now()) < self.previous_secret_until
        )


def grace_end(*, days: int, now: datetime | None = None) -> datetime | None:
    """When a rotated secret stops working: ``days`` (0 to 7) from now; None for 0."""
    if not 0 <= days <= MAX_GRACE_DAYS:
        raise ValueError(f"The grace period is 0 to {MAX_GRACE_DAYS} days")
    return (now or timezone.now()) + timedelta(days=days) if days else None


# --- the organisation's timeline ------------------------------------------------


def _describe(record: Any, before: Any) -> str:
    name = f"API client “{record.name}”"
    if before is None:
        return (
            f"{name} created for {record.member.email}, expiring "
            f"{record.expires_on:%d %b %Y}"
        )
    if before.revoked_at is None and record.revoked_at is not None:
        return f"{name} revoked: {record.revoked_reason}"
    if before.secret_rotated_at != record.secret_rotated_at:
        return f"{name}: secret changed"
    if before.allowed_ip_ranges != record.allowed_ip_ranges:
        return f"{name}: allowed IP ranges changed"
    return ""


def api_client_timeline_entries(organisation: Any) -> Iterator[Any]:
    """One entry per change of one of the organisation's API clients (one query)."""
    from lrs_portal.models import User
    from registration.timeline import TimelineEntry

    records = (
        ApiClient.history.filter(organisation_id=organisation.pk)
        .select_related("history_user", "member")
        .order_by("history_date", "history_id")
    )
    previous: dict[int, Any] = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        what = _describe(record, before)
        if not what:
            continue
        user = record.history_user
        who = (
            "System" if user is None or user.email == User.SYSTEM_EMAIL else user.email
        )
        yield TimelineEntry(
            when=record.history_date,
            who=who,
            what=what,
            why=record.history_change_reason or "",
        )
