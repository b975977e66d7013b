"""Who asks for data: research organisations and the affiliations of the people
who request for them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


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
