"""The requester's pages: their organisation's requests, each request's sections,
check answers and submit, its status, withdrawing, and the destruction
certificate. State changes are POST only and go through approvals.services."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals import services
from approvals.forms import (
    SECTION_FORMS,
    CertificateForm,
    ChangeForm,
    DatasetForm,
    ResearcherForm,
    SubmitForm,
)
from approvals.models import DataShareRequest
from approvals.permissions import can_edit_request, organisations_requesting_for
from approvals.services.casefile import change_start
from approvals.views.access import request_page, requester_page
from lrs_portal.models import User

S = DataShareRequest.Status
PAGE_SIZE = 20
LIVE = (S.APPROVED, S.APPROVED_WITH_CONDITIONS, S.RELEASED)
# (key in request_missing_sections, title, URL name); the task list's order.
SECTIONS = (
    ("project", "The project and its public benefit", "approvals:section"),
    ("legal", "Legal gateway and lawful basis", "approvals:section"),
    ("datasets", "Datasets and academic years", "approvals:datasets"),
    ("data", "Volume and linkage", "approvals:section"),
    ("access", "How researchers will access the data", "approvals:section"),
    ("researchers", "Named researchers", "approvals:researchers"),
    ("dates", "Dates, retention and destruction", "approvals:section"),
)
SECTION_TITLES = {key: title for key, title, _ in SECTIONS}
TAG_COLOURS: dict[str, str] = {
    S.DRAFT: "govuk-tag--grey",
    S.SUBMITTED: "govuk-tag--blue",
    S.RETURNED: "govuk-tag--yellow",
    S.ASSESSMENT: "govuk-tag--blue",
    S.PANEL: "govuk-tag--blue",
    S.APPROVED: "govuk-tag--green",
    S.APPROVED_WITH_CONDITIONS: "govuk-tag--green",
    S.REJECTED: "govuk-tag--red",
    S.DEFERRED: "govuk-tag--yellow",
    S.RELEASED: "govuk-tag--turquoise",
    S.CLOSING: "govuk-tag--orange",
    S.CLOSED: "govuk-tag--grey",
    S.WITHDRAWN: "govuk-tag--grey",
}


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    url: str | None
    completed: bool


def _section_url(key: str, url_name: str, reference: str) -> str:
    if url_name == "approvals:section":
        return reverse(url_name, args=[reference, key])
    return reverse(url_name, args=[reference])


def _tasks(request: DataShareRequest) -> list[Task]:
    missing = set(services.request_missing_sections(request))
    return [
        Task(key, title, _section_url(key, url, request.reference), key not in missing)
        for key, title, url in SECTIONS
    ]


# --- the list and starting ---


@require_GET
@requester_page
def request_list(request: HttpRequest, user: User) -> HttpResponse:
    organisation = organisations_requesting_for(user).first()
    found = DataShareRequest.objects.filter(organisation=organisation).order_by(
        "-created_at", "-pk"
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/request_list.html",
        {"organisation": organisation, "page": page, "tag_colours": TAG_COLOURS},
    )


@require_POST
@requester_page
def request_start(request: HttpRequest, user: User) -> HttpResponse:
    organisation = organisations_requesting_for(user).first()
    if organisation is None:
        raise Http404
    started = services.request_start(organisation=organisation, acting_user=user)
    return redirect("approvals:tasks", started.reference)


# --- filling it in ---


@require_GET
@request_page
def task_list(
    request: HttpRequest, user: User, share: DataShareRequest
) -> HttpResponse:
    if not can_edit_request(user, share):
        return redirect(share)
    tasks = _tasks(share)
    return render(
        request,
        "approvals/task_list.html",
        {
            "share": share,
            "tasks": tasks,
            "completed_count": sum(task.completed for task in tasks),
            "check_answers": Task(
                "check_answers",
                "Check answers and submit",
                reverse("approvals:check-answers", args=[share.reference])
                if all(task.completed for task in tasks)
                else None,
                completed=False,
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@request_page
def section(
    request: HttpRequest, user: User, share: DataShareRequest, key: str
) -> HttpResponse:
    form_class = SECTION_FORMS.get(key)
    if form_class is None:
        raise Http404
    if not can_edit_request(user, share):
        return redirect(share)
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            services.request_save_answers(
                request=share,
                acting_user=user,
                answers=form.answers(),  # type: ignore[attr-defined]
                section=SECTION_TITLES[key],
            )
            return redirect("approvals:tasks", share.reference)
    else:
        form = form_class(initial=form_class.initial_from(share))  # type: ignore[attr-defined]
    return render(
        request,
        "approvals/section.html",
        {"form": form, "share": share, "title": SECTION_TITLES[key]},
    )


@require_http_methods(["GET", "POST"])
@request_page
def datasets(request: HttpRequest, user: User, share: DataShareRequest) -> HttpResponse:
    if not can_edit_request(user, share):
        return redirect(share)
    form = DatasetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.dataset_add(
                request=share, acting_user=user, **form.cleaned_data
            )
        except services.Refused as refused:
            form.add_error("academic_year", refused.reasons[0])
        else:
            messages.success(request, f"You added {added.academic_year}")
            return redirect("approvals:datasets", share.reference)
    return render(
        request,
        "approvals/datasets.html",
        {"form": form, "share": share, "datasets": share.datasets.all()},
    )


@require_POST
@request_page
def dataset_remove(
    request: HttpRequest, user: User, share: DataShareRequest, pk: int
) -> HttpResponse:
    if not can_edit_request(user, share):
        raise Http404
    dataset = get_object_or_404(share.datasets, pk=pk)
    services.dataset_remove(dataset=dataset, acting_user=user)
    messages.success(request, f"You removed {dataset.academic_year}")
    return redirect("approvals:datasets", share.reference)


@require_http_methods(["GET", "POST"])
@request_page
def researchers(
    request: HttpRequest, user: User, share: DataShareRequest
) -> HttpResponse:
    if not can_edit_request(user, share):
        return redirect(share)
    form = ResearcherForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.researcher_add(
                request=share, acting_user=user, **form.cleaned_data
            )
        except services.Refused as refused:
            form.add_error("email", refused.reasons[0])
        else:
            messages.success(request, f"You added {added.full_name}")
            return redirect("approvals:researchers", share.reference)
    return render(
        request,
        "approvals/researchers.html",
        {"form": form, "share": share, "researchers": share.researchers.all()},
    )


@require_POST
@request_page
def researcher_remove(
    request: HttpRequest, user: User, share: DataShareRequest, pk: int
) -> HttpResponse:
    if not can_edit_request(user, share):
        raise Http404
    researcher = get_object_or_404(share.researchers, pk=pk)
    services.researcher_remove(researcher=researcher, acting_user=user)
    messages.success(request, f"You removed {researcher.full_name}")
    return redirect("approvals:researchers", share.reference)


# --- check answers and submit ---


@require_http_methods(["GET", "POST"])
@request_page
def check_answers(
    request: HttpRequest, user: User, share: DataShareRequest
) -> HttpResponse:
    if not can_edit_request(user, share):
        return redirect(share)
    returned = share.status == S.RETURNED
    posted = request.POST if request.method == "POST" else None
    form = SubmitForm(posted, returned=returned)
    if posted is not None and form.is_valid():
        try:
            services.request_submit(
                request=share,
                acting_user=user,
                response=form.cleaned_data.get("response", ""),
            )
        except services.Refused as refused:
            for reason in refused.reasons:
                form.add_error(None, _plain(reason))
        else:
            messages.success(request, "Your request has been submitted")
            return redirect(share)
    return render(
        request,
        "approvals/check_answers.html",
        {
            "form": form,
            "share": share,
            "missing": [
                SECTION_TITLES[key] for key in services.request_missing_sections(share)
            ],
            **_summary(share),
        },
    )


def _plain(reason: str) -> str:
    for key, title in SECTION_TITLES.items():
        reason = reason.replace(f"section: {key}", f"section: {title}")
    return reason


def _summary(share: DataShareRequest) -> dict[str, Any]:
    return {
        "datasets": share.datasets.all(),
        "researchers": share.researchers.all(),
        "urls": {
            key: _section_url(key, url, share.reference) for key, _, url in SECTIONS
        },
    }


# --- where it stands ---


def _timeline(share: DataShareRequest) -> list[tuple[Any, str]]:
    """Each change of status, oldest first, as (when, the status's label)."""
    entries, previous = [], None
    for record in share.history.order_by("history_date", "history_id"):
        if record.status != previous:
            entries.append((record.history_date, str(S(record.status).label)))
            previous = record.status
    return entries


@require_GET
@request_page
def status(request: HttpRequest, user: User, share: DataShareRequest) -> HttpResponse:
    decision = share.decisions.order_by("-decided_at").first()
    return render(
        request,
        "approvals/status.html",
        {
            "share": share,
            "tag_colour": TAG_COLOURS[share.status],
            "decision": decision,
            "conditions": share.approval_conditions.all(),
            "releases": share.releases.select_related("dataset"),
            "certificate": getattr(share, "certificate", None),
            "timeline": _timeline(share),
            "editable": can_edit_request(user, share),
            "certificate_due": share.status in (S.RELEASED, S.CLOSING)
            and not hasattr(share, "certificate"),
            "can_change": share.status in LIVE and share.change_of_id is None,
            **_summary(share),
        },
    )


@require_http_methods(["GET", "POST"])
@request_page
def withdraw(request: HttpRequest, user: User, share: DataShareRequest) -> HttpResponse:
    if not share.can_be_withdrawn:
        return redirect(share)
    if request.method == "POST":
        services.request_withdraw(request=share, acting_user=user)
        messages.success(request, "You withdrew the request")
        return redirect(share)
    return render(request, "approvals/withdraw.html", {"share": share})


@require_http_methods(["GET", "POST"])
@request_page
def certificate(
    request: HttpRequest, user: User, share: DataShareRequest
) -> HttpResponse:
    if share.status not in (S.RELEASED, S.CLOSING) or hasattr(share, "certificate"):
        return redirect(share)
    form = CertificateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.certificate_submit(
            request=share, acting_user=user, **form.cleaned_data
        )
        messages.success(request, "You sent the destruction certificate")
        return redirect(share)
    return render(request, "approvals/certificate.html", {"form": form, "share": share})


@require_http_methods(["GET", "POST"])
@request_page
def change(request: HttpRequest, user: User, share: DataShareRequest) -> HttpResponse:
    """Ask to amend or extend a live share: a new request copied from it."""
    if share.status not in LIVE or share.change_of_id is not None:
        return redirect(share)
    form = ChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            new = change_start(
                share=share, acting_user=user, kind=form.cleaned_data["kind"]
            )
        except services.Refused as exc:
            form.add_error("kind", exc.reasons[0])
        else:
            messages.success(
                request,
                f"We started {new.reference}: change what you need, then submit it",
            )
            return redirect("approvals:tasks", new.reference)
    return render(request, "approvals/change.html", {"form": form, "share": share})
