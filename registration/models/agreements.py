"""The LRS agreement: its versions, the director's signing request, the posted
code, off-domain exceptions and the signatures.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registration.models.applications import RegistrationApplication
from registration.models.organisations import Organisation


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AgreementVersion(models.Model):
    """A published version of the LRS agreement that directors sign."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    resign_deadline = models.DateField(
        null=True,
        blank=True,
        help_text="Registered organisations must re-sign this version by this date.",
    )
    resign_immediately_reason = models.TextField(
        blank=True,
        help_text="Why organisations must sign at once, when there is no deadline: "
        "the next housekeeping run suspends every one that has not.",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-number",)
        get_latest_by = "number"

    def __str__(self) -> str:
        return f"Version {self.number}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The hash always matches the text: it is what a signature pins.
        self.text_hash = sha256_text(self.text)
        super().save(*args, **kwargs)


class SigningRequest(models.Model):
    """A single-use, expiring link emailed to the nominated director."""

    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signing_requests",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signing_requests",
    )
    agreement_version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT)
    director_name = models.CharField(max_length=200)
    director_appointment = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    # Only a hash of the token is stored; the token itself is only in the email.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(organisation__isnull=False),
                name="signing_request_has_subject",
            ),
        )

    def __str__(self) -> str:
        return f"Signing link for {self.director_name}"

    @property
    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.cancelled_at is None
            and self.expires_at > timezone.now()
        )


class SigningCode(models.Model):
    """The one-time code posted to the director's correspondence address at
    Companies House: the second channel a signature needs besides the emailed link.

    Only a hash is kept; the letter row forgets the code once posted.
    """

    MAX_ATTEMPTS = 5

    signing_request = models.OneToOneField(
        SigningRequest, on_delete=models.CASCADE, related_name="code"
    )
    code_hash = models.CharField(max_length=128)
    letter = models.ForeignKey(
        "lrs_portal.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    postcode = models.CharField(
        max_length=12, blank=True, help_text="Where the letter went (its postcode)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["code_hash"])

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Signing code for {self.signing_request.director_name}"

    @property
    def attempts_left(self) -> int:
        return max(self.MAX_ATTEMPTS - self.attempts, 0)

    @property
    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.attempts_left > 0
            and self.expires_at > timezone.now()
        )


class DirectorEmailException(models.Model):
    """A caseworker's record, after speaking to the company, that its director may
    sign from an address off the organisation's domain."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="director_email_exceptions",
    )
    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="director_email_exceptions",
    )
    email = models.EmailField(help_text="The director's address, exactly")
    spoke_to = models.CharField(
        max_length=200,
        help_text="Who at the company you spoke to, and how you reached them "
        "(a number from Companies House or the organisation's website, not the "
        "application)",
    )
    reason = models.TextField(help_text="Why the director has no address on the domain")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-recorded_at",)
        verbose_name = "director email exception"
        constraints = (
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(organisation__isnull=False),
                name="director_email_exception_has_subject",
            ),
        )

    def __str__(self) -> str:
        return f"Director email exception for {self.email}"


class AgreementSignature(models.Model):
    """A director's signature of one agreement version (never changed)."""

    signing_request = models.OneToOneField(
        SigningRequest, on_delete=models.PROTECT, related_name="signature"
    )
    agreement_version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT)
    text_hash = models.CharField(max_length=64)
    application = models.ForeignKey(
        RegistrationApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    typed_name = models.CharField(max_length=200)
    director_name_at_companies_house = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField()
    user_agent = models.CharField(max_length=500)

    history = HistoricalRecords()

    class Meta:
        ordering = ("-signed_at",)

    def __str__(self) -> str:
        version = self.agreement_version.number
        return f"{self.director_name_at_companies_house} signed version {version}"
