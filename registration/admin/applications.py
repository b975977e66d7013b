"""Registration applications: the vetting queue and workflow pages."""

from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.urls import URLPattern
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from lrs_portal.admin_display import evidence, number
from lrs_portal.service_levels import ServiceLevelAdminMixin, ServiceLevelQueue
from registration import permissions
from registration.admin.base import (
    OPEN_STATUSES,
    A,
    ApproveForm,
    ConfirmForm,
    FollowUpForm,
    Groups,
    QueueFilter,
    RegistrationAdmin,
    RejectForm,
    RequestInformationForm,
    ViewOnlyInline,
    _field_names,
    _fieldsets,
    _user,
    _when,
    csv_response,
)
from registration.models import (
    ApplicationCheck,
    AwardingOrganisationAccreditation,
    CheckGuidance,
    CheckKind,
    FollowUpDiscussion,
    RegistrationApplication,
)
from registration.services import (
    ApprovalBlocked,
    application_approve,
    application_record_follow_up,
    application_reject,
    application_request_information,
    application_run_checks,
    approval_blockers,
    check_record_outcome,
    signing_request_send,
)

# --- applications ------------------------------------------------------------------


# What each check records (registration/services/applications.py, registration/ico/),
# in words; a key not listed here is shown with its own name made readable.
EVIDENCE_LABELS = {
    "company_number": "Company number",
    "company_name": "Name at Companies House",
    "company_status": "Company status",
    "company_status_detail": "Status detail",
    "fetched_at": "Read from Companies House",
    "findings": "Findings",
    "severity": "Severity",
    "message": "What was found",
    "accounts_uploaded": "Accounts uploaded",
    "ukprn": "UKPRN",
    "returning_organisation": "Returning organisation (its number here)",
    "director": "Nominated director",
    "appointment": "Companies House appointment",
    "signed_at": "Signed",
    "agreement_version": "Agreement version",
    "code": "Result code",
    "registration_number": "ICO registration number",
    "organisation_name": "Name on the ICO register",
    "trading_names": "Trading names on the register",
    "start_date": "Registered from",
    "end_date": "Registered until",
    "payment_tier": "Fee tier",
    "imported_at": "Register copy imported",
}

_RESULT_COLOURS = {
    ApplicationCheck.Result.PASS: "#00703c",
    ApplicationCheck.Result.NEEDS_REVIEW: "#a35200",
    ApplicationCheck.Result.FAIL: "#d4351c",
    ApplicationCheck.Result.NOT_RUN: "#505a5f",
}
_KIND_ORDER = Case(
    *(When(kind=kind, then=Value(i)) for i, kind in enumerate(CheckKind)),
    output_field=IntegerField(),
)


class ApplicationCheckInline(admin.StackedInline):  # type: ignore[type-arg]
    """One block per check: what the portal found, the guidance, the caseworker's call.

    Saved through check_record_outcome (RegistrationApplicationAdmin.save_formset).
    """

    model = ApplicationCheck
    extra = 0
    can_delete = False
    fields = (
        ("kind", "result", "checked_at"),
        "automatic_summary",
        "evidence_rows",
        "guidance",
        ("outcome", "notes"),
        ("decided_by", "decided_at"),
    )
    readonly_fields = (
        "kind",
        "result",
        "checked_at",
        "automatic_summary",
        "evidence_rows",
        "guidance",
        "decided_by",
        "decided_at",
    )
    raw_id_fields = ("decided_by",)
    formfield_overrides = {
        TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 80})}
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApplicationCheck]:
        guidance = CheckGuidance.objects.filter(kind=OuterRef("kind")).values("text")
        checks: QuerySet[ApplicationCheck] = super().get_queryset(request)
        return (
            checks.select_related("decided_by")
            .annotate(guidance_text=Subquery(guidance[:1]), kind_order=_KIND_ORDER)
            .order_by("kind_order")
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_change_permission(request, obj)
            and obj is not None
            and obj.status in OPEN_STATUSES
            and permissions.can_vet(_user(request))
        )

    @admin.display(description="Automatic result")
    def result(self, check: ApplicationCheck) -> SafeString:
        result = ApplicationCheck.Result(check.automatic_result)
        colour = _RESULT_COLOURS.get(result, "#0b0c0c")
        return format_html(
            '<strong style="color: {}">{}</strong>',
            colour,
            check.get_automatic_result_display(),
        )

    @admin.display(description="Evidence")
    def evidence_rows(self, check: ApplicationCheck) -> SafeString:
        return evidence(check.evidence, EVIDENCE_LABELS)

    @admin.display(description="Guidance")
    def guidance(self, check: ApplicationCheck) -> str:
        return getattr(check, "guidance_text", None) or "No guidance written yet."


class AccreditationInline(ViewOnlyInline):
    model = AwardingOrganisationAccreditation
    fields = ("awarding_organisation", "reference")


class FollowUpDiscussionInline(ViewOnlyInline):
    model = FollowUpDiscussion
    fields = (
        "held_on",
        "attendees",
        "summary",
        "purpose_acceptable",
        "recorded_by",
        "recorded_at",
    )
    raw_id_fields = ("recorded_by",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUpDiscussion]:
        return super().get_queryset(request).select_related("recorded_by")


_APPLICATION_FIELDSETS: Groups = (
    (
        "Application",
        (
            "reference",
            "status",
            "kind",
            "applicant",
            "organisation",
            "created_at",
            "submitted_at",
            "information_requested",
            "decided_at",
            "decision_reason",
        ),
    ),
    (
        "Organisation details",
        (
            "legal_name",
            "trading_names",
            "ukprn",
            "companies_house_number",
            "ico_number",
            "registered_address",
            "website",
        ),
    ),
    ("Super user", ("super_user_name", "super_user_email")),
    ("Accreditation and volume", ("learners_a_year",)),
    ("Going concern", ("accounts_document_link",)),
    ("Purpose", ("purpose", "exception", "purpose_detail")),
    (
        "Learners served (declared)",
        ("learner_ages_display", "learner_reach_display"),
    ),
    (
        "Signing director",
        (
            "signing_director_name",
            "signing_director_appointment",
            "signing_director_email",
            "signing_status",
        ),
    ),
    ("Declaration", ("declaration_accepted_at",)),
)


@admin.register(RegistrationApplication)
class RegistrationApplicationAdmin(ServiceLevelAdminMixin, RegistrationAdmin):
    service_level = ServiceLevelQueue(
        key="applications",
        label="Registration applications waiting for vetting",
        statuses=(A.SUBMITTED,),
        since="submitted_at",
        changelist_query="queue=submitted",
    )
    list_display = (
        "reference",
        "legal_name",
        "ukprn",
        "kind",
        "status",
        "exception",
        "submitted_at",
    )
    list_filter = (QueueFilter, "status", "kind", "purpose")
    list_select_related = ("applicant", "organisation")
    raw_id_fields = ("applicant", "organisation")
    search_fields = (
        "=reference",
        "=ukprn",
        "=companies_house_number",
        "legal_name",
    )
    search_help_text = (
        "Exact reference, UKPRN or Companies House number, or part of the legal name"
    )
    ordering = ("submitted_at", "pk")
    actions = ("export_csv",)
    fieldsets = _fieldsets(_APPLICATION_FIELDSETS)
    readonly_fields = _field_names(_APPLICATION_FIELDSETS)
    inlines = (AccreditationInline, ApplicationCheckInline, FollowUpDiscussionInline)

    CSV_COLUMNS = (
        ("Reference", "reference"),
        ("Legal name", "legal_name"),
        ("UKPRN", "ukprn"),
        ("Companies House number", "companies_house_number"),
        ("Kind", "get_kind_display"),
        ("Status", "get_status_display"),
        ("Purpose", "get_purpose_display"),
        ("Submitted at", "submitted_at"),
        ("Decided at", "decided_at"),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # providers apply on the public site

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only the check outcomes are edited here, and only while being vetted.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status in OPEN_STATUSES)

    @admin.display(description="Exception", boolean=True)
    def exception(self, application: RegistrationApplication) -> bool:
        return application.is_exception

    @admin.display(description="Learners a year (estimated)")
    def learners_a_year(self, application: RegistrationApplication) -> str:
        return number(application.estimated_learners_per_year)

    @admin.display(description="Ages of learners served")
    def learner_ages_display(self, application: RegistrationApplication) -> str:
        return application.learner_ages_display or "Not answered"

    @admin.display(description="Where learners come from")
    def learner_reach_display(self, application: RegistrationApplication) -> str:
        return application.learner_reach_display or "Not answered"

    @admin.display(description="Accounts")
    def accounts_document_link(self, application: RegistrationApplication) -> str:
        if not application.accounts_document:
            return "None uploaded"
        return format_html(
            '<a href="{}">Download {}</a>',
            self.workflow_url("accounts_document", application),
            PurePosixPath(application.accounts_document.name or "").name,
        )

    @admin.display(description="Signing links and signatures")
    def signing_status(self, application: RegistrationApplication) -> str:
        lines = [
            f"Version {s.agreement_version.number} signed {_when(s.signed_at)} by "
            f"{s.director_name_at_companies_house} (typed “{s.typed_name}”)"
            for s in application.signatures.select_related("agreement_version")
        ]
        latest = application.signing_requests.order_by("-created_at").first()
        if latest is not None:
            state = (
                f"used {_when(latest.used_at)}"
                if latest.used_at
                else f"cancelled {_when(latest.cancelled_at)}"
                if latest.cancelled_at
                else f"unused, expires {_when(latest.expires_at)}"
            )
            sent = _when(latest.created_at)
            lines.append(f"Latest link sent to {latest.email} {sent}: {state}")
        if not lines:
            return "No signing link sent yet"
        items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
        return format_html('<ul style="margin-left: 0">{}</ul>', items)

    # --- export ---

    @admin.action(description="Export selected to CSV", permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[RegistrationApplication]
    ) -> HttpResponse:
        def value(application: RegistrationApplication, attr: str) -> object:
            found = getattr(application, attr)
            return found() if callable(found) else found

        stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
        return csv_response(
            f"registration-applications-{stamp}.csv",
            [title for title, _ in self.CSV_COLUMNS],
            (
                [value(application, attr) for _, attr in self.CSV_COLUMNS]
                for application in queryset.order_by("submitted_at", "pk")
            ),
        )

    # --- saving: only check outcomes, each through the service ---

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: Any
    ) -> None:
        """The application's own fields are read-only here: nothing to save."""

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: Any
    ) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        if formset.model is not ApplicationCheck:
            return  # the other inlines are view-only
        for check_form in formset.initial_forms:
            if not check_form.has_changed():
                continue
            try:
                check = check_record_outcome(
                    check=check_form.instance,
                    acting_user=_user(request),
                    outcome=check_form.cleaned_data["outcome"],
                    notes=check_form.cleaned_data["notes"],
                )
            except (PermissionError, ApprovalBlocked) as exc:
                raise PermissionDenied from exc
            formset.changed_objects.append((check, check_form.changed_data))

    # --- the change page ---

    def change_page_context(
        self, request: HttpRequest, obj: RegistrationApplication
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"workflow_tools": self.tools(request, obj)}
        if obj.status in OPEN_STATUSES:
            context["approval_blockers"] = approval_blockers(obj)
        return context

    def tools(
        self, request: HttpRequest, application: RegistrationApplication
    ) -> list[dict[str, str]]:
        user = _user(request)
        tools = []
        is_open = application.status in OPEN_STATUSES
        if is_open and permissions.can_vet(user):
            if application.status == A.SUBMITTED:
                tools.append(
                    self.workflow_tool(
                        "Request more information", "request_information", application
                    )
                )
            tools += [
                self.workflow_tool(
                    "Record follow-up discussion", "record_follow_up", application
                ),
                self.workflow_tool(
                    "Re-run automatic checks", "run_checks", application
                ),
                self.workflow_tool(
                    "Send a new signing link", "send_signing_link", application
                ),
            ]
        if is_open and permissions.can_decide(user, application):
            if application.status == A.SUBMITTED:
                tools.append(self.workflow_tool("Approve", "approve", application))
            tools.append(self.workflow_tool("Reject", "reject", application))
        return tools

    def get_urls(self) -> list[URLPattern]:
        return [
            self.workflow_path("accounts_document", self.accounts_document_view),
            self.workflow_path("request_information", self.request_information_view),
            self.workflow_path("record_follow_up", self.record_follow_up_view),
            self.workflow_path("run_checks", self.run_checks_view),
            self.workflow_path("send_signing_link", self.send_signing_link_view),
            self.workflow_path("approve", self.approve_view),
            self.workflow_path("reject", self.reject_view),
            *self.default_urls(),
        ]

    # --- workflow pages ---

    def accounts_document_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponseBase:
        """Stream the private accounts file; anyone but a caseworker gets a 404."""
        if not permissions.can_vet(_user(request)):
            raise Http404
        application = self.workflow_object(request, object_id)
        document = application.accounts_document
        if not document:
            raise Http404
        try:
            handle = document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        name = PurePosixPath(document.name).name
        return FileResponse(handle, as_attachment=True, filename=name)

    def _open_for_vetting(self, request: HttpRequest, application: Any) -> bool:
        return application.status in OPEN_STATUSES and permissions.can_vet(
            _user(request)
        )

    def request_information_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        application = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            application_request_information(
                application=application,
                acting_user=_user(request),
                request_text=data["request_text"],
            )
            return "Asked the provider for more information."

        return self.workflow(
            request,
            application,
            allowed=permissions.can_vet(_user(request)),
            form_class=RequestInformationForm,
            title=f"Request more information: {application.reference}",
            submit_label="Send the request",
            intro="The application goes back to the provider until they resubmit it.",
            act=act,
        )

    def record_follow_up_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        application = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            application_record_follow_up(
                application=application, acting_user=_user(request), **data
            )
            verdict = "acceptable" if data["purpose_acceptable"] else "not acceptable"
            return f"Recorded the follow-up discussion: purpose {verdict}."

        return self.workflow(
            request,
            application,
            allowed=self._open_for_vetting(request, application),
            form_class=FollowUpForm,
            title=f"Record follow-up discussion: {application.reference}",
            submit_label="Record the discussion",
            intro=f"Purpose given: {application.purpose_detail}",
            act=act,
        )

    def run_checks_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        application = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            application_run_checks(application=application, acting_user=_user(request))
            return "Re-ran the automatic checks. Caseworkers' outcomes are unchanged."

        return self.workflow(
            request,
            application,
            allowed=self._open_for_vetting(request, application),
            form_class=ConfirmForm,
            title=f"Re-run automatic checks: {application.reference}",
            submit_label="Re-run the checks",
            intro=(
                "Fetches Companies House and the ICO register again and updates "
                "each check's automatic result. Outcomes already recorded stay."
            ),
            act=act,
        )

    def send_signing_link_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        application = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            sent = signing_request_send(
                acting_user=_user(request), application=application
            )
            return f"Sent a new signing link to {sent.email}."

        return self.workflow(
            request,
            application,
            allowed=self._open_for_vetting(request, application),
            form_class=ConfirmForm,
            title=f"Send a new signing link: {application.reference}",
            submit_label="Send the link",
            intro=(
                f"{application.signing_director_name} "
                f"({application.signing_director_email}) gets a new single-use link "
                "to sign the current agreement, and a code by letter to their "
                "correspondence address at Companies House, once Companies House "
                "confirms they are a director; any earlier unused link stops working."
            ),
            act=act,
        )

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        application = self.workflow_object(request, object_id)
        blockers = approval_blockers(application)

        def act(data: dict[str, Any]) -> str:
            organisation = application_approve(
                application=application,
                acting_user=_user(request),
                reason=data["reason"],
            )
            return f"Approved: {organisation} is registered."

        return self.workflow(
            request,
            application,
            allowed=permissions.can_decide(_user(request), application),
            form_class=ApproveForm,
            title=f"Approve {application.reference}",
            submit_label="Approve the application",
            intro=(
                f"{application.legal_name} will be registered and "
                f"{application.super_user_email} will be its super user."
            ),
            items=blockers,
            items_heading="The application cannot be approved yet:",
            can_submit=not blockers,
            act=act,
        )

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        application = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            application_reject(
                application=application,
                acting_user=_user(request),
                reason=data["reason"],
            )
            return "Rejected the application."

        return self.workflow(
            request,
            application,
            allowed=permissions.can_decide(_user(request), application),
            form_class=RejectForm,
            title=f"Reject {application.reference}",
            submit_label="Reject the application",
            act=act,
        )
