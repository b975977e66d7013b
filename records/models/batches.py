"""Batch matching: a file of learners to find, and one row per line of it
(issue 12; the LRS's verify batches, domain.md 1.4)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registration.models import Organisation


class Batch(models.Model):
    """A file a member submitted: searched row by row through the gate by a worker.

    Not history-tracked: like a JobRun it is the record of a job, and its
    progress changes every few hundred rows. Its status moves only through
    records.batch_moves (a table of allowed moves, the row locked).
    """

    class Kind(models.TextChoices):
        ULN = "uln", "By ULN"
        DEMOGRAPHICS = "demographics", "By the five demographics"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPLETE = "complete", _("Complete")
        FAILED = "failed", _("Failed")

    # What URLs carry: not guessable, and no count of other organisations' batches.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The API client a batch was sent through (None from the portal's page): its
    # log rows name it, as a single API call's row does. Clients are revoked,
    # never deleted.
    api_client = models.ForeignKey(
        "registration.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # The uploaded file's name as the member knows it (for the list of batches).
    filename = models.CharField(max_length=100, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(
        default=0, help_text="Rows refused at upload (a row error): never searched."
    )
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    # Housekeeping deletes the rows (and so the results) 30 days after the batch
    # finished, and keeps this record of it: who, when, how many.
    rows_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "batches"
        constraints = (
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("rows_total")),
                name="batch_rows_done_within_total",
            ),
        )
        indexes = (
            models.Index(
                fields=("organisation", "created_at"), name="batch_org_created_idx"
            ),
            models.Index(fields=("finished_at",), name="batch_finished_idx"),
        )

    def __str__(self) -> str:
        return f"Batch {self.public_id} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETE, self.Status.FAILED)

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return self.rows_done * 100 // self.rows_total


class BatchRow(models.Model):
    """One line of a batch's file, in input order, with its result.

    The demographics (or ULN) searched for are kept only until the row is
    searched, then cleared: the result holds the outcome, the LRS code and the
    ULNs matched; the log row holds the rest (decision 22).
    """

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text="The line of the file (header 1).")
    reference = models.CharField(max_length=100, blank=True)
    # The input, until searched.
    uln = models.CharField(max_length=10, blank=True)
    given_name = models.CharField(max_length=35, blank=True)
    family_name = models.CharField(max_length=35, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.SmallIntegerField(null=True, blank=True)
    postcode = models.CharField(max_length=9, blank=True)
    # The result. Blank outcome and error: not searched yet.
    outcome = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=10, blank=True)
    matched_ulns = models.CharField(
        max_length=120, blank=True, help_text="Space-separated, at most ten."
    )
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("batch", "line")
        constraints = (
            models.UniqueConstraint(
                fields=("batch", "line"), name="batch_row_once_per_line"
            ),
        )
        indexes = (
            # The worker's next chunk: the rows not searched yet, in order.
            models.Index(
                fields=("batch", "line"),
                condition=Q(outcome="", error=""),
                name="batch_row_pending_idx",
            ),
        )

    def __str__(self) -> str:
        return f"Line {self.line} of batch {self.batch_id}"

    @property
    def is_pending(self) -> bool:
        return not self.outcome and not self.error
