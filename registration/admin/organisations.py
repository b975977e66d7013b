"""Organisations: their page (its timeline is registration.admin.timeline) and
status workflow pages."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.urls import URLPattern
from django.utils import timezone

from lrs_portal.admin_display import number
from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from registration import permissions
from registration.admin.base import (
    Groups,
    ReadOnlyFormMixin,
    RegistrationAdmin,
    S,
    ViewOnlyInline,
    _fieldsets,
    _user,
    field_names,
)
from registration.admin.forms import ConfirmForm, ReasonForm
from registration.admin.timeline import organisation_timeline
from registration.models import (
    Membership,
    Organisation,
    Suspension,
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

# --- organisations -----------------------------------------------------------------


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
    readonly_fields = field_names(_ORGANISATION_FIELDSETS)
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
