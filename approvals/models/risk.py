"""The risk model, the risk appetite and the quorum, and the recorded decisions
to change the appetite.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

MINIMUM_QUORUM = 3


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
