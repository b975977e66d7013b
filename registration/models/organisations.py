"""Registered organisations, their members, and the invitations to join them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registration.models.declared_learners import DeclaredLearners


class Organisation(DeclaredLearners):
    """A training provider registered (or once registered) to use the LRS."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Access revoked")
        DEREGISTERED = "deregistered", _("Deregistered")

    ukprn = models.CharField("UKPRN", max_length=8, unique=True)
    legal_name = models.CharField(max_length=160)
    trading_names = models.TextField(blank=True, help_text="One per line")
    companies_house_number = models.CharField(max_length=8, db_index=True)
    ico_number = models.CharField("ICO registration number", max_length=8)
    registered_address = models.TextField()
    website = models.URLField(
        blank=True, help_text="Its users' email addresses must be on this domain."
    )
    estimated_learners_per_year = models.PositiveIntegerField()
    purpose = models.CharField(max_length=20)
    purpose_approved_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a caseworker approved its purpose; empty means no access.",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    flagged_for_review = models.BooleanField(
        default=False, help_text="An open re-verification case needs a caseworker."
    )
    registered_at = models.DateTimeField(default=timezone.now)
    # The director who signed, as Companies House holds them, to notice them leaving.
    signing_director_name = models.CharField(max_length=200, blank=True)
    signing_director_appointment = models.CharField(max_length=200, blank=True)
    signing_director_email = models.EmailField(blank=True)
    last_signed_version = models.ForeignKey(
        "AgreementVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dormancy_warned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When housekeeping warned that nobody had signed in or searched "
        "for a long time; cleared when it is used again.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("legal_name",)
        permissions = (
            (
                "manage_users_organisation",
                "Can invite and remove the organisation's users",
            ),
            ("view_usage_organisation", "Can see the organisation's usage"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(
                    status__in=["registered", "suspended", "revoked", "deregistered"]
                ),
                name="organisation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ukprn__regex=r"^[1-9][0-9]{7}$"),
                name="organisation_ukprn_8_digits",
            ),
        )

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.ukprn})"

    @property
    def trading_name_list(self) -> list[str]:
        return [n.strip() for n in self.trading_names.splitlines() if n.strip()]

    @property
    def can_use_lrs(self) -> bool:
        return self.status == self.Status.REGISTERED

    def super_user_emails(self) -> list[str]:
        """Its active super users' addresses, sorted: who is told what happens to
        the organisation. From its prefetched memberships (with their users) when
        a job has loaded many organisations so, else one query."""
        if "memberships" in getattr(self, "_prefetched_objects_cache", {}):
            return sorted(
                membership.user.email
                for membership in self.memberships.all()
                if membership.is_super_user and membership.user.is_active
            )
        return sorted(
            self.memberships.filter(
                is_super_user=True, user__is_active=True
            ).values_list("user__email", flat=True)
        )


class Membership(models.Model):
    """A user of an organisation; the super user manages the others."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    is_super_user = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while a suspension of this user is in force: no lookups.",
    )
    # Written by membership_record_lookup at most once a day; not history worth
    # keeping (like User.last_login).
    last_lookup_on = models.DateField(
        null=True, blank=True, help_text="The last day (UTC) this member searched."
    )
    # Set when a recertification campaign asks for this member (decision 0029),
    # cleared when their super user confirms them: past it the gate refuses lookups.
    recertify_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Lookups stop at this time unless the super user confirms the "
        "user still needs LRS access (recertification).",
    )

    history = HistoricalRecords(excluded_fields=["last_lookup_on"])

    class Meta:
        ordering = ("organisation", "-is_super_user", "user__email")

    def __str__(self) -> str:
        role = "super user" if self.is_super_user else "user"
        return f"{self.user} ({role} of {self.organisation.legal_name})"


class Invitation(models.Model):
    """A single-use, expiring invitation to join an organisation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_usable(self) -> bool:
        return (
            self.accepted_at is None
            and self.cancelled_at is None
            and self.expires_at > timezone.now()
        )
