"""Bulk data share requests to the Data Sharing Approvals Panel (DSAP).

A research organisation asks for National Pupil Database extracts; a caseworker
triages the request, an independent assessor rates it against the Five Safes and
scores its risk, a panel decides, and the department releases one extract per
dataset and academic year. When the share ends, the requester certifies that the
data was destroyed.

Statuses change only through approvals.services (one function, one table of
allowed moves). Every model here is history-tracked.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

MINIMUM_QUORUM = 3


class ResearchOrganisation(models.Model):
    """An organisation that asks for data: a university, a charity, a company."""

    class Kind(models.TextChoices):
        PUBLIC_BODY = "public_body", "Public body"
        UNIVERSITY = "university", "University"
        RESEARCH_INSTITUTE = "research_institute", "Independent research institute"
        CHARITY = "charity", "Charity"
        COMMERCIAL = "commercial", "Commercial company"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(
        max_length=30,
        choices=Kind.choices,
        help_text="The recipient type, one factor of the risk score.",
    )
    ico_number = models.CharField("ICO registration number", max_length=8, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("name",)
        permissions = (
            (
                "request_data_researchorganisation",
                "Can make data share requests for the organisation",
            ),
        )

    def __str__(self) -> str:
        return self.name


class Affiliation(models.Model):
    """Whom a person works for: requesters request for it, and nobody acts on a
    request from their own organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliation"
    )
    organisation = models.ForeignKey(
        ResearchOrganisation, on_delete=models.PROTECT, related_name="affiliations"
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("organisation", "user")

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"


class RiskSettings(models.Model):
    """The risk model, the risk appetite and the quorum (one row, edited in admin).

    A request's risk score is the sum of the points below for its most sensitive
    tier, its volume, its linkage, its access route and its recipient type.
    """

    risk_appetite = models.PositiveSmallIntegerField(
        default=10,
        help_text="A score above this needs the SIRO's recorded agreement to approve.",
    )
    quorum = models.PositiveSmallIntegerField(
        default=MINIMUM_QUORUM,
        validators=[MinValueValidator(MINIMUM_QUORUM)],
        help_text="Votes needed from members without a conflict (at least 3).",
    )
    certificate_due_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Days after the end date when the destruction certificate is due.",
    )
    tier_1_points = models.PositiveSmallIntegerField(default=4)
    tier_2_points = models.PositiveSmallIntegerField(default=3)
    tier_3_points = models.PositiveSmallIntegerField(default=2)
    tier_4_points = models.PositiveSmallIntegerField(default=1)
    volume_medium_from = models.PositiveIntegerField(
        default=10_000, help_text="Records expected from which volume is medium."
    )
    volume_high_from = models.PositiveIntegerField(
        default=1_000_000, help_text="Records expected from which volume is high."
    )
    volume_low_points = models.PositiveSmallIntegerField(default=0)
    volume_medium_points = models.PositiveSmallIntegerField(default=1)
    volume_high_points = models.PositiveSmallIntegerField(default=3)
    linkage_points = models.PositiveSmallIntegerField(
        default=3, help_text="Added when the data is linked to other data."
    )
    safe_room_points = models.PositiveSmallIntegerField(default=0)
    safepod_points = models.PositiveSmallIntegerField(default=1)
    assured_connectivity_points = models.PositiveSmallIntegerField(default=2)
    direct_supply_points = models.PositiveSmallIntegerField(default=5)
    public_body_points = models.PositiveSmallIntegerField(default=0)
    university_points = models.PositiveSmallIntegerField(default=1)
    research_institute_points = models.PositiveSmallIntegerField(default=1)
    charity_points = models.PositiveSmallIntegerField(default=2)
    commercial_points = models.PositiveSmallIntegerField(default=4)
    singleton = models.BooleanField(default=True, editable=False, unique=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "risk model and panel settings"
        verbose_name_plural = "risk model and panel settings"
        constraints = (
            models.CheckConstraint(
                condition=Q(quorum__gte=MINIMUM_QUORUM), name="risk_settings_quorum_min"
            ),
            models.CheckConstraint(
                condition=Q(singleton=True), name="risk_settings_one_row"
            ),
            models.CheckConstraint(
                condition=Q(volume_high_from__gt=models.F("volume_medium_from")),
                name="risk_settings_volume_bands_ordered",
            ),
        )

    def __str__(self) -> str:
        return "Risk model and panel settings"

    @classmethod
    def current(cls) -> "RiskSettings":
        found, _ = cls.objects.get_or_create(singleton=True)
        return found


class RiskAppetiteChange(models.Model):
    """A recorded decision to change the risk appetite: who, when, why. It applies
    to assessments recorded afterwards; each assessment keeps the appetite in
    force when it was recorded."""

    risk_appetite_before = models.PositiveSmallIntegerField()
    risk_appetite = models.PositiveSmallIntegerField("New risk appetite")
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-decided_at", "-pk")
        verbose_name = "risk appetite change"
        constraints = (
            models.CheckConstraint(
                condition=~Q(reason=""), name="riskappetitechange_has_reason"
            ),
        )

    def __str__(self) -> str:
        return (
            f"Risk appetite {self.risk_appetite_before} to {self.risk_appetite} "
            f"on {self.decided_at:%d %B %Y}"
        )


class DataShareRequest(models.Model):
    """A request for bulk pupil data, from draft to a closed case."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted: checking it is complete"
        RETURNED = "returned", "More information needed"
        ASSESSMENT = "assessment", "Being assessed"
        PANEL = "panel", "Waiting for the panel"
        APPROVED = "approved", "Approved"
        APPROVED_WITH_CONDITIONS = (
            "approved_with_conditions",
            "Approved with conditions",
        )
        REJECTED = "rejected", "Rejected"
        DEFERRED = "deferred", "Deferred by the panel"
        RELEASED = "released", "Data released"
        CLOSING = "closing", "Share ended: destruction certificate due"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class LegalGateway(models.TextChoices):
        DEA = (
            "dea",
            "Digital Economy Act 2017 research route, through the Office for "
            "National Statistics",
        )
        DFE = "dfe", "The department's own legislation"

    class LawfulBasis(models.TextChoices):
        CONSENT = "a", "Article 6(1)(a): consent"
        CONTRACT = "b", "Article 6(1)(b): contract"
        LEGAL_OBLIGATION = "c", "Article 6(1)(c): legal obligation"
        VITAL_INTERESTS = "d", "Article 6(1)(d): vital interests"
        PUBLIC_TASK = "e", "Article 6(1)(e): public task"
        LEGITIMATE_INTERESTS = "f", "Article 6(1)(f): legitimate interests"

    class SpecialCategoryCondition(models.TextChoices):
        EXPLICIT_CONSENT = "a", "Article 9(2)(a): explicit consent"
        SUBSTANTIAL_PUBLIC_INTEREST = (
            "g",
            "Article 9(2)(g): substantial public interest",
        )
        RESEARCH = (
            "j",
            "Article 9(2)(j): archiving, research or statistics",
        )

    class AccessRoute(models.TextChoices):
        SAFE_ROOM = "safe_room", "ONS Secure Research Service: an ONS safe room"
        SAFEPOD = "safepod", "ONS Secure Research Service: a SafePod"
        ASSURED_CONNECTIVITY = (
            "assured_connectivity",
            "ONS Secure Research Service: assured organisational connectivity "
            "from an approved setting",
        )
        DIRECT_SUPPLY = "direct_supply", "Direct supply (only by exception)"

    class ChangeKind(models.TextChoices):
        AMENDMENT = "amendment", "Amendment (datasets, researchers or purpose)"
        EXTENSION = "extension", "Extension (a later end date)"

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
        TIER_1 = 1, "Tier 1: identifiable and highly sensitive"
        TIER_2 = 2, "Tier 2: identifiable and sensitive"
        TIER_3 = (
            3,
            "Tier 3: identifiable, sensitive and aggregated; may identify in small "
            "numbers",
        )
        TIER_4 = 4, "Tier 4: identifiable"

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
        FULL = "full", "Full accredited researcher (Digital Economy Act)"
        PROVISIONAL = "provisional", "Provisional accredited researcher"
        APPROVED = "approved", "Approved researcher (SRSA 2007)"
        NONE = "none", "Not accredited"

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


class SafeRating(models.TextChoices):
    LOW = "low", "Low risk"
    MEDIUM = "medium", "Medium risk"
    HIGH = "high", "High risk"


class Recommendation(models.TextChoices):
    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REJECT = "reject", "Reject"


FIVE_SAFES = (
    ("safe_projects", "Safe projects"),
    ("safe_people", "Safe people"),
    ("safe_settings", "Safe settings"),
    ("safe_data", "Safe data"),
    ("safe_outputs", "Safe outputs"),
)


def _rating() -> models.CharField[Any, Any]:
    return models.CharField(max_length=10, choices=SafeRating.choices)


class Assessment(models.Model):
    """The independent assessor's Five Safes ratings, risk score and advice."""

    request = models.OneToOneField(
        DataShareRequest, on_delete=models.PROTECT, related_name="assessment"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    safe_projects = _rating()
    safe_projects_reason = models.TextField()
    safe_people = _rating()
    safe_people_reason = models.TextField()
    safe_settings = _rating()
    safe_settings_reason = models.TextField()
    safe_data = _rating()
    safe_data_reason = models.TextField()
    safe_outputs = _rating()
    safe_outputs_reason = models.TextField()
    risk_score = models.PositiveSmallIntegerField()
    risk_breakdown = models.JSONField(default=dict)
    risk_appetite = models.PositiveSmallIntegerField(
        help_text="The risk appetite in force when the assessment was recorded: "
        "the one that applies to this request.",
    )
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices)
    recommended_conditions = models.TextField(blank=True)
    no_conflict_declared = models.BooleanField(
        default=False,
        help_text="The assessor declared, with the assessment, that they have no "
        "conflict of interest with the request.",
    )
    completed_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-completed_at",)

    def __str__(self) -> str:
        return f"Assessment of {self.request.reference}"


class PanelMeeting(models.Model):
    """A meeting of the panel: its date, chair and members."""

    held_on = models.DateField()
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="panel_meetings",
        help_text="The members who may vote, the chair among them.",
    )

    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        ordering = ("-held_on",)

    def __str__(self) -> str:
        return f"Panel meeting on {self.held_on:%d %B %Y}"


class PanelVote(models.Model):
    """One member's conflict declaration, and their vote if they have none."""

    class Vote(models.TextChoices):
        APPROVE = "approve", "Approve"
        APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
        REJECT = "reject", "Reject"
        DEFER = "defer", "Defer"

    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, related_name="votes"
    )
    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="votes"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    conflict_declared = models.BooleanField(default=False)
    conflict_detail = models.TextField(blank=True)
    vote = models.CharField(max_length=30, choices=Vote.choices, blank=True)
    comments = models.TextField(blank=True)
    cast_at = models.DateTimeField(default=timezone.now)
    set_aside_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the vote stopped counting: a conflict declared after "
        "voting, or the member joining the requesting organisation.",
    )
    set_aside_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("cast_at",)
        constraints = (
            # Nobody votes twice (or votes after declaring a conflict).
            models.UniqueConstraint(
                fields=("meeting", "request", "member"),
                name="panelvote_one_per_member",
            ),
            # A conflict declared before voting, a vote, or a vote kept for the
            # record but set aside because a conflict was declared after it.
            models.CheckConstraint(
                condition=(Q(conflict_declared=True) & Q(vote=""))
                | (Q(conflict_declared=False) & ~Q(vote=""))
                | (
                    Q(conflict_declared=True)
                    & ~Q(vote="")
                    & Q(set_aside_at__isnull=False)
                ),
                name="panelvote_conflict_or_vote",
            ),
            models.CheckConstraint(
                condition=Q(set_aside_at__isnull=True, set_aside_reason="")
                | (Q(set_aside_at__isnull=False) & ~Q(set_aside_reason="")),
                name="panelvote_set_aside_has_reason",
            ),
        )

    def __str__(self) -> str:
        what = "conflict declared" if self.conflict_declared else self.vote
        if self.set_aside_at is not None:
            what = f"{self.vote} (set aside)"
        return f"{self.member} on {self.request.reference}: {what}"

    @property
    def counts(self) -> bool:
        return not self.conflict_declared and self.set_aside_at is None


class SiroEscalation(models.Model):
    """The senior information risk owner's answer on a request above appetite."""

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="escalations"
    )
    siro = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    risk_score = models.PositiveSmallIntegerField()
    risk_appetite = models.PositiveSmallIntegerField()
    risk_accepted = models.BooleanField()
    comments = models.TextField()
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-recorded_at",)
        verbose_name = "SIRO escalation"

    def __str__(self) -> str:
        verdict = "accepted" if self.risk_accepted else "not accepted"
        return f"Risk {verdict} for {self.request.reference}"


class Decision(models.Model):
    """The panel's decision on a request at one meeting, recorded by the chair."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        APPROVED_WITH_CONDITIONS = (
            "approved_with_conditions",
            "Approved with conditions",
        )
        REJECTED = "rejected", "Rejected"
        DEFERRED = "deferred", "Deferred"

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="decisions"
    )
    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    reasons = models.TextField()
    conditions = models.TextField(blank=True)
    supports_aims = models.TextField("How the request supports the department's aims")
    votes_for = models.PositiveSmallIntegerField()
    votes_cast = models.PositiveSmallIntegerField()
    votes_set_aside = models.PositiveSmallIntegerField(
        default=0,
        help_text="Votes cast at the meeting that did not count: a conflict "
        "declared after voting, or the member joining the requesting organisation.",
    )
    risk_score = models.PositiveSmallIntegerField()
    risk_appetite = models.PositiveSmallIntegerField()
    above_risk_appetite = models.BooleanField()
    escalation = models.ForeignKey(
        SiroEscalation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-decided_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("request", "meeting"), name="decision_one_per_meeting"
            ),
            models.CheckConstraint(
                condition=~Q(supports_aims=""), name="decision_states_aims"
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.request.reference}"


class ApprovalCondition(models.Model):
    """One condition of an approval with conditions. No data is released until a
    caseworker has marked each one met, with the evidence."""

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="approval_conditions"
    )
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="approval_conditions"
    )
    text = models.TextField()
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    met_at = models.DateTimeField(null=True, blank=True)
    evidence = models.TextField(
        blank=True, help_text="What shows the condition is met, and where it is kept."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("decision", "pk")
        verbose_name = "condition of approval"
        verbose_name_plural = "conditions of approval"
        constraints = (
            models.CheckConstraint(
                condition=~Q(text=""), name="approvalcondition_has_text"
            ),
            models.CheckConstraint(
                condition=Q(met_at__isnull=True, met_by__isnull=True, evidence="")
                | (Q(met_at__isnull=False, met_by__isnull=False) & ~Q(evidence="")),
                name="approvalcondition_met_with_evidence",
            ),
        )

    def __str__(self) -> str:
        return self.text

    @property
    def is_met(self) -> bool:
        return self.met_at is not None


class Release(models.Model):
    """One extract released: a dataset and academic year, where and to whom."""

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="releases"
    )
    dataset = models.OneToOneField(
        RequestedDataset, on_delete=models.PROTECT, related_name="release"
    )
    srs_project_reference = models.CharField(
        "ONS SRS project reference", max_length=40, blank=True
    )
    access_route = models.CharField(
        max_length=30, choices=DataShareRequest.AccessRoute.choices
    )
    researchers = models.ManyToManyField(Researcher, related_name="releases")
    end_date = models.DateField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(m2m_fields=[researchers])

    class Meta:
        ordering = ("-released_at",)

    def __str__(self) -> str:
        return f"{self.dataset} for {self.request.reference}"


class DestructionCertificate(models.Model):
    """The requester's certificate that the data was destroyed; a caseworker
    accepts it and the case closes."""

    request = models.OneToOneField(
        DataShareRequest, on_delete=models.PROTECT, related_name="certificate"
    )
    destroyed_by = models.CharField(max_length=200)
    destroyed_on = models.DateField()
    what_was_destroyed = models.TextField()
    method = models.TextField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-submitted_at",)

    def __str__(self) -> str:
        return f"Destruction certificate for {self.request.reference}"


# The panel secretariat's records (meetings, casework, reminders): decision 17.
from approvals.secretariat_models import (  # noqa: E402, F401
    AnnualReview,
    CaseAttachment,
    CaseNote,
    CaseReminder,
    Correspondence,
    MeetingAction,
    MeetingAttendance,
    MeetingMinutes,
    PublicSummary,
)
