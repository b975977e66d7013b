"""A registration application's workflow pages in the admin: the buttons a
caseworker is offered, and the pages behind them (the accounts download, asking
for information, a follow-up discussion, re-running the checks, a new signing
link, approving and rejecting). RegistrationApplicationAdmin is built on it."""

from pathlib import PurePosixPath
from typing import Any

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.urls import URLPattern

from registration import permissions
from registration.admin.base import OPEN_STATUSES, A, RegistrationAdmin, _user
from registration.admin.forms import (
    ApproveForm,
    ConfirmForm,
    FollowUpForm,
    RejectForm,
    RequestInformationForm,
)
from registration.models import RegistrationApplication
from registration.services import (
    application_approve,
    application_record_follow_up,
    application_reject,
    application_request_information,
    application_run_checks,
    approval_blockers,
    signing_request_send,
)


class ApplicationWorkflowAdmin(RegistrationAdmin):
    """The buttons and workflow pages of an application's admin page. Not
    registered itself: RegistrationApplicationAdmin is built on it."""

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
