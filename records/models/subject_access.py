"""A learner's request to know who looked at their record."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


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
