from importlib import import_module
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lrs_portal import roles


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(
        self, email: str, password: str | None = None, **fields: Any
    ) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(
        self, email: str, password: str | None = None, **fields: Any
    ) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Email addresses are stored lower-case; sign-in is case-insensitive.
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    # The account that scheduled jobs act as in history; inactive, no password.
    SYSTEM_EMAIL = "system@lrs-portal.invalid"

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200)
    is_staff = models.BooleanField(
        "staff status",
        default=False,
        help_text="Can sign in to the department's admin site (MFA required).",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Untick to stop this person signing in, instead of deleting them.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    # Password hashes and sign-in times are not history worth keeping.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        ordering = ("email",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="user_email_lower_case",
            ),
        )

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def group_names(self) -> frozenset[str]:
        """The names of the user's groups (roles), read once for this instance.

        The request's user is a new instance on every request, so a page that
        asks both requires_mfa (RequireMFAMiddleware) and role_names reads the
        groups once (issue 21). Changing this instance's groups, or refreshing
        it, forgets them (_forget_group_names).
        """
        names: frozenset[str] | None = self.__dict__.get(_GROUP_NAMES)
        if names is None:
            names = frozenset(self.groups.values_list("name", flat=True))
            self.__dict__[_GROUP_NAMES] = names
        return names

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop(_GROUP_NAMES, None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def role_names(self) -> list[str]:
        return sorted(self.group_names())

    @property
    def requires_mfa(self) -> bool:
        """Staff and the department's own roles must use a second factor."""
        if self.is_staff or self.is_superuser:
            return True
        return not self.group_names().isdisjoint(roles.MFA_REQUIRED)


_GROUP_NAMES = "_group_names"


def _forget_group_names(sender: Any, instance: Any, **_: Any) -> None:
    """A user's groups changed through this instance: read them again."""
    if isinstance(instance, User):
        instance.__dict__.pop(_GROUP_NAMES, None)


models.signals.m2m_changed.connect(
    _forget_group_names,
    sender=User.groups.through,
    dispatch_uid="lrs_portal.forget_group_names",
)


class UserSession(AbstractBaseSession):
    """A database session that knows its user, so a suspension can end it."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        db_table = "lrs_portal_user_session"
        verbose_name = "session"

    @classmethod
    def get_session_store_class(cls) -> Any:
        # The engine's store (lrs_portal.sessions), found through the setting so
        # that this module does not import the one that imports it.
        return import_module(settings.SESSION_ENGINE).SessionStore


class Notification(models.Model):
    """An email or letter the service sends, kept as an outbox row: what went to
    whom, when."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"

    class Delivery(models.TextChoices):
        """What GOV.UK Notify's delivery receipt said (its own words)."""

        DELIVERED = "delivered", "Delivered"
        PERMANENT_FAILURE = "permanent-failure", "Permanent failure (address refused)"
        TEMPORARY_FAILURE = "temporary-failure", "Temporary failure (inbox full)"
        TECHNICAL_FAILURE = "technical-failure", "Technical failure (at Notify)"

    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    to = models.EmailField(blank=True, help_text="For an email; empty for a letter")
    # A letter's address, one line an item (Notify takes three to seven lines).
    postal_address = models.JSONField(default=list, blank=True)
    # What a Notify letter template fills in; a one-time code in it is removed
    # once the letter has gone (see lrs_portal.letters).
    personalisation = models.JSONField(default=dict, blank=True)
    provider_reference = models.CharField(
        max_length=100, blank=True, help_text="GOV.UK Notify's id for the letter"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    reference = models.CharField(
        max_length=100, help_text="What the email is about, e.g. agreement.signing_link"
    )
    # The reference less its ids (lrs_portal.email_kinds): which Notify template.
    kind = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker is sending, so two deliveries of one task send one email.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # From GOV.UK Notify's delivery receipt (lrs_portal.views.notify_receipt).
    delivery = models.CharField(
        "delivery receipt", max_length=20, choices=Delivery.choices, blank=True
    )
    delivery_completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When Notify last updated the status"
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]),
                name="notification_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    delivery__in=[
                        "",
                        "delivered",
                        "permanent-failure",
                        "temporary-failure",
                        "technical-failure",
                    ]
                ),
                name="notification_delivery_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=["email", "letter"]),
                name="notification_channel_valid",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "created_at"), name="notification_status_idx"
            ),
            # Receipts find their notification by Notify's id.
            models.Index(
                fields=("provider_reference",), name="notification_provider_ref_idx"
            ),
        )

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"


class JobRun(models.Model):
    """What one run of a scheduled job did (lrs_portal.jobs.job_run writes it)."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"
        # Its worker died: the row said running while the job's lock was free.
        ABANDONED = "abandoned", "Abandoned (its worker died)"

    job = models.CharField(max_length=60)
    started_at = models.DateTimeField(default=timezone.now)
    # Renewed while the run is alive (lrs_portal.jobs); a running row whose
    # heartbeat stopped, with the job's lock free, is a run whose worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
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
        indexes = (
            models.Index(fields=("job", "-started_at"), name="job_run_job_idx"),
            models.Index(fields=("job", "-last_day"), name="job_run_last_day_idx"),
        )

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"


class ChangeTrail(models.Model):
    """One change to a table that decides access, written by a database trigger
    (lrs_portal.trail), whoever made it: append-only, never written by Django."""

    class Operation(models.TextChoices):
        INSERT = "INSERT", "Added"
        UPDATE = "UPDATE", "Changed"
        DELETE = "DELETE", "Removed"

    changed_at = models.DateTimeField()
    # current_user (the role whose privileges made the change) and session_user
    # (the role that logged in), as PostgreSQL saw them.
    db_user = models.CharField(max_length=63)
    login_user = models.CharField(max_length=63)
    table_name = models.CharField(max_length=63)
    operation = models.CharField(max_length=6, choices=Operation.choices)
    row_id = models.CharField(max_length=40)
    # The changed columns only (every column on an insert or delete), never a
    # password: each table's trigger names the columns it records.
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    transaction_id = models.BigIntegerField()

    class Meta:
        db_table = "lrs_portal_changetrail"
        ordering = ("-id",)
        verbose_name = "database change"

    def __str__(self) -> str:
        return f"{self.operation} {self.table_name} {self.row_id} by {self.db_user}"


class HistoryTransaction(models.Model):
    """A database transaction that wrote a history row or an admin log entry,
    marked by a trigger on those tables (lrs_portal.pg): a change on the trail
    made in such a transaction was made through the application."""

    transaction_id = models.BigIntegerField(primary_key=True)
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "lrs_portal_historytransaction"

    def __str__(self) -> str:
        return f"transaction {self.transaction_id}"


class ServiceAlert(models.Model):
    """Something about the service itself that caseworkers must look at: a
    change made outside the application, a nightly job not done in time, or an
    email to a director or super user that GOV.UK Notify could not deliver."""

    class Kind(models.TextChoices):
        CHANGE_OUTSIDE_APPLICATION = "outside_change", "Change made outside the portal"
        JOB_LATE = "job_late", "Nightly job not completed"
        EMAIL_UNDELIVERED = "email_undelivered", "Email to a provider not delivered"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What the alert is about, unique per kind: a trail row's id, or a job and
    # its night, so a second run of the check raises nothing new.
    key = models.CharField(max_length=100)
    summary = models.CharField(max_length=300)
    change = models.ForeignKey(
        ChangeTrail,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-raised_at",)
        constraints = (
            models.UniqueConstraint(fields=("kind", "key"), name="service_alert_once"),
        )

    def __str__(self) -> str:
        return self.summary


def system_user() -> User:
    """The inactive account that scheduled jobs record as the acting user."""
    return User.objects.get(email=User.SYSTEM_EMAIL)
