"""What the public registers said: Companies House snapshots and the ICO
register of fee payers.
"""

from django.db import models
from django.utils import timezone


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
