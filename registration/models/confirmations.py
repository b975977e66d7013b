"""Access that lapses unless renewed: quarterly recertification of users
(decision 0029), the yearly confirmation of registration (decision 0031) and
the reminders the daily job sends (decision 0032).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registration.models.cases import ReverificationCase
from registration.models.organisations import Organisation


class RecertificationCampaign(models.Model):
    """One quarter's review of one organisation's users (decision 0029), or, with
    no organisation, of the department's caseworkers, assessors and panel members,
    answered by a superuser."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recertifications",
        help_text="Empty for the department's own staff.",
    )
    quarter_start = models.DateField(help_text="The first day of the quarter.")
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(
        help_text="Users not confirmed by then cannot look up learners."
    )
    lapse_notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the super users were told that unconfirmed users lost access.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-quarter_start", "organisation__legal_name")
        constraints = (
            models.UniqueConstraint(
                fields=("organisation", "quarter_start"),
                name="recertification_one_per_quarter",
            ),
            models.UniqueConstraint(
                fields=("quarter_start",),
                condition=Q(organisation__isnull=True),
                name="recertification_department_one_per_quarter",
            ),
        )

    def __str__(self) -> str:
        return f"{self.subject_name}: quarter from {self.quarter_start}"

    @property
    def is_department(self) -> bool:
        return self.organisation_id is None

    @property
    def subject_name(self) -> str:
        if self.organisation is None:
            return "Department for Education staff"
        return self.organisation.legal_name


class RecertificationConfirmation(models.Model):
    """Whether one user still needs LRS access, as their super user answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the super user")
        CONFIRMED = "confirmed", _("Confirmed")
        REMOVED = "removed", _("Removed")

    campaign = models.ForeignKey(
        RecertificationCampaign, on_delete=models.CASCADE, related_name="confirmations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lapse_notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the user was told they cannot look up learners until "
        "confirmed.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("campaign", "user__email")
        constraints = (
            models.UniqueConstraint(
                fields=("campaign", "user"), name="recertification_user_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "removed"]),
                name="recertification_status_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"


class YearlyConfirmation(models.Model):
    """One year's confirmation of an organisation's registration by its super
    user: purpose, learners a year, awarding organisations and the signing
    director still in office (decision 0031). Opened before the anniversary of
    registration; not answered YEARLY_CONFIRMATION_GRACE_DAYS after it is due,
    housekeeping suspends the organisation."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the super user")
        CONFIRMED = "confirmed", _("Confirmed, nothing changed")
        CHANGED = "changed", _("Changes sent to a caseworker")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="yearly_confirmations"
    )
    anniversary = models.DateField(
        help_text="The anniversary of registration this confirmation is for."
    )
    opened_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(
        help_text="The day it is due; housekeeping suspends the organisation "
        "YEARLY_CONFIRMATION_GRACE_DAYS after it unless answered."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What was on record when it was answered, and the super user's answers:
    # {"purpose": ..., "learners_per_year": ..., "awarding_organisations": [...],
    #  "director_in_office": bool, "director_at_companies_house": "current" |
    #  "not_current" | "unknown"}.
    on_record = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    changes = models.TextField(
        blank=True, help_text="What changed, in words, as the caseworker reads it."
    )
    reverification_case = models.ForeignKey(
        ReverificationCase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="yearly_confirmations",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-due_on", "organisation__legal_name")
        constraints = (
            models.UniqueConstraint(
                fields=("organisation", "anniversary"),
                name="yearly_confirmation_one_per_anniversary",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "changed"]),
                name="yearly_confirmation_status_valid",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "due_on"), name="yearly_confirmation_due_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.organisation.legal_name}: year to {self.anniversary}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class Reminder(models.Model):
    """One reminder sent by the daily reminders job (registration.services.reminders).

    Its reference is the email's (with the ids and the date it counts from), and is
    unique: a job run twice, or two runs at once, send each reminder once. A row is
    written once and never changed, so it is not history-tracked; what was sent is
    in the outbox (lrs_portal.Notification).
    """

    reference = models.CharField(max_length=100, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-sent_at",)

    def __str__(self) -> str:
        return self.reference
