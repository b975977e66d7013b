"""After an approval: its conditions, the extracts released, and the
certificate that the data was destroyed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from approvals.models.panel import Decision
from approvals.models.requests import DataShareRequest, RequestedDataset, Researcher


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
