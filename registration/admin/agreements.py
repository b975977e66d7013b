"""Agreement versions and re-verification cases."""

from typing import Any, cast

from django.contrib import admin
from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.urls import URLPattern

from registration import permissions
from registration.admin.base import ReadOnlyFormMixin, RegistrationAdmin, _user
from registration.admin.filters import CaseStatusFilter
from registration.admin.forms import PublishForm, ResolveForm
from registration.models import (
    AgreementVersion,
    Organisation,
    ReverificationCase,
)
from registration.services import (
    agreement_publish_recipients,
    agreement_signers,
    agreement_version_publish,
    reverification_resolve,
)

# --- agreement versions ------------------------------------------------------------


@admin.register(AgreementVersion)
class AgreementVersionAdmin(RegistrationAdmin):
    list_display = (
        "number",
        "title",
        "published_at",
        "resign_deadline",
        "registered_signatories",
    )
    list_select_related = ("published_by",)
    raw_id_fields = ("published_by",)
    search_fields = ("title",)
    fields = (
        "number",
        "title",
        "text",
        "resign_deadline",
        "text_hash",
        "published_at",
        "published_by",
    )
    readonly_fields = ("text_hash", "published_at", "published_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgreementVersion]:
        registered = Q(
            agreementsignature__organisation__status=Organisation.Status.REGISTERED
        )
        versions: QuerySet[AgreementVersion] = super().get_queryset(request)  # type: ignore[no-untyped-call]
        return versions.annotate(
            registered_signatories=Count(
                "agreementsignature__organisation", filter=registered, distinct=True
            )
        )

    @admin.display(
        description="Registered organisations signed",
        ordering="registered_signatories",
    )
    def registered_signatories(self, version: AgreementVersion) -> int:
        return cast(int, getattr(version, "registered_signatories", 0))

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        latest = AgreementVersion.objects.order_by("-number").first()
        return {"number": latest.number + 1 if latest else 1}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_manage_agreements(_user(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published version is what directors signed: it never changes.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.published_at is None)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_page_context(
        self, request: HttpRequest, obj: AgreementVersion
    ) -> dict[str, Any]:
        if obj.published_at is None and permissions.can_manage_agreements(
            _user(request)
        ):
            return {"workflow_tools": [self.workflow_tool("Publish", "publish", obj)]}
        return {}

    def get_urls(self) -> list[URLPattern]:
        return [self.workflow_path("publish", self.publish_view), *self.default_urls()]

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self.workflow_object(request, object_id)

        class VersionPublishForm(PublishForm):
            """Starts from the deadline the draft was given, if any."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                deadline = version.resign_deadline
                kwargs.setdefault("initial", {"resign_deadline": deadline})
                super().__init__(*args, **kwargs)

        def act(data: dict[str, Any]) -> str:
            sent = agreement_version_publish(
                version=version,
                acting_user=_user(request),
                resign_deadline=data["resign_deadline"],
                immediately_reason=data["immediately_reason"],
            )
            return (
                f"Published version {version.number}; emailed a signing link to "
                f"the directors of {len(sent)} organisations."
            )

        return self.workflow(
            request,
            version,
            allowed=permissions.can_manage_agreements(_user(request)),
            form_class=VersionPublishForm,
            title=f"Publish version {version.number}",
            submit_label="Publish and email the signing links",
            intro=(
                f"Publishing makes version {version.number} the one every director "
                "must sign, and it can no longer be edited. Every organisation that "
                "has not signed it by the deadline is suspended by the next "
                "housekeeping run, until a director signs."
            ),
            items_heading="Who this affects:",
            items=_publish_affects(),
            can_submit=version.published_at is None,
            act=act,
        )


def _publish_affects() -> list[str]:
    """What publishing will do, in numbers, for the page that confirms it."""
    counts = dict(
        agreement_signers()
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    registered = counts.get(Organisation.Status.REGISTERED, 0)
    suspended = counts.get(Organisation.Status.SUSPENDED, 0)
    emailed = agreement_publish_recipients().count()
    lines = [
        f"{registered + suspended} organisations must sign it: {registered} "
        f"registered and {suspended} suspended.",
        f"{emailed} directors will each be emailed a signing link.",
    ]
    no_email = registered + suspended - emailed
    if no_email:
        lines.append(
            f"{no_email} organisations have no signing director's email address: "
            "they get no link, and lose access at the deadline unless one is "
            "recorded and a link sent from the organisation's page."
        )
    return lines


# --- re-verification cases ---------------------------------------------------------


@admin.register(ReverificationCase)
class ReverificationCaseAdmin(ReadOnlyFormMixin, RegistrationAdmin):
    list_display = (
        "organisation",
        "reason",
        "status",
        "source",
        "opened_at",
        "resolved_at",
        "resolved_by",
    )
    list_filter = (CaseStatusFilter, "reason")
    list_select_related = ("organisation", "resolved_by")
    raw_id_fields = ("organisation", "resolved_by")
    search_fields = ("organisation__legal_name", "=organisation__ukprn")
    ordering = ("opened_at",)
    fields = (
        "organisation",
        "reason",
        "details",
        "source",
        "status",
        "opened_at",
        "resolved_at",
        "resolved_by",
        "resolution",
    )
    readonly_fields = fields

    def change_page_context(
        self, request: HttpRequest, obj: ReverificationCase
    ) -> dict[str, Any]:
        if self._may_resolve(request, obj):
            return {"workflow_tools": [self.workflow_tool("Resolve", "resolve", obj)]}
        return {}

    def _may_resolve(self, request: HttpRequest, case: ReverificationCase) -> bool:
        return (
            case.status == ReverificationCase.Status.OPEN
            and self.has_change_permission(request)
        )

    def get_urls(self) -> list[URLPattern]:
        return [self.workflow_path("resolve", self.resolve_view), *self.default_urls()]

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self.workflow_object(request, object_id)

        def act(data: dict[str, Any]) -> str:
            reverification_resolve(
                case=case, acting_user=_user(request), resolution=data["resolution"]
            )
            return "Resolved the re-verification case."

        return self.workflow(
            request,
            case,
            allowed=self._may_resolve(request, case),
            form_class=ResolveForm,
            title=f"Resolve: {case}",
            submit_label="Resolve the case",
            intro=case.details,
            act=act,
        )
