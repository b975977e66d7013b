"""How a request is judged: the assessor's Five Safes ratings, the panel's
meetings and votes, the SIRO's answer above appetite, and the decision.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from approvals.models.requests import DataShareRequest


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
        APPROVED = "approved", _("Approved")
        APPROVED_WITH_CONDITIONS = (
            "approved_with_conditions",
            _("Approved with conditions"),
        )
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred")

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
