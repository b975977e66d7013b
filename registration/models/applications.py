"""Registration applications and their vetting: the checks, their guidance, the
awarding organisations and the follow-up discussions.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registration.models.declared_learners import DeclaredLearners
from registration.models.organisations import Organisation
from registration.storage import private_storage


class RegistrationApplication(DeclaredLearners):
    """What a provider applied with; vetted check by check before approval."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        MORE_INFO_REQUESTED = "more_info_requested", _("More information needed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Kind(models.TextChoices):
        NEW = "new", "New registration"
        REREGISTRATION = "reregistration", "Re-registration after revocation"

    class Purpose(models.TextChoices):
        OWN_STUDENTS = "own_students", _("Enrol our own students")
        OTHER = "other", _("Another purpose")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registration_applications",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        help_text="Set on approval, or from the start for a re-registration.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEW)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.DRAFT
    )
    reference = models.CharField(max_length=12, unique=True)

    # Organisation details
    legal_name = models.CharField(max_length=160, blank=True)
    trading_names = models.TextField(blank=True)
    ukprn = models.CharField("UKPRN", max_length=8, blank=True)
    companies_house_number = models.CharField(max_length=8, blank=True)
    ico_number = models.CharField("ICO registration number", max_length=8, blank=True)
    registered_address = models.TextField(blank=True)
    website = models.URLField(blank=True)
    super_user_name = models.CharField(max_length=200, blank=True)
    super_user_email = models.EmailField(blank=True)
    # Accreditation and volume (awarding organisations are child rows)
    estimated_learners_per_year = models.PositiveIntegerField(null=True, blank=True)
    # Going concern
    accounts_document = models.FileField(
        storage=private_storage, upload_to="accounts/%Y/%m/", blank=True
    )
    # Purpose
    purpose = models.CharField(max_length=20, choices=Purpose.choices, blank=True)
    purpose_detail = models.TextField(blank=True)
    # Signing director, chosen from Companies House's current directors
    signing_director_name = models.CharField(max_length=200, blank=True)
    signing_director_appointment = models.CharField(max_length=200, blank=True)
    signing_director_email = models.EmailField(blank=True)

    declaration_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    information_requested = models.TextField(
        blank=True, help_text="What the caseworker asked the provider for."
    )

    history = HistoricalRecords(excluded_fields=["accounts_document"])

    class Meta:
        ordering = ("-created_at",)
        permissions = (
            ("vet_registrationapplication", "Can vet registration applications"),
            ("decide_registrationapplication", "Can approve or reject applications"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "more_info_requested",
                        "approved",
                        "rejected",
                        "withdrawn",
                    ]
                ),
                name="application_status_valid",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "submitted_at"), name="application_queue_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.reference} {self.legal_name or '(no name yet)'}"

    def get_absolute_url(self) -> str:
        return reverse("registration:application", args=[self.reference])

    @property
    def is_exception(self) -> bool:
        """Any purpose but enrolling their own students needs a follow-up discussion."""
        return self.purpose == self.Purpose.OTHER

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.MORE_INFO_REQUESTED)


class AwardingOrganisationAccreditation(models.Model):
    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.CASCADE,
        related_name="accreditations",
    )
    awarding_organisation = models.CharField(max_length=160)
    reference = models.CharField(max_length=60)

    history = HistoricalRecords()

    class Meta:
        ordering = ("awarding_organisation",)
        constraints = (
            models.UniqueConstraint(
                fields=("application", "awarding_organisation"),
                name="accreditation_unique_per_application",
            ),
        )

    def __str__(self) -> str:
        return f"{self.awarding_organisation} ({self.reference})"


class CheckKind(models.TextChoices):
    COMPANIES_HOUSE = "companies_house", "Companies House registration"
    GOING_CONCERN = "going_concern", "Going concern"
    ICO = "ico", "ICO registration"
    UKPRN = "ukprn", "UKPRN"
    AWARDING_ORGANISATIONS = "awarding_organisations", "Awarding organisations"
    SIGNING_DIRECTOR = "signing_director", "Signing director and signature"
    PURPOSE = "purpose", "Purpose"


class ApplicationCheck(models.Model):
    """One vetting check of an application: what the portal found, what the
    caseworker decided."""

    class Result(models.TextChoices):
        NOT_RUN = "not_run", "Not run"
        PASS = "pass", "Pass"
        NEEDS_REVIEW = "needs_review", "Needs review"
        FAIL = "fail", "Fail"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not decided"
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        NEEDS_FOLLOW_UP = "needs_follow_up", "Needs follow-up"

    application = models.ForeignKey(
        RegistrationApplication, on_delete=models.CASCADE, related_name="checks"
    )
    kind = models.CharField(max_length=30, choices=CheckKind.choices)
    automatic_result = models.CharField(
        max_length=20, choices=Result.choices, default=Result.NOT_RUN
    )
    automatic_summary = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, default=Outcome.PENDING
    )
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("application", "kind")
        constraints = (
            models.UniqueConstraint(
                fields=("application", "kind"), name="check_unique_per_application"
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class CheckGuidance(models.Model):
    """Guidance for caseworkers on one kind of check, editable in admin."""

    kind = models.CharField(max_length=30, choices=CheckKind.choices, unique=True)
    text = models.TextField()

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "check guidance"

    def __str__(self) -> str:
        return str(CheckKind(self.kind).label)


class FollowUpDiscussion(models.Model):
    """The follow-up discussion an exception purpose needs before approval."""

    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.CASCADE,
        related_name="follow_up_discussions",
    )
    held_on = models.DateField()
    attendees = models.TextField()
    summary = models.TextField()
    purpose_acceptable = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-held_on",)

    def __str__(self) -> str:
        return f"Discussion on {self.held_on:%d %B %Y}"
