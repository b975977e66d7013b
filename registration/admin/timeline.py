"""An organisation's timeline on its admin page: its whole story, newest first,
from the history rows of the organisation, its applications and their checks,
re-verification cases, suspensions, signing links and codes, yearly confirmations,
the signatures, and the entries other apps add (registration.timeline)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.text import Truncator, capfirst

from lrs_portal.models import User
from registration.admin.base import S
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    CheckKind,
    DirectorEmailException,
    Organisation,
    RegistrationApplication,
    ReverificationCase,
    SigningCode,
    SigningRequest,
    Suspension,
    YearlyConfirmation,
)
from registration.timeline import TimelineEntry, timeline_sources


def _who(record: Any) -> str:
    user = record.history_user
    if user is None:
        reason = record.history_change_reason or ""
        if reason.startswith(("Signed by", "Signing code used by")):
            return "Director via signing link"
        if reason.startswith("Wrong signing code"):
            return "Whoever held the signing link"
        return "System"
    if user.email == User.SYSTEM_EMAIL:
        return "System"
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


def _history_entries(
    records: Iterable[Any], describe: Callable[[Any, Any], str]
) -> Iterator[TimelineEntry]:
    """One entry per history record that ``describe`` finds worth showing."""
    previous: dict[Any, Any] = {}
    for record in records:  # oldest first, so each is compared with the one before
        before = previous.get(record.id)
        previous[record.id] = record
        what = describe(record, before)
        if what:
            yield TimelineEntry(
                when=record.history_date,
                who=_who(record),
                what=what,
                why=record.history_change_reason or "",
            )


def _oldest_first(history: QuerySet[Any]) -> QuerySet[Any]:
    return history.select_related("history_user").order_by("history_date", "history_id")


def _organisation_change(name: str, old: Any, new: Any) -> str:
    field = Organisation._meta.get_field(name)
    label = capfirst(str(getattr(field, "verbose_name", name)))
    if name == "status":
        return f"Status: {S(old).label} → {S(new).label}"
    if name == "last_signed_version":
        return ""  # each signature is its own entry
    if isinstance(new, bool):
        return f"{label}: {'yes' if new else 'no'}"
    before, after = (Truncator(str(value)).chars(80) for value in (old, new))
    return f"{label}: {before!r} → {after!r}"


def _describe_organisation(record: Any, before: Any) -> str:
    if before is None:
        return "Organisation registered"
    changes = record.diff_against(before).changes
    described = (_organisation_change(c.field, c.old, c.new) for c in changes)
    return "; ".join(text for text in described if text)


def organisation_timeline(organisation: Organisation) -> list[TimelineEntry]:
    """The organisation's whole story, newest first, from history rows and signatures.

    A fixed number of queries however long the story is.
    """
    references = dict(organisation.applications.values_list("pk", "reference"))

    def describe_application(record: Any, before: Any) -> str:
        if before is not None and before.status == record.status:
            return ""
        label = RegistrationApplication.Status(record.status).label
        return f"Application {references[record.id]}: {label}"

    def describe_check(record: Any, before: Any) -> str:
        if before is None or (before.outcome, before.notes) == (
            record.outcome,
            record.notes,
        ):
            return ""
        kind = CheckKind(record.kind).label
        outcome = ApplicationCheck.Outcome(record.outcome).label
        reference = references[record.application_id]
        return f"Application {reference}: {kind} check: {outcome}"

    def describe_case(record: Any, before: Any) -> str:
        reason = ReverificationCase.Reason(record.reason).label
        if before is None:
            return f"Re-verification case opened: {reason}"
        if before.status != record.status:
            return (
                f"Re-verification case {record.get_status_display().lower()}: {reason}"
            )
        return ""

    entries = [
        *_history_entries(
            _oldest_first(Organisation.history.filter(id=organisation.pk)),
            _describe_organisation,
        ),
        *_history_entries(
            _oldest_first(RegistrationApplication.history.filter(id__in=references)),
            describe_application,
        ),
        *_history_entries(
            _oldest_first(
                ApplicationCheck.history.filter(application_id__in=references)
            ),
            describe_check,
        ),
        *_history_entries(
            _oldest_first(
                ReverificationCase.history.filter(organisation_id=organisation.pk)
            ),
            describe_case,
        ),
        *_history_entries(
            _oldest_first(Suspension.history.filter(organisation_id=organisation.pk)),
            _describe_suspension,
        ),
        *_history_entries(
            _oldest_first(
                SigningRequest.history.filter(
                    Q(organisation_id=organisation.pk)
                    | Q(application_id__in=references)
                ).select_related("agreement_version")
            ),
            _describe_signing_request,
        ),
        *_history_entries(
            _oldest_first(
                YearlyConfirmation.history.filter(organisation_id=organisation.pk)
            ),
            _describe_yearly_confirmation,
        ),
        *(entry for source in timeline_sources() for entry in source(organisation)),
        *_signing_entries(organisation, references),
        *(
            TimelineEntry(
                when=signature.signed_at,
                who="Director via signing link",
                what=(
                    f"{signature.director_name_at_companies_house} signed version "
                    f"{signature.agreement_version.number} of the agreement"
                ),
                why=f"Typed name: {signature.typed_name}",
            )
            for signature in AgreementSignature.objects.filter(
                Q(organisation=organisation) | Q(application_id__in=references)
            ).select_related("agreement_version")
        ),
    ]
    # Each source is oldest first: reversed, a stable sort keeps ties newest first.
    entries.reverse()
    return sorted(entries, key=lambda entry: entry.when, reverse=True)


def _describe_yearly_confirmation(record: Any, before: Any) -> str:
    due = f"{record.due_on:%d %B %Y}".lstrip("0")
    if before is None:
        return f"Yearly confirmation opened, due {due}"
    if before.status != record.status:
        label = YearlyConfirmation.Status(record.status).label
        return f"Yearly confirmation due {due}: {label}"
    return ""


def _describe_suspension(record: Any, before: Any) -> str:
    """A case opened, explained and decided: each is a step of the story."""
    who = "a user" if record.subject_type == Suspension.Subject.USER else "it"
    if before is None:
        return f"Suspension of {who} opened ({record.get_source_display()})"
    if before.explained_at is None and record.explained_at is not None:
        return f"Explanation of the suspension received: {record.explanation}"
    if before.status != record.status:
        return f"Suspension: {Suspension.Status(record.status).label}"
    return ""


def _describe_signing_request(record: Any, before: Any) -> str:
    version = record.agreement_version.number
    if before is None:
        return (
            f"Signing link for version {version} sent to {record.director_name} "
            f"({record.email})"
        )
    if before.cancelled_at is None and record.cancelled_at is not None:
        return f"Signing link for version {version} cancelled"
    return ""  # its use is the signature's own entry


def _signing_entries(
    organisation: Organisation, references: dict[int, str]
) -> Iterator[TimelineEntry]:
    """Letters with signing codes, their use, and exceptions for a director's
    address (decision 0014)."""
    requests = SigningRequest.objects.filter(
        Q(organisation=organisation) | Q(application_id__in=references)
    )
    directors = dict(requests.values_list("pk", "director_name"))

    def describe_code(record: Any, before: Any) -> str:
        director = directors.get(record.signing_request_id, "the director")
        if before is None:
            return (
                f"Letter with a signing code posted to {director} at their "
                f"Companies House correspondence address ({record.postcode})"
            )
        if record.used_at and not before.used_at:
            return f"{director} used the signing code from the letter"
        if record.attempts != before.attempts:
            return (
                f"Wrong signing code entered for {director} "
                f"({record.attempts} of {SigningCode.MAX_ATTEMPTS} tries)"
            )
        return ""

    def describe_exception(record: Any, before: Any) -> str:
        if before is not None:
            return ""
        return (
            f"Exception recorded: the director may sign from {record.email} "
            f"(spoke to {record.spoke_to})"
        )

    yield from _history_entries(
        _oldest_first(SigningCode.history.filter(signing_request_id__in=directors)),
        describe_code,
    )
    yield from _history_entries(
        _oldest_first(
            DirectorEmailException.history.filter(
                Q(organisation_id=organisation.pk) | Q(application_id__in=references)
            )
        ),
        describe_exception,
    )
