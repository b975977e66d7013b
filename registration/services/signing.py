"""Whose signature it is (issue 19, decision 0014).

A signature counts only when the person signing is, at that moment, a director at
Companies House (asked again when the link is sent and when it is used, from a
snapshot no older than a day), the link went to the director's own address (not
the applicant's, not a member's, on the organisation's domain unless a caseworker
recorded an exception), and they typed the one-time code that came by letter to
their correspondence address at Companies House. One function cancels pending links.
"""

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.services import letter_send
from lrs_portal.transitions import save_with_history
from registration import validators
from registration.models import (
    CompaniesHouseSnapshot,
    DirectorEmailException,
    Organisation,
    RegistrationApplication,
    SigningCode,
    SigningRequest,
)

logger = logging.getLogger(__name__)

SNAPSHOT_MAX_AGE = timedelta(days=1)
# Second-class post takes up to five working days after printing.
CODE_LIFETIME = timedelta(days=14)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
_UK = {"", "england", "wales", "scotland", "northern ireland", "united kingdom", "uk"}

Subject = RegistrationApplication | Organisation


class SigningRefused(Exception):
    """The link cannot be used, or the signature does not match the director."""


class DirectorNotCurrent(SigningRefused):
    """Companies House does not list the person as a director who can sign."""


class CompaniesHouseNotAnswering(SigningRefused):
    """Companies House could not be asked now; the same request may work later."""


class WrongCode(SigningRefused):
    """The code typed is not the letter's; tries are left."""


class CodeLocked(SigningRefused):
    """The letter's code can no longer be used (too many tries, or expired)."""


@dataclass(frozen=True)
class Officer:
    name: str
    appointment: str
    address: list[str]  # the correspondence address, as letter lines
    postcode: str


# --- Companies House, asked again -------------------------------------------------


def _recent_officers(company_number: str) -> dict[str, Any] | None:
    snapshot = (
        CompaniesHouseSnapshot.objects.filter(
            company_number=company_number,
            kind=CompaniesHouseSnapshot.Kind.OFFICERS,
            fetched_at__gte=timezone.now() - SNAPSHOT_MAX_AGE,
        )
        .order_by("-fetched_at")
        .first()
    )
    return snapshot.data if snapshot is not None else None


def company_officers_recent(company_number: str) -> dict[str, Any]:
    """The company's current officers as read no more than a day ago, fetched
    afresh through the Companies House client when the latest snapshot is older."""
    from registration.companies_house import CompaniesHouseUnavailable, company_fetch

    officers = _recent_officers(company_number)
    if officers is not None:
        return officers
    try:
        facts = company_fetch(company_number=company_number)
    except (CompaniesHouseUnavailable, ValidationError) as exc:
        raise CompaniesHouseNotAnswering(
            _("We could not check with Companies House just now. Try again later")
        ) from exc
    if not facts.found:
        raise DirectorNotCurrent(
            _("Companies House has no company with number %(number)s")
            % {"number": company_number}
        )
    return _recent_officers(company_number) or {}


def _address_lines(address: dict[str, Any]) -> list[str]:
    """Companies House's address as letter lines (the name goes above them), or
    [] when it cannot be posted to: Notify needs a UK postcode or, abroad, the
    country on the last line, and seven lines at most with the name."""

    def part(key: str) -> str:
        return str(address.get(key) or "").strip()

    first = " ".join(p for p in (part("premises"), part("address_line_1")) if p)
    lines = [
        f"c/o {part('care_of')}" if part("care_of") else "",
        f"PO Box {part('po_box')}" if part("po_box") else "",
        first,
        part("address_line_2"),
        part("locality"),
        part("region"),
        part("postal_code"),
    ]
    abroad = part("country").lower() not in _UK
    if abroad:
        lines.append(part("country"))
    lines = [line for line in lines if line]
    while len(lines) > 6:
        lines[1:3] = [", ".join(lines[1:3])]
    if len(lines) < 2 or not (abroad or part("postal_code")):
        return []
    return lines


def director_verify(*, company_number: str, appointment: str) -> Officer:
    """The person, if Companies House lists them now as a director with authority
    to sign (not resigned, not a secretary or corporate director); else refused."""
    from registration.companies_house import current_directors

    officers = company_officers_recent(company_number)
    current = {d.appointment: d for d in current_directors(officers)}
    director = current.get(appointment) if appointment else None
    if director is None:
        raise DirectorNotCurrent(
            _(
                "Companies House does not list this person as a current director of "
                "the company, so they cannot sign the agreement for it"
            )
        )
    items = officers.get("items") or []
    item = next(i for i in items if (i.get("links") or {}).get("self") == appointment)
    address = item.get("address") or {}
    lines = _address_lines(address)
    if not lines:
        raise SigningRefused(
            _(
                "Companies House holds no full correspondence address for the "
                "director, so we cannot post the signing code. The director can "
                "update it at Companies House"
            )
        )
    return Officer(
        name=director.name,
        appointment=appointment,
        address=lines,
        postcode=str(address.get("postal_code") or "")[:12],
    )


# --- The director's own address ---------------------------------------------------


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


# --- The letter and its code ------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _code_shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def code_normalise(entered: str) -> str:
    return "".join(c for c in entered.upper() if c.isalnum())


LETTER_BODY = """Dear ((director_name))

Sign the Learning Records Service agreement for ((organisation_name))

You have been named as the director of ((organisation_name)) who signs the \
Learning Records Service (LRS) agreement. We have emailed you a link to the \
agreement. To sign it you also need this code:

((code))

Type it on the signing page with your name. The code works until ((expires_on)). \
We sent it to your correspondence address at Companies House so that only you \
can sign.

If you were not expecting this letter, do not use the code. Tell the Department \
for Education: someone may be trying to sign in your name.

Department for Education, Learning Records Service"""


def signing_code_post(
    *, signing_request: SigningRequest, officer: Officer, acting_user: User
) -> SigningCode:
    """Post the director a one-time code for their link (kept only as a hash)."""
    code = _new_code()
    # The code lasts as long as its link (a re-signing link may last until the
    # version's deadline), and never less than CODE_LIFETIME for the post.
    expires_at = max(timezone.now() + CODE_LIFETIME, signing_request.expires_at)
    subject = signing_request.organisation or signing_request.application
    organisation_name = subject.legal_name if subject is not None else ""
    letter = letter_send(
        address=[_letter_name(officer.name), *officer.address],
        subject=f"Sign the LRS agreement for {organisation_name}",
        body=LETTER_BODY,
        personalisation={
            "director_name": _letter_name(officer.name),
            "organisation_name": organisation_name,
            "code": _code_shown(code),
            "expires_on": f"{timezone.localtime(expires_at):%d %B %Y}",
        },
        reference="agreement.signing_code",
    )
    signing_code = SigningCode(
        signing_request=signing_request,
        code_hash=make_password(code),
        letter=letter,
        postcode=officer.postcode,
        expires_at=expires_at,
    )
    return save_with_history(
        signing_code,
        acting_user=acting_user,
        reason="Letter with a signing code posted to the director's correspondence "
        "address at Companies House",
    )


def _letter_name(ch_name: str) -> str:
    """ "SMITH, Jane Alice" as a letter addresses them: "Jane Alice Smith"."""
    surname, _, forenames = ch_name.partition(",")
    if not forenames:
        return ch_name.strip()
    return f"{forenames.strip()} {surname.strip().title()}"


def signing_code_try(*, signing_code: SigningCode, entered: str, by: str) -> str:
    """Count one try of the letter's code; "" when right, else what to tell them.

    The try is saved whatever the answer, so the caller commits it before refusing.
    """
    if not signing_code.is_usable:  # the caller refuses it first; never "right"
        raise CodeLocked(_("The code in your letter can no longer be used"))
    if check_password(code_normalise(entered), signing_code.code_hash):
        signing_code.used_at = timezone.now()
        save_with_history(
            signing_code,
            acting_user=None,
            reason=f"Signing code used by {by}",
            fields=["used_at"],
        )
        return ""
    signing_code.attempts += 1
    save_with_history(
        signing_code,
        acting_user=None,
        reason=f"Wrong signing code entered through {by}'s link",
        fields=["attempts"],
    )
    left = signing_code.attempts_left
    if left == 0:
        return "locked"
    plural = "try" if left == 1 else "tries"
    return (
        f"The code does not match the one in the letter we posted to you. You have "
        f"{left} {plural} left"
    )


# --- Cancelling pending links -----------------------------------------------------


def signing_requests_cancel(
    *,
    acting_user: User | None,
    reason: str,
    application: RegistrationApplication | None = None,
    organisation: Organisation | None = None,
    requests: Iterable[SigningRequest] | None = None,
) -> int:
    """Cancel every pending link (and so its letter's code) of an application or an
    organisation (its applications' links too): on revocation, deregistration, a
    newer link or a change of director. Returns how many were cancelled."""
    if requests is None:
        match = Q()
        if application is not None:
            match |= Q(application=application)
        if organisation is not None:
            match |= Q(organisation=organisation) | Q(
                application__organisation=organisation
            )
        if not match:
            raise ValueError("Cancel the links of an application or an organisation")
        requests = (
            SigningRequest.objects.select_for_update(of=("self",))
            .filter(match, used_at__isnull=True, cancelled_at__isnull=True)
            .order_by("pk")
        )
    now = timezone.now()
    cancelled = 0
    for request in requests:
        request.cancelled_at = now
        save_with_history(
            request, acting_user=acting_user, reason=reason, fields=["cancelled_at"]
        )
        cancelled += 1
    return cancelled
