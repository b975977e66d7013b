"""Cases about an organisation already registered: re-verification after a
change of identity or standing, and suspensions.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registration.models.organisations import Organisation


class ReverificationCase(models.Model):
    """A change of identity or standing that must be vetted again (the 2020 lesson)."""

    class Reason(models.TextChoices):
        LEGAL_NAME_CHANGED = "legal_name_changed", "Legal name changed"
        TRADING_NAME_CHANGED = "trading_name_changed", "Trading name changed"
        COMPANY_NUMBER_CHANGED = (
            "company_number_changed",
            "Companies House number changed",
        )
        COMPANY_NOT_ACTIVE = "company_not_active", "Company no longer active"
        DIRECTOR_LEFT = "director_left", "Signing director left office"
        ICO_LAPSED = "ico_lapsed", "ICO registration lapsed"
        STRIKE_OFF_PROPOSED = (
            "strike_off_proposed",
            "Proposal to strike the company off",
        )
        YEARLY_CONFIRMATION_CHANGED = (
            "yearly_changed",
            "Registration changed at the yearly confirmation",
        )

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="reverification_cases"
    )
    reason = models.CharField(max_length=30, choices=Reason.choices)
    details = models.TextField()
    new_value = models.CharField(
        max_length=300,
        blank=True,
        help_text="The value now held elsewhere (the name at Companies House); "
        "resolving the case records it on the organisation.",
    )
    source = models.CharField(
        max_length=30, help_text="provider change, nightly re-verification, caseworker"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-opened_at",)
        constraints = (
            # One open case per organisation and reason: re-runs do not pile up.
            models.UniqueConstraint(
                fields=("organisation", "reason"),
                condition=Q(status="open"),
                name="reverification_one_open_per_reason",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.organisation.legal_name}"


class Suspension(models.Model):
    """A suspension of a user or an organisation, and the case around it: why
    (the usage that caused it), the provider's explanation and the outcome.

    Statuses change only through registration.services.suspensions.
    """

    class Subject(models.TextChoices):
        USER = "user", "User"
        ORGANISATION = "organisation", "Organisation"

    class Source(models.TextChoices):
        USAGE_AUDIT = "usage_audit", _("Nightly usage audit")
        HOUSEKEEPING = "housekeeping", _("Deregistration housekeeping")
        CASEWORKER = "caseworker", _("Caseworker")

    class Status(models.TextChoices):
        OPEN = "open", _("Suspended, awaiting a decision")
        UPHELD = "upheld", _("Suspension upheld")
        REINSTATED = "reinstated", _("Reinstated (false positive)")
        ESCALATED = "escalated", _("Escalated to revocation")
        LIFTED = "lifted", _("Lifted (cause resolved)")
        CLOSED = "closed", _("Closed (the organisation left the register)")

    subject_type = models.CharField(max_length=20, choices=Subject.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="suspensions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suspensions",
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    # What opened it: a rule code such as "org_volume", or a housekeeping step.
    cause = models.CharField(max_length=40)
    day = models.DateField(help_text="The day of usage (or of the check) it is about.")
    reason = models.TextField(help_text="Shown to the provider, in plain words.")
    rules = models.JSONField(
        default=list,
        blank=True,
        help_text="The rules hit: code, label, value and threshold.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    explanation = models.TextField(blank=True)
    explained_at = models.DateTimeField(null=True, blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-opened_at",)
        permissions = (("decide_suspension", "Can reinstate, uphold or escalate"),)
        constraints = (
            # A job run twice for the same day opens one suspension, and a
            # reinstated one is never opened again for that day (rule 7).
            models.UniqueConstraint(
                fields=("user", "source", "cause", "day"),
                condition=Q(subject_type="user"),
                name="suspension_once_per_user_cause_day",
            ),
            models.UniqueConstraint(
                fields=("organisation", "source", "cause", "day"),
                condition=Q(subject_type="organisation"),
                name="suspension_once_per_org_cause_day",
            ),
            models.CheckConstraint(
                condition=Q(subject_type="organisation") | Q(user__isnull=False),
                name="suspension_user_subject_has_user",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "open",
                        "upheld",
                        "reinstated",
                        "escalated",
                        "lifted",
                        "closed",
                    ]
                ),
                name="suspension_status_valid",
            ),
        )
        indexes = (
            models.Index(fields=("status", "-opened_at"), name="suspension_queue_idx"),
        )

    def __str__(self) -> str:
        who = self.user if self.subject_type == self.Subject.USER else self.organisation
        return f"Suspension of {who} ({self.day:%d %b %Y})"

    @property
    def in_force(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.UPHELD)

    @property
    def subject_label(self) -> str:
        if self.subject_type == self.Subject.USER and self.user is not None:
            return f"{self.user.full_name} ({self.user.email})"
        return self.organisation.legal_name
