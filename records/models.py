"""Learners, their achievements, the append-only log of every search and view,
usage alerts and the record of each nightly job."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registration.models import Organisation


class Learner(models.Model):
    """A learner's record in the LRS (the five demographics and contact)."""

    class Gender(models.IntegerChoices):
        NOT_KNOWN = 0, "Not known"
        MALE = 1, "Male"
        FEMALE = 2, "Female"
        NOT_SPECIFIED = 9, "Not specified"

    class AbilityToShare(models.IntegerChoices):
        NOT_PROVIDED = -1, "Not provided"
        NOTICE_NOT_SEEN = 0, "Privacy notice not seen"
        NOTICE_SEEN = 1, "Privacy notice seen, may share"

    # Unique through a named constraint, not unique=True, which would also add a
    # varchar_pattern_ops index that no query uses and every import must write.
    uln = models.CharField("ULN", max_length=10)
    given_name = models.CharField(max_length=35)
    middle_names = models.CharField(max_length=70, blank=True)
    family_name = models.CharField(max_length=35)
    previous_family_name = models.CharField(max_length=35, blank=True)
    date_of_birth = models.DateField()
    gender = models.SmallIntegerField(choices=Gender.choices)
    postcode = models.CharField(max_length=9)
    email = models.EmailField(blank=True)
    ability_to_share = models.SmallIntegerField(
        choices=AbilityToShare.choices, default=AbilityToShare.NOT_PROVIDED
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("uln",)
        constraints = (
            models.UniqueConstraint(fields=("uln",), name="learner_uln_unique"),
            models.CheckConstraint(
                condition=Q(gender__in=[0, 1, 2, 9]), name="learner_gender_code"
            ),
            models.CheckConstraint(
                condition=Q(uln__regex=r"^[1-9][0-9]{9}$") & ~Q(uln="9999999999"),
                name="learner_uln_format",
            ),
        )
        indexes = (
            # The demographic search and the admin's family-name search: an
            # expression index, so case-insensitive equality can use it.
            models.Index(
                Upper("family_name"), "date_of_birth", name="learner_family_dob_idx"
            ),
        )

    def __str__(self) -> str:
        return f"Learner {self.uln}"


class Achievement(models.Model):
    """A learning event: a qualification a learner was awarded."""

    # No index of its own: the natural-key constraint below starts with learner.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="achievements", db_index=False
    )
    awarding_organisation = models.CharField(max_length=160)
    qualification_title = models.CharField(max_length=255)
    qualification_type = models.CharField(max_length=60)
    level = models.CharField(max_length=20)
    subject = models.CharField(max_length=120)
    grade = models.CharField(max_length=20, blank=True)
    award_date = models.DateField()
    awarding_provider_ukprn = models.CharField(
        "awarding provider's UKPRN", max_length=8, blank=True
    )

    class Meta:
        ordering = ("learner", "-award_date")
        constraints = (
            # Loading the same file again must change nothing.
            models.UniqueConstraint(
                fields=(
                    "learner",
                    "awarding_organisation",
                    "qualification_title",
                    "award_date",
                ),
                name="achievement_natural_key",
            ),
        )

    def __str__(self) -> str:
        return f"{self.qualification_title} ({self.award_date:%Y})"


class LearnerView(models.Model):
    """One row per search and per record view, written before anything is shown.

    Append-only: on PostgreSQL the application role cannot update, delete or
    truncate it, and it is partitioned by month. It holds no names, dates of
    birth or postcodes.
    """

    class Action(models.TextChoices):
        SEARCH_ULN = "search_uln", "Search by ULN"
        SEARCH_DEMOGRAPHICS = "search_demographics", "Search by demographics"
        VIEW_RECORD = "view_record", "View record"

    class Outcome(models.TextChoices):
        EXACT_MATCH = "exact_match", "Exact match"
        POSSIBLE_MATCHES = "possible_matches", "Possible matches"
        TOO_MANY_MATCHES = "too_many_matches", "Too many matches"
        NO_MATCH = "no_match", "No match"
        SHOWN = "shown", "Record shown"
        REFUSED = "refused", "Refused"

    viewed_at = models.DateTimeField(default=timezone.now)
    # No index of their own: (user, viewed_at) and (organisation, viewed_at)
    # below start with them, and every lookup's log row writes each index.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    match_count = models.PositiveSmallIntegerField(default=0)
    # The learner matched, if exactly one: kept as the ULN (not a foreign key)
    # so a partitioned table needs no reference to learners.
    learner_uln = models.CharField(max_length=10, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-viewed_at",)
        indexes = (
            models.Index(fields=("viewed_at",), name="learnerview_time_idx"),
            models.Index(
                fields=("organisation", "viewed_at"), name="learnerview_org_time_idx"
            ),
            models.Index(
                fields=("user", "viewed_at"), name="learnerview_user_time_idx"
            ),
            models.Index(
                fields=("learner_uln", "viewed_at"), name="learnerview_uln_time_idx"
            ),
            # The admin's outcome filter: refusals and too-many-matches are rare,
            # and without it a page of them reads the whole log.
            models.Index(
                fields=("outcome", "viewed_at"), name="learnerview_outcome_time_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.viewed_at:%Y-%m-%d %H:%M}"


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

    def __str__(self) -> str:
        return f"{self.rule} on {self.day}"


class JobRun(models.Model):
    """What one run of a scheduled job did."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"

    job = models.CharField(max_length=60)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.RUNNING
    )
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at",)
        indexes = (models.Index(fields=("job", "-started_at"), name="jobrun_job_idx"),)

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"
