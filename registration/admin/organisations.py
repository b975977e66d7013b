"""Organisations: their timeline and status workflow pages."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.db.models import (
    Q,
    QuerySet,
)
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.urls import URLPattern
from django.utils import timezone
from django.utils.text import Truncator, capfirst

from lrs_portal.admin_display import number
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from registration import permissions
from registration.admin.base import (
    ConfirmForm,
    Groups,
    ReadOnlyFormMixin,
    ReasonForm,
    RegistrationAdmin,
    S,
    ViewOnlyInline,
    _field_names,
    _fieldsets,
    _user,
)
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    CheckKind,
    DirectorEmailException,
    Membership,
    Organisation,
    RegistrationApplication,
    ReverificationCase,
    SigningCode,
    SigningRequest,
    Suspension,
    YearlyConfirmation,
)
from registration.services import (
    ORGANISATION_TRANSITIONS,
    agreement_must_sign,
    organisation_reinstate,
    organisation_revoke,
    signing_request_send,
    suspension_open,
    suspension_reinstate,
)
from registration.services.agreements import SigningRefused
from registration.services.suspensions import IN_FORCE
from registration.timeline import TimelineEntry, timeline_sources

# --- organisations -----------------------------------------------------------------


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


class MembershipInline(ViewOnlyInline):
    model = Membership
    fields = (
        "user",
        "is_super_user",
        "created_at",
        "terms_accepted_at",
    )
    raw_id_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user", "organisation")


_NOT_DECLARED = (
    "Not declared (registered before the application asked; the purpose rules "
    "compare it with its own history)"
)
_ORGANISATION_FIELDSETS: Groups = (
    (
        None,
        (
            "legal_name",
            "trading_names",
            "ukprn",
            "companies_house_number",
            "ico_number",
            "registered_address",
            "website",
            "learners_a_year",
            "purpose",
        ),
    ),
    (
        "Learners served (declared)",
        ("learner_ages_display", "learner_reach_display"),
    ),
    (
        "Status",
        ("status", "flagged_for_review", "registered_at", "last_signed_version"),
    ),
    (
        "Signing director",
        (
            "signing_director_name",
            "signing_director_appointment",
            "signing_director_email",
        ),
    ),
)


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyFormMixin, RegistrationAdmin):
    list_display = (
        "legal_name",
        "ukprn",
        "status",
        "flagged_for_review",
        "last_signed_version",
        "registered_at",
    )
    list_filter = ("status", "flagged_for_review", "last_signed_version")
    list_select_related = ("last_signed_version",)
    raw_id_fields = ("last_signed_version",)
    search_fields = ("legal_name", "=ukprn", "=companies_house_number", "=ico_number")
    search_help_text = (
        "Part of the legal name, or an exact UKPRN, company or ICO number"
    )
    fieldsets = _fieldsets(_ORGANISATION_FIELDSETS)
    readonly_fields = _field_names(_ORGANISATION_FIELDSETS)
    inlines = (MembershipInline,)

    @admin.display(description="Learners a year (estimated)")
    def learners_a_year(self, organisation: Organisation) -> str:
        return number(organisation.estimated_learners_per_year)

    @admin.display(description="Ages of learners served")
    def learner_ages_display(self, organisation: Organisation) -> str:
        return organisation.learner_ages_display or _NOT_DECLARED

    @admin.display(description="Where learners come from")
    def learner_reach_display(self, organisation: Organisation) -> str:
        return organisation.learner_reach_display or _NOT_DECLARED

    def change_page_context(
        self, request: HttpRequest, obj: Organisation
    ) -> dict[str, Any]:
        return {
            "timeline": organisation_timeline(obj),
            "workflow_tools": self.tools(request, obj),
        }

    def tools(
        self, request: HttpRequest, organisation: Organisation
    ) -> list[dict[str, str]]:
        if not permissions.can_change_organisation_status(_user(request)):
            return []
        allowed = ORGANISATION_TRANSITIONS.get(organisation.status, set())
        tools = []
        if S.SUSPENDED in allowed:
            tools.append(self.workflow_tool("Suspend", "suspend", organisation))
        if organisation.status == S.SUSPENDED:
            tools.append(self.workflow_tool("Reinstate", "reinstate", organisation))
        if S.REVOKED in allowed:
            tools.append(self.workflow_tool("Revoke access", "revoke", organisation))
        if agreement_must_sign(organisation) and organisation.signing_director_email:
            tools.append(
                self.workflow_tool(
                    "Send the director a signing link",
                    "send_signing_link",
                    organisation,
                )
            )
        return tools

    def get_urls(self) -> list[URLPattern]:
        return [
            self.workflow_path("suspend", self.suspend_view),
            self.workflow_path("reinstate", self.reinstate_view),
            self.workflow_path("revoke", self.revoke_view),
            self.workflow_path("send_signing_link", self.send_signing_link_view),
            *self.default_urls(),
        ]

    def _status_page(
        self,
        request: HttpRequest,
        object_id: str,
        *,
        verb: str,
        intro: str,
        change: Callable[[Organisation, User, str], object],
        done: str,
    ) -> HttpResponse:
        organisation = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            change(organisation, _user(request), data["reason"])
            return done

        return self.workflow(
            request,
            organisation,
            allowed=permissions.can_change_organisation_status(_user(request)),
            form_class=ReasonForm,
            title=f"{verb}: {organisation.legal_name}",
            submit_label=verb,
            intro=intro,
            act=act,
        )

    def send_signing_link_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        organisation = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            try:
                sent = signing_request_send(
                    acting_user=_user(request), organisation=organisation
                )
            except SigningRefused as exc:
                return str(exc)
            return f"Sent a signing link to {sent.email}."

        return self.workflow(
            request,
            organisation,
            # A suspended organisation too: reinstated, it must be able to sign
            # before housekeeping suspends it again.
            allowed=permissions.can_change_organisation_status(_user(request))
            and agreement_must_sign(organisation),
            form_class=ConfirmForm,
            title=f"Send a signing link: {organisation.legal_name}",
            submit_label="Send the link",
            intro=(
                f"{organisation.signing_director_name} "
                f"({organisation.signing_director_email}) gets a single-use link to "
                "sign the current agreement, and a code by letter to their "
                "correspondence address at Companies House, once Companies House "
                "confirms they are a director; any earlier unused link stops working."
            ),
            act=act,
        )

    def suspend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def suspend(organisation: Organisation, user: User, reason: str) -> object:
            # A caseworker's suspension is a case like any other: explained by the
            # provider, decided in the suspensions queue.
            suspension, created = suspension_open(
                subject_type=Suspension.Subject.ORGANISATION,
                organisation=organisation,
                source=Suspension.Source.CASEWORKER,
                cause="caseworker",
                day=timezone.now().date(),
                reason=reason,
                acting_user=user,
            )
            if not created:
                raise TransitionNotAllowed(
                    "Not suspended: the organisation already has a suspension in "
                    "force, or a caseworker suspension of it was decided today "
                    f"({suspension})."
                )
            return suspension

        return self._status_page(
            request,
            object_id,
            verb="Suspend",
            intro=(
                "Its users lose LRS access and are signed out at once. The super "
                "user is told why and can explain; decide it under Suspensions."
            ),
            change=suspend,
            done="Suspended the organisation; its users were signed out.",
        )

    def reinstate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def reinstate(organisation: Organisation, user: User, reason: str) -> object:
            in_force = Suspension.objects.filter(
                subject_type=Suspension.Subject.ORGANISATION,
                organisation=organisation,
                status__in=IN_FORCE,
            ).order_by("opened_at")
            if not in_force:  # suspended before suspensions were cases
                return organisation_reinstate(
                    organisation=organisation, acting_user=user, reason=reason
                )
            return [
                suspension_reinstate(
                    suspension=suspension, acting_user=user, reason=reason
                )
                for suspension in in_force
            ]

        return self._status_page(
            request,
            object_id,
            verb="Reinstate",
            intro=(
                "Every suspension of the organisation in force is reinstated (a false "
                "positive: no later run suspends it again for the same cause and "
                "day), and its users can use the LRS again."
            ),
            change=reinstate,
            done="Reinstated the organisation.",
        )

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def revoke(organisation: Organisation, user: User, reason: str) -> object:
            return organisation_revoke(
                organisation=organisation, acting_user=user, reason=reason
            )

        return self._status_page(
            request,
            object_id,
            verb="Revoke access",
            intro=(
                "Its users lose LRS access and are signed out at once. It can return "
                "only through a new, vetted re-registration."
            ),
            change=revoke,
            done="Revoked the organisation's access; its users were signed out.",
        )
