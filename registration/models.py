"""Organisations, their registration applications and vetting checks, the LRS
agreement and its signatures, memberships and invitations.

Statuses change only through registration.services (one function per workflow,
with a table of allowed moves). Every model here is history-tracked.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registration.storage import private_storage


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LearnerAge(models.TextChoices):
    """The ages of the learners a provider serves, as it declares them. The
    bands start where the audit's age bands do (records.purpose.AGE_STARTS), so
    a declaration can be compared with the ages of the learners found."""

    UNDER_14 = "under_14", "Under 14"
    AGE_14_16 = "14_16", "14 to 16"
    AGE_17_19 = "17_19", "17 to 19"
    AGE_20_24 = "20_24", "20 to 24"
    AGE_25_OVER = "25_over", "25 and over"


class LearnerReach(models.TextChoices):
    """Where a provider's learners come from, as it declares it."""

    LOCAL = "local", "Mostly within a distance of our registered address"
    ENGLAND = "england", "From across England"


LEARNER_REACH_KM_MAX = 500


def learner_ages_words(ages: list[str] | None) -> str:
    """The declared ages in words ("" when none were declared)."""
    labels = dict(LearnerAge.choices)
    return ", ".join(str(labels[a]) for a in LearnerAge.values if a in (ages or []))


def learner_reach_words(reach: str, km: int | None) -> str:
    """The declared reach in words ("" when none was declared)."""
    if reach == LearnerReach.LOCAL and km:
        return f"Mostly within {km} km of the registered address"
    if reach == LearnerReach.ENGLAND:
        return str(LearnerReach.ENGLAND.label)
    return ""


class DeclaredLearners(models.Model):
    """The learners an organisation declares it serves: asked in the application
    (decision 25) and copied to the organisation on approval. Empty for
    organisations registered before it was asked."""

    learner_ages = models.JSONField(
        "Ages of learners served",
        null=True,
        blank=True,
        help_text="The age bands the organisation declared (codes of LearnerAge).",
    )
    learner_reach = models.CharField(
        "Where learners come from",
        max_length=10,
        choices=LearnerReach.choices,
        blank=True,
    )
    learner_reach_km = models.PositiveSmallIntegerField(
        "Distance most learners live within (km)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LEARNER_REACH_KM_MAX)],
    )

    class Meta:
        abstract = True

    @property
    def learner_ages_display(self) -> str:
        return learner_ages_words(self.learner_ages)

    @property
    def learner_reach_display(self) -> str:
        return learner_reach_words(self.learner_reach, self.learner_reach_km)


class Organisation(DeclaredLearners):
    """A training provider registered (or once registered) to use the LRS."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Access revoked"
        DEREGISTERED = "deregistered", "Deregistered"

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


class RegistrationApplication(DeclaredLearners):
    """What a provider applied with; vetted check by check before approval."""

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        SUBMITTED = "submitted", "Submitted"
        MORE_INFO_REQUESTED = "more_info_requested", "More information needed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Kind(models.TextChoices):
        NEW = "new", "New registration"
        REREGISTRATION = "reregistration", "Re-registration after revocation"

    class Purpose(models.TextChoices):
        OWN_STUDENTS = "own_students", "Enrol our own students"
        OTHER = "other", "Another purpose"

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


class CompaniesHouseSnapshot(models.Model):
    """What Companies House said about a company, and when."""

    class Kind(models.TextChoices):
        PROFILE = "profile", "Company profile"
        OFFICERS = "officers", "Current officers"

    company_number = models.CharField(max_length=8)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    found = models.BooleanField(default=True)
    data = models.JSONField(default=dict)
    source = models.CharField(max_length=10, default="api")
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-fetched_at",)
        get_latest_by = "fetched_at"
        indexes = (
            models.Index(
                fields=("company_number", "kind", "-fetched_at"),
                name="ch_snapshot_latest_idx",
            ),
        )

    def __str__(self) -> str:
        return f"{self.company_number} {self.kind} at {self.fetched_at:%Y-%m-%d %H:%M}"


class IcoRegistration(models.Model):
    """One entry of the ICO register of fee payers (imported from its CSV)."""

    registration_number = models.CharField(max_length=8, unique=True)
    organisation_name = models.CharField(max_length=300)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=12, blank=True)
    trading_names = models.TextField(blank=True)
    public_authority = models.BooleanField(default=False)
    payment_tier = models.CharField(max_length=20, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a complete register file no longer listed it.",
    )

    class Meta:
        ordering = ("registration_number",)
        verbose_name = "ICO registration"

    def __str__(self) -> str:
        return f"{self.registration_number} {self.organisation_name}"


class AgreementVersion(models.Model):
    """A published version of the LRS agreement that directors sign."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    resign_deadline = models.DateField(
        null=True,
        blank=True,
        help_text="Registered organisations must re-sign this version by this date.",
    )
    resign_immediately_reason = models.TextField(
        blank=True,
        help_text="Why organisations must sign at once, when there is no deadline: "
        "the next housekeeping run suspends every one that has not.",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-number",)
        get_latest_by = "number"

    def __str__(self) -> str:
        return f"Version {self.number}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The hash always matches the text: it is what a signature pins.
        self.text_hash = sha256_text(self.text)
        super().save(*args, **kwargs)


class SigningRequest(models.Model):
    """A single-use, expiring link emailed to the nominated director."""

    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signing_requests",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signing_requests",
    )
    agreement_version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT)
    director_name = models.CharField(max_length=200)
    director_appointment = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    # Only a hash of the token is stored; the token itself is only in the email.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(organisation__isnull=False),
                name="signing_request_has_subject",
            ),
        )

    def __str__(self) -> str:
        return f"Signing link for {self.director_name}"

    @property
    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.cancelled_at is None
            and self.expires_at > timezone.now()
        )


class SigningCode(models.Model):
    """The one-time code posted to the director's correspondence address at
    Companies House: the second channel a signature needs besides the emailed link.

    Only a hash is kept; the letter row forgets the code once posted.
    """

    MAX_ATTEMPTS = 5

    signing_request = models.OneToOneField(
        SigningRequest, on_delete=models.CASCADE, related_name="code"
    )
    code_hash = models.CharField(max_length=128)
    letter = models.ForeignKey(
        "lrs_portal.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    postcode = models.CharField(
        max_length=12, blank=True, help_text="Where the letter went (its postcode)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["code_hash"])

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Signing code for {self.signing_request.director_name}"

    @property
    def attempts_left(self) -> int:
        return max(self.MAX_ATTEMPTS - self.attempts, 0)

    @property
    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.attempts_left > 0
            and self.expires_at > timezone.now()
        )


class DirectorEmailException(models.Model):
    """A caseworker's record, after speaking to the company, that its director may
    sign from an address off the organisation's domain."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="director_email_exceptions",
    )
    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="director_email_exceptions",
    )
    email = models.EmailField(help_text="The director's address, exactly")
    spoke_to = models.CharField(
        max_length=200,
        help_text="Who at the company you spoke to, and how you reached them "
        "(a number from Companies House or the organisation's website, not the "
        "application)",
    )
    reason = models.TextField(help_text="Why the director has no address on the domain")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-recorded_at",)
        verbose_name = "director email exception"
        constraints = (
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(organisation__isnull=False),
                name="director_email_exception_has_subject",
            ),
        )

    def __str__(self) -> str:
        return f"Director email exception for {self.email}"


class AgreementSignature(models.Model):
    """A director's signature of one agreement version (never changed)."""

    signing_request = models.OneToOneField(
        SigningRequest, on_delete=models.PROTECT, related_name="signature"
    )
    agreement_version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT)
    text_hash = models.CharField(max_length=64)
    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    typed_name = models.CharField(max_length=200)
    director_name_at_companies_house = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField()
    user_agent = models.CharField(max_length=500)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-signed_at",)

    def __str__(self) -> str:
        version = self.agreement_version.number
        return f"{self.director_name_at_companies_house} signed version {version}"


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
        USAGE_AUDIT = "usage_audit", "Nightly usage audit"
        HOUSEKEEPING = "housekeeping", "Deregistration housekeeping"
        CASEWORKER = "caseworker", "Caseworker"

    class Status(models.TextChoices):
        OPEN = "open", "Suspended, awaiting a decision"
        UPHELD = "upheld", "Suspension upheld"
        REINSTATED = "reinstated", "Reinstated (false positive)"
        ESCALATED = "escalated", "Escalated to revocation"
        LIFTED = "lifted", "Lifted (cause resolved)"
        CLOSED = "closed", "Closed (the organisation left the register)"

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


# API clients live in a module of their own (registration/api_clients.py).
from registration.api_clients import ApiClient as ApiClient  # noqa: E402


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
        PENDING = "pending", "Waiting for the super user"
        CONFIRMED = "confirmed", "Confirmed"
        REMOVED = "removed", "Removed"

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
        PENDING = "pending", "Waiting for the super user"
        CONFIRMED = "confirmed", "Confirmed, nothing changed"
        CHANGED = "changed", "Changes sent to a caseworker"

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
