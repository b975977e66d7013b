"""A data share request, the extracts it asks for and the researchers who will
use them.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from approvals.models.organisations import ResearchOrganisation


class DataShareRequest(models.Model):
    """A request for bulk pupil data, from draft to a closed case."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted: checking it is complete")
        RETURNED = "returned", _("More information needed")
        ASSESSMENT = "assessment", _("Being assessed")
        PANEL = "panel", _("Waiting for the panel")
        APPROVED = "approved", _("Approved")
        APPROVED_WITH_CONDITIONS = (
            "approved_with_conditions",
            _("Approved with conditions"),
        )
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred by the panel")
        RELEASED = "released", _("Data released")
        CLOSING = "closing", _("Share ended: destruction certificate due")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class LegalGateway(models.TextChoices):
        DEA = (
            "dea",
            _(
                "Digital Economy Act 2017 research route, through the Office for "
                "National Statistics"
            ),
        )
        DFE = "dfe", _("The department's own legislation")

    class LawfulBasis(models.TextChoices):
        CONSENT = "a", _("Article 6(1)(a): consent")
        CONTRACT = "b", _("Article 6(1)(b): contract")
        LEGAL_OBLIGATION = "c", _("Article 6(1)(c): legal obligation")
        VITAL_INTERESTS = "d", _("Article 6(1)(d): vital interests")
        PUBLIC_TASK = "e", _("Article 6(1)(e): public task")
        LEGITIMATE_INTERESTS = "f", _("Article 6(1)(f): legitimate interests")

    class SpecialCategoryCondition(models.TextChoices):
        EXPLICIT_CONSENT = "a", _("Article 9(2)(a): explicit consent")
        SUBSTANTIAL_PUBLIC_INTEREST = (
            "g",
            _("Article 9(2)(g): substantial public interest"),
        )
        RESEARCH = (
            "j",
            _("Article 9(2)(j): archiving, research or statistics"),
        )

    class AccessRoute(models.TextChoices):
        SAFE_ROOM = "safe_room", _("ONS Secure Research Service: an ONS safe room")
        SAFEPOD = "safepod", _("ONS Secure Research Service: a SafePod")
        ASSURED_CONNECTIVITY = (
            "assured_connectivity",
            _(
                "ONS Secure Research Service: assured organisational connectivity "
                "from an approved setting"
            ),
        )
        DIRECT_SUPPLY = "direct_supply", _("Direct supply (only by exception)")

    class ChangeKind(models.TextChoices):
        AMENDMENT = "amendment", _("Amendment (datasets, researchers or purpose)")
        EXTENSION = "extension", _("Extension (a later end date)")

    reference = models.CharField(max_length=10, unique=True)
    organisation = models.ForeignKey(
        ResearchOrganisation, on_delete=models.PROTECT, related_name="requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.DRAFT
    )

    # The project
    project_title = models.CharField(max_length=200, blank=True)
    summary = models.TextField("Summary and public benefit", blank=True)
    research_interest = models.TextField(
        "How it supports the department's areas of research interest", blank=True
    )
    # Legal basis
    legal_gateway = models.CharField(
        max_length=10, choices=LegalGateway.choices, blank=True
    )
    lawful_basis = models.CharField(
        "Lawful basis (UK GDPR Article 6)",
        max_length=2,
        choices=LawfulBasis.choices,
        blank=True,
    )
    special_category = models.BooleanField(
        "Special category data involved", null=True, blank=True
    )
    special_category_condition = models.CharField(
        "Condition (UK GDPR Article 9)",
        max_length=2,
        choices=SpecialCategoryCondition.choices,
        blank=True,
    )
    # The data (datasets are child rows)
    linkage = models.BooleanField("Linked to other data", null=True, blank=True)
    linkage_detail = models.TextField(blank=True)
    records_expected = models.PositiveIntegerField(null=True, blank=True)
    # Access
    access_route = models.CharField(
        max_length=30, choices=AccessRoute.choices, blank=True
    )
    direct_supply_reason = models.TextField(blank=True)
    # Dates and destruction
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    retention_plan = models.TextField("Retention and destruction plan", blank=True)

    # The case
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    information_requested = models.TextField(
        blank=True, help_text="What the caseworker asked the requester for."
    )
    information_response = models.TextField(
        blank=True, help_text="The requester's answer, sent with the resubmission."
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessor_no_conflict_declared_at = models.DateTimeField(null=True, blank=True)
    panel_meeting = models.ForeignKey(
        "PanelMeeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    reminded_30_days_at = models.DateTimeField(null=True, blank=True)
    reminded_7_days_at = models.DateTimeField(null=True, blank=True)
    certificate_due_on = models.DateField(null=True, blank=True)
    certificate_overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The secretariat (decision 17): when the request entered its current stage
    # (set by request_transition), and whether it changes a live share.
    stage_entered_at = models.DateTimeField(default=timezone.now)
    change_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        help_text="The live share this request amends or extends.",
    )
    change_kind = models.CharField(
        max_length=20, choices=ChangeKind.choices, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "data share request"
        permissions = (
            ("triage_datasharerequest", "Can triage and place data share requests"),
            ("assess_datasharerequest", "Can assess a data share request"),
            ("vote_datasharerequest", "Can vote on a data share request"),
            ("release_datasharerequest", "Can release data and accept certificates"),
            ("accept_risk_datasharerequest", "Can accept risk above the appetite"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "returned",
                        "assessment",
                        "panel",
                        "approved",
                        "approved_with_conditions",
                        "rejected",
                        "deferred",
                        "released",
                        "closing",
                        "closed",
                        "withdrawn",
                    ]
                ),
                name="datasharerequest_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gt=models.F("start_date")),
                name="datasharerequest_end_after_start",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "end_date"), name="datashare_status_end_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.reference} {self.project_title or '(no title yet)'}"

    def get_absolute_url(self) -> str:
        return reverse("approvals:request", args=[self.reference])

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def is_approved(self) -> bool:
        return self.status in (
            self.Status.APPROVED,
            self.Status.APPROVED_WITH_CONDITIONS,
        )

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in (
            self.Status.DRAFT,
            self.Status.SUBMITTED,
            self.Status.RETURNED,
            self.Status.ASSESSMENT,
            self.Status.PANEL,
            self.Status.DEFERRED,
        )


class RequestedDataset(models.Model):
    """One NPD de-identified standard extract for one academic year."""

    class Tier(models.IntegerChoices):
        TIER_1 = 1, _("Tier 1: identifiable and highly sensitive")
        TIER_2 = 2, _("Tier 2: identifiable and sensitive")
        TIER_3 = (
            3,
            _(
                "Tier 3: identifiable, sensitive and aggregated; may identify in small "
                "numbers"
            ),
        )
        TIER_4 = 4, _("Tier 4: identifiable")

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(
        max_length=120, default="National Pupil Database de-identified standard extract"
    )
    academic_year = models.CharField(max_length=7, help_text="For example 2019/20")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ("name", "academic_year")
        constraints = (
            models.UniqueConstraint(
                fields=("request", "name", "academic_year"),
                name="dataset_unique_per_request_and_year",
            ),
            models.CheckConstraint(
                condition=Q(tier__gte=1, tier__lte=4), name="dataset_tier_1_to_4"
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} {self.academic_year} (tier {self.tier})"


class Researcher(models.Model):
    """A named researcher who will use the data, with their accreditation."""

    class Accreditation(models.TextChoices):
        FULL = "full", _("Full accredited researcher (Digital Economy Act)")
        PROVISIONAL = "provisional", _("Provisional accredited researcher")
        APPROVED = "approved", _("Approved researcher (SRSA 2007)")
        NONE = "none", _("Not accredited")

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.CASCADE, related_name="researchers"
    )
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    accreditation = models.CharField(max_length=20, choices=Accreditation.choices)
    accreditation_number = models.CharField(max_length=40, blank=True)
    accreditation_expires_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("full_name",)
        constraints = (
            models.UniqueConstraint(
                fields=("request", "email"), name="researcher_unique_per_request"
            ),
            # Every accreditation lasts for a period (a full one five years): an
            # accredited researcher without an expiry date cannot be checked.
            models.CheckConstraint(
                condition=Q(accreditation="none")
                | Q(accreditation_expires_on__isnull=False),
                name="researcher_accreditation_has_expiry",
            ),
        )

    def __str__(self) -> str:
        return self.full_name

    def accredited_until(self, on: date | None) -> bool:
        """Whether the accreditation lasts until ``on`` (the share's end date)."""
        if self.accreditation == self.Accreditation.NONE:
            return False
        if self.accreditation_expires_on is None or on is None:
            return False
        return self.accreditation_expires_on >= on
