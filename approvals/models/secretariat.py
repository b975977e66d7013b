"""The panel secretariat's records: a meeting's attendance, minutes and actions;
a request's internal notes, attachments, correspondence and public summary; the
reminders sent (each once); the annual reviews of live shares (decision 17).

Imported at the end of approvals.models, so they are approvals models.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from approvals.models.panel import PanelMeeting
from approvals.models.requests import DataShareRequest
from registration.storage import private_storage


class MeetingAttendance(models.Model):
    """Whether a member of a meeting attended it or sent apologies."""

    class Status(models.TextChoices):
        ATTENDED = "attended", "Attended"
        APOLOGIES = "apologies", "Sent apologies"

    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, related_name="attendance"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("member__full_name", "member__email")
        verbose_name_plural = "attendance"
        constraints = (
            models.UniqueConstraint(
                fields=("meeting", "member"), name="attendance_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["attended", "apologies"]),
                name="attendance_status_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.member}: {self.get_status_display()}"


class MeetingMinutes(models.Model):
    """The secretariat's minutes of a meeting; read-only once the chair signs."""

    meeting = models.OneToOneField(
        PanelMeeting, on_delete=models.PROTECT, related_name="minutes"
    )
    discussion = models.TextField(
        "Summary of the discussion",
        help_text="Each decision, vote and conflict is added from the records.",
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "meeting minutes"
        constraints = (
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="minutes_signed_by_and_at",
            ),
        )

    def __str__(self) -> str:
        return f"Minutes of the {self.meeting}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class MeetingAction(models.Model):
    """An action the panel agreed at a meeting: what, who, by when."""

    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, related_name="actions"
    )
    request = models.ForeignKey(
        DataShareRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meeting_actions",
    )
    description = models.TextField()
    owner = models.CharField(max_length=200, help_text="Who does it.")
    due_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("recorded_at", "pk")

    def __str__(self) -> str:
        return f"Action for {self.owner}"


class CaseNote(models.Model):
    """An internal note on a request: the department's eyes only."""

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="notes"
    )
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-written_at", "-pk")
        verbose_name = "internal note"

    def __str__(self) -> str:
        return f"Note on {self.request.reference} by {self.author}"


class CaseAttachment(models.Model):
    """A document on the case file (a PDF in private storage, never by URL)."""

    class Kind(models.TextChoices):
        DPIA = "dpia", "Data protection impact assessment"
        DSA = "dsa", "Data sharing agreement"
        ETHICS = "ethics", "Ethics approval"
        OTHER = "other", "Other supporting document"

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    document = models.FileField(storage=private_storage, upload_to="dsap/%Y/%m/")
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-uploaded_at", "-pk")
        constraints = (
            models.CheckConstraint(
                condition=Q(kind__in=["dpia", "dsa", "ethics", "other"]),
                name="attachment_kind_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.request.reference}"


class Correspondence(models.Model):
    """One letter, email or call with the requester, in or out. Every email the
    service sends the requester is logged here too."""

    class Direction(models.TextChoices):
        SENT = "sent", "Sent to the requester"
        RECEIVED = "received", "Received from the requester"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Telephone call"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "Meeting"

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="correspondence"
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for an email the service sent by itself.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-occurred_at", "-pk")
        verbose_name_plural = "correspondence"

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject}"


class PublicSummary(models.Model):
    """What the public register says about an approved share: a caseworker's
    plain summary, published only once approved (never the requester's text as
    written)."""

    request = models.OneToOneField(
        DataShareRequest, on_delete=models.PROTECT, related_name="public_summary"
    )
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "public summaries"

    def __str__(self) -> str:
        return f"Public summary of {self.request.reference}"


class CaseReminder(models.Model):
    """A reminder or warning sent once: the row is the claim (its unique key)."""

    class Kind(models.TextChoices):
        ASSESSMENT_OVERDUE = "assessment_overdue", "Assessment overdue"
        VOTE_DUE = "vote_due", "Vote before the meeting"
        ACCREDITATION_EXPIRING = "accreditation_expiring", "Accreditation expiring"
        ACCESS_ENDED = "access_ended", "Access ended: accreditation expired"
        ANNUAL_REVIEW_DUE = "annual_review_due", "Annual review due"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="reminders"
    )
    about = models.CharField(
        max_length=60, help_text="Whom or what it is about: a member, a researcher."
    )
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-sent_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("kind", "request", "about", "due_on"),
                name="reminder_once",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.request.reference}"


class AnnualReview(models.Model):
    """The yearly review of a live share, due on each anniversary of its first
    release; a caseworker records the outcome."""

    class Outcome(models.TextChoices):
        CONTINUES = "continues", "The share continues as approved"
        CHANGES_NEEDED = "changes_needed", "Changes needed: an amendment is asked for"
        END_EARLY = "end_early", "The share should end early"

    request = models.ForeignKey(
        DataShareRequest, on_delete=models.PROTECT, related_name="annual_reviews"
    )
    due_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    findings = models.TextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-due_on",)
        constraints = (
            models.UniqueConstraint(
                fields=("request", "due_on"), name="annual_review_once_a_year"
            ),
        )

    def __str__(self) -> str:
        return f"Annual review of {self.request.reference} due {self.due_on}"
