"""What the monitoring of usage keeps: alerts, the nightly audit's rules, each
user's day of lookups, the days audited and what each day's lookups were for.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registration.models import Organisation


class UsageAlert(models.Model):
    """Usage that crossed a rule: found in real time (a cap) or by the nightly audit."""

    class Subject(models.TextChoices):
        USER = "user", "User"
        ORGANISATION = "organisation", "Organisation"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    subject_type = models.CharField(max_length=20, choices=Subject.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="usage_alerts"
    )
    day = models.DateField()
    rule = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    threshold = models.DecimalField(max_digits=12, decimal_places=2)
    details = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # Set when a caseworker closes the alert as a false positive: the purpose
    # rules then accept the organisation's pattern, at this alert's value, until
    # it moves further (records.purpose).
    false_positive = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-day", "-created_at")
        constraints = (
            # One alert per subject, day and rule: a job run twice adds nothing.
            models.UniqueConstraint(
                fields=("user", "day", "rule"),
                condition=Q(subject_type="user"),
                name="usage_alert_once_per_user_day_rule",
            ),
            models.UniqueConstraint(
                fields=("organisation", "day", "rule"),
                condition=Q(subject_type="organisation"),
                name="usage_alert_once_per_org_day_rule",
            ),
            models.CheckConstraint(
                condition=Q(subject_type="organisation") | Q(user__isnull=False),
                name="usage_alert_user_subject_has_user",
            ),
        )

    # The caps checked as each lookup is made (records.services), beside the
    # nightly audit's rules (AuditRule.Code).
    REALTIME_RULES = {
        "realtime_user_hourly_cap": "User's hourly cap reached (in real time)",
        "realtime_org_daily_cap": "Organisation's daily cap reached (in real time)",
    }

    def __str__(self) -> str:
        return f"{self.rule_name} on {self.day.day} {self.day:%B %Y}"

    @classmethod
    def rule_choices(cls) -> list[tuple[str, str]]:
        """Every rule an alert can name, by its name."""
        return [*AuditRule.Code.choices, *cls.REALTIME_RULES.items()]

    @property
    def rule_name(self) -> str:
        """The rule in words (a caseworker never needs its code)."""
        return dict(self.rule_choices()).get(self.rule, self.rule)


class AuditRule(models.Model):
    """One rule of the nightly usage audit, tuned by caseworkers in admin.

    The rules themselves (what each measures) are code in records.audit_rules,
    records.purpose and records.purpose_user, their defaults in
    records.audit_defaults; what counts as too much, and whether a hit
    suspends, is data here.
    """

    class Code(models.TextChoices):
        ORG_VOLUME = "org_volume", "Organisation volume above its expected volume"
        USER_VOLUME = "user_volume", "User volume above a daily cap"
        USER_SPIKE = "user_spike", "User volume far above their own baseline"
        NO_MATCH_RATE = "no_match_rate", "High no-match rate in detail searches"
        CONSECUTIVE_ULNS = "consecutive_ulns", "Searches of consecutive ULNs"
        NIGHT_TIME = "night_time", "Lookups outside working hours"
        # The purpose rules (issue 13): what the lookups are for.
        AGE_PROFILE = "age_profile", "Learners found far older than its purpose"
        GEOGRAPHIC_SPREAD = "geographic_spread", "Learners found far from its address"
        DETAIL_SHARE = "detail_share", "Nearly every search by details, not ULN"
        PURPOSE_CHANGE = "purpose_change", "A sudden change from its own pattern"
        USER_PURPOSE = "user_purpose", "One user's lookups unlike their organisation's"

    code = models.CharField(max_length=40, choices=Code.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="What counts as too much: see the rule's description.",
    )
    minimum_volume = models.PositiveIntegerField(
        default=0,
        help_text="The rule applies only to subjects with at least this many "
        "searches that day.",
    )
    suspends = models.BooleanField(
        default=False,
        help_text="A hit suspends the user or organisation at once, not only alerts.",
    )
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("code",)
        constraints = (
            models.CheckConstraint(
                condition=Q(threshold__gt=0), name="audit_rule_threshold_positive"
            ),
        )

    def __str__(self) -> str:
        return self.get_code_display()


class UsageDay(models.Model):
    """One user's lookups for one organisation on one UTC day, as the nightly
    audit counted them.

    Derived from the log (never edited by hand); the audit rewrites a day's rows
    when it runs for that day again, and reads earlier days for baselines.
    """

    # Neither a constraint nor an index of their own. The ids come from the log,
    # whose foreign keys already hold them, and users and organisations are never
    # deleted (PROTECT, kept by the ORM); checking 20,000 keys at each nightly
    # commit would add nothing. usage_day_once leads with the user and
    # usage_day_org_idx with the organisation.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    detail_searches = models.PositiveIntegerField(default=0)
    detail_no_matches = models.PositiveIntegerField(default=0)
    night_lookups = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # Of those refused, record views: the organisation's usage page counts
    # every record view, refused or not (records.usage_days._usage_days).
    refused_views = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Of the refused lookups, record views; empty on days audited "
        "before it was counted.",
    )
    longest_uln_run = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The longest run of consecutive ULNs searched, measured for users "
        "whose ULN searches clustered closely enough to reach the rule's threshold; "
        "empty when they did not.",
    )

    class Meta:
        ordering = ("-day",)
        constraints = (
            # A user who moves organisation during a day has a row for each.
            models.UniqueConstraint(
                fields=("user", "organisation", "day"), name="usage_day_once"
            ),
        )
        indexes = (
            models.Index(fields=("organisation", "day"), name="usage_day_org_idx"),
            models.Index(fields=("day", "searches"), name="usage_day_heavy_idx"),
        )

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"


class AuditedDay(models.Model):
    """A UTC day the usage audit finished, written in that day's transaction.

    The days due are the days of the catch-up window with no row, so a day
    audited by hand (``audit_usage --date``) never makes the nightly run skip
    an earlier day that was missed.
    """

    day = models.DateField(unique=True)
    audited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-day",)

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"


class PurposeDay(models.Model):
    """What one day's lookups were for: the learners an organisation (user
    empty) or one of its users found, in age bands, postcode areas and
    distances from its registered address (issue 13).

    Derived by the nightly audit from the log (each search's row keeps the age
    band and postcode area of the learner it found; rows logged before that are
    joined to learners), rewritten when it audits the day again. It holds
    counts by band and by area, never a name, date of birth or postcode. The
    bands are records.purpose_profile.AGE_BANDS and DISTANCE_BANDS.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)
    detail_searches = models.PositiveIntegerField(default=0)
    found = models.PositiveIntegerField(
        default=0, help_text="Searches that found exactly one learner on the register."
    )
    adults = models.PositiveIntegerField(
        default=0, help_text="Learners found aged 20 or over on the day."
    )
    near = models.PositiveIntegerField(
        default=0,
        help_text="Learners found living within AUDIT_NEAR_KM of the registered "
        "address (by postcode area).",
    )
    known = models.PositiveIntegerField(
        default=0,
        help_text="Learners found whose distance is known (their postcode area and "
        "the registered address's are both known).",
    )
    age_bands = models.JSONField(default=list)
    distance_bands = models.JSONField(default=list)
    areas = models.JSONField(
        default=dict, help_text="Learners found per postcode area."
    )

    class Meta:
        ordering = ("-day",)
        constraints = (
            models.UniqueConstraint(
                fields=("organisation", "day"),
                condition=Q(user__isnull=True),
                name="purpose_day_once_per_org",
            ),
            models.UniqueConstraint(
                fields=("user", "organisation", "day"),
                condition=Q(user__isnull=False),
                name="purpose_day_once_per_user",
            ),
        )
        indexes = (
            models.Index(
                fields=("day", "organisation"), name="purpose_day_day_org_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.organisation_id} on {self.day}"
