"""Learners, their achievements, the append-only log of every search and view,
usage alerts and the record of each nightly job."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now, Upper
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


class LearnerLink(models.Model):
    """A learner's record merged into another's (the LRS's MasterSubstituted): a
    search by the merged ULN answers the master's record (WSRC0022).

    The merged learner keeps pointing at the record it was merged into, which
    may itself have been merged since: records.links resolves the chain to the
    final master. Never to itself (a constraint), never round in a cycle
    (records.links checks, and on PostgreSQL a trigger refuses one).
    """

    # The merged (substituted) record: at most one master each.
    learner = models.OneToOneField(
        Learner, on_delete=models.CASCADE, related_name="link"
    )
    master = models.ForeignKey(
        Learner,
        on_delete=models.PROTECT,
        related_name="linked",
        verbose_name="merged into",
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("master", "learner")
        constraints = (
            models.CheckConstraint(
                condition=~Q(learner=models.F("master")),
                name="learner_link_not_to_itself",
            ),
        )

    def __str__(self) -> str:
        return f"Learner {self.learner_id} merged into {self.master_id}"


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
        # The ULN searched was merged into another learner's record, which is
        # the one answered (and whose ULN is on the row): the LRS's WSRC0022.
        LINKED_LEARNER_MATCH = "linked_learner_match", "Linked learner match"
        SHOWN = "shown", "Record shown"
        # A record view of a learner whose ability to share does not allow their
        # learning events to be shown: the LRS's WSEC0206.
        NOT_SHARED = "not_shared", "Record shown, achievements withheld (WSEC0206)"
        REFUSED = "refused", "Refused"

    class Channel(models.TextChoices):
        """How the lookup reached the gate: the same gate, caps and log for each."""

        PAGE = "page", "Portal page"
        API = "api", "Web service (API)"
        BATCH = "batch", "Batch file"

    # Set by the database (its transaction's time); on PostgreSQL a trigger
    # refuses any other time, and draws the id itself, for every role but the
    # log's owner (records.pg.STAMP_FUNCTION).
    viewed_at = models.DateTimeField(db_default=Now())
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
    # The learner matched, if exactly one, or the ULN searched for (found or
    # not): kept as the ULN (not a foreign key) so a partitioned table needs no
    # reference to learners.
    learner_uln = models.CharField(max_length=10, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # A database default, so adding the column rewrites no partition and rows
    # written before it read as the pages, which was then the only channel.
    channel = models.CharField(
        max_length=10, choices=Channel.choices, db_default=Channel.PAGE
    )
    # Who a search found, as the nightly audit's purpose rules see them (issue
    # 13, decision 25): the learner's age band on the day (an index of
    # records.purpose.AGE_BANDS) and postcode area (its leading letters), stamped
    # when the search found one learner, from the record it found; never a date
    # of birth or a postcode. None and blank on every other row, and on the rows
    # logged before the stamp, which the audit joins to the learners instead.
    # Nullable and a database default, with no CHECK: adding them rewrites and
    # scans no partition.
    learner_age_band = models.SmallIntegerField(null=True, blank=True)
    learner_area = models.CharField(max_length=2, blank=True, db_default="")
    # The API client a web-service call came through (None for the pages). A
    # reference without a database constraint, like learner_uln: adding a foreign
    # key to the partitioned log would scan all of it to validate, and each API
    # row would then lock the client's row; clients are never deleted (PROTECT,
    # revoked instead), and ids come from the token's own row (decision 0020).
    api_client = models.ForeignKey(
        "registration.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

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
            # An API client's calls (the admin's link from the client): partial,
            # so the pages' rows never write it.
            models.Index(
                fields=("api_client", "viewed_at"),
                name="learnerview_client_time_idx",
                condition=Q(api_client__isnull=False),
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

    The rules themselves (what each measures) are code in records.audit; what
    counts as too much, and whether a hit suspends, is data here.
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
    # every record view, refused or not (records.views._usage_days).
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


class SubjectAccessRequest(models.Model):
    """A learner's request to know who looked at their record (UK GDPR Article
    15), recorded by a caseworker: how it came, the identity check, the statutory
    deadline, the report sent, closed (records.subject_access, decision 0028)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received: identity not yet checked"
        IDENTITY_CHECKED = "identity_checked", "Identity checked: report due"
        REPORT_SENT = "report_sent", "Report sent"
        CLOSED = "closed", "Closed"

    class Arrived(models.TextChoices):
        EMAIL = "email", "Email"
        POST = "post", "Post"
        PHONE = "phone", "Telephone"
        WEB_FORM = "web_form", "The department's online form"
        PROVIDER = "provider", "Passed on by a learning provider"
        IN_PERSON = "in_person", "In person"

    class IdentityCheck(models.TextChoices):
        DOCUMENTS = "documents", "Identity documents seen (passport, driving licence)"
        RECORD_DETAILS = "record_details", "Details given match the learner record"
        PROVIDER = "provider", "Confirmed by the learner's provider"
        OTHER = "other", "Other (say how in the notes)"

    class SentBy(models.TextChoices):
        EMAIL = "email", "Email (encrypted or password-protected)"
        POST = "post", "Post"
        COLLECTED = "collected", "Collected in person"

    learner_uln = models.CharField("learner's ULN", max_length=10)
    requester_name = models.CharField(
        "who asked", max_length=200, help_text="The learner, or who acts for them"
    )
    reply_to = models.CharField(
        "where to reply", max_length=300, help_text="The email or postal address"
    )
    arrived_by = models.CharField("how it arrived", max_length=20, choices=Arrived)
    received_on = models.DateField(help_text="The day the request was received")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    identity_check = models.CharField(
        "identity check", max_length=20, choices=IdentityCheck, blank=True
    )
    identity_notes = models.TextField(blank=True, max_length=2000)
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_checked_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(
        blank=True,
        max_length=2000,
        help_text="Why two further months are needed (a complex or repeated request)",
    )
    extended_at = models.DateTimeField(null=True, blank=True)
    report_generated_at = models.DateTimeField(null=True, blank=True)
    report_sent_by = models.CharField(max_length=20, choices=SentBy, blank=True)
    report_sent_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("received_on", "pk")
        verbose_name = "subject access request"
        indexes = (models.Index(fields=("status", "received_on"), name="sar_open_idx"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(
                    status__in=["received", "identity_checked", "report_sent", "closed"]
                ),
                name="sar_status_valid",
            ),
        )

    def __str__(self) -> str:
        day = self.received_on
        return f"Subject access request {self.pk} received {day.day} {day:%B %Y}"


class PurposeDay(models.Model):
    """What one day's lookups were for: the learners an organisation (user
    empty) or one of its users found, in age bands, postcode areas and
    distances from its registered address (issue 13).

    Derived by the nightly audit from the log (each search's row keeps the age
    band and postcode area of the learner it found; rows logged before that are
    joined to learners), rewritten when it audits the day again. It holds
    counts by band and by area, never a name, date of birth or postcode. The
    bands are records.purpose.AGE_BANDS and DISTANCE_BANDS.
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


# Batch matching's models live in their own module (one concern); Django finds
# models through this one.
from records.batch_models import Batch, BatchRow  # noqa: E402

__all__ = [
    "Achievement",
    "AuditRule",
    "AuditedDay",
    "Batch",
    "BatchRow",
    "Learner",
    "LearnerLink",
    "LearnerView",
    "PurposeDay",
    "SubjectAccessRequest",
    "UsageAlert",
    "UsageDay",
]
