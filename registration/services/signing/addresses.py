"""The director's own address: not the applicant's or a member's, and on the
organisation's domain unless a caseworker recorded an exception."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration import validators
from registration.models import (
    DirectorEmailException,
    Organisation,
    RegistrationApplication,
)

Subject = RegistrationApplication | Organisation


def _taken_addresses(subject: Subject) -> set[str]:
    if isinstance(subject, RegistrationApplication):
        taken = {subject.applicant.email, subject.super_user_email}
        organisation = subject.organisation
    else:
        taken = set(
            subject.applications.values_list("applicant__email", flat=True)
        ) | set(
            subject.invitations.filter(
                accepted_at__isnull=True, cancelled_at__isnull=True
            ).values_list("email", flat=True)
        )
        organisation = subject
    if organisation is not None:
        taken |= set(organisation.memberships.values_list("user__email", flat=True))
    return {email.strip().lower() for email in taken if email}


def director_email_excepted(*, subject: Subject, email: str) -> bool:
    """Whether a caseworker recorded that this director may use this address."""
    if subject.pk is None:
        return False
    exceptions = DirectorEmailException.objects.filter(email__iexact=email)
    if isinstance(subject, RegistrationApplication):
        match = Q(application=subject)
        if subject.organisation_id:
            match |= Q(organisation_id=subject.organisation_id)
    else:
        match = Q(organisation=subject) | Q(application__organisation=subject)
    return exceptions.filter(match).exists()


def director_email_check(*, subject: Subject, email: str) -> None:
    """The director's address is their own: not the applicant's, not a member's,
    and on the organisation's domain unless a caseworker recorded an exception."""
    email = email.strip().lower()
    if email in _taken_addresses(subject):
        raise ValidationError(
            _(
                "Enter the director's own email address. It cannot be yours or the "
                "address of anyone who uses the LRS for your organisation"
            ),
            code="not_the_directors",
        )
    if director_email_excepted(subject=subject, email=email):
        return
    try:
        validators.validate_email_on_organisation_domain(
            email, subject.website, director=True
        )
    except ValidationError as exc:
        raise ValidationError(
            _(
                "%(reason)s. If the director has no address on it, ask the "
                "Department for Education to record an exception: they will call "
                "the company first"
            )
            % {"reason": exc.messages[0]},
            code=exc.code,
        ) from exc


def director_email_exception_record(
    *, exception: DirectorEmailException, acting_user: User
) -> DirectorEmailException:
    """Record that a director may sign from an address off the domain, with who at
    the company the caseworker spoke to and why."""
    if not exception.reason.strip() or not exception.spoke_to.strip():
        raise ValidationError("Say who you spoke to at the company, and why")
    exception.email = exception.email.strip().lower()
    exception.recorded_by = acting_user
    return save_with_history(
        exception,
        acting_user=acting_user,
        reason=f"Exception for the director's address: {exception.reason.strip()}",
    )
