"""The requester's pages: their organisation's requests, each request's sections,
check answers and submit. Where a request stands and what follows (withdrawing,
the destruction certificate, a change) are approvals.views.progress. State
changes are POST only and go through approvals.services.

The sections' titles are English here (the request's history records them as
they are) and said in the page's language where a page shows them."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals import services
from approvals.forms import SECTION_FORMS
from approvals.models import DataShareRequest
from approvals.permissions import can_edit_request, organisations_requesting_for
from approvals.request_forms import (
    DatasetForm,
    ResearcherForm,
    SubmitForm,
)
from approvals.views.access import request_page, requester_page
from lrs_portal.models import User

S = DataShareRequest.Status
PAGE_SIZE = 20
# (key in request_missing_sections, title, URL name); the task list's order.
SECTIONS = (
    (
        "project",
        gettext_noop("The project and its public benefit"),
        "approvals:section",
    ),
    ("legal", gettext_noop("Legal gateway and lawful basis"), "approvals:section"),
    ("datasets", gettext_noop("Datasets and academic years"), "approvals:datasets"),
    ("data", gettext_noop("Volume and linkage"), "approvals:section"),
    (
        "access",
        gettext_noop("How researchers will access the data"),
        "approvals:section",
    ),
    ("researchers", gettext_noop("Named researchers"), "approvals:researchers"),
    ("dates", gettext_noop("Dates, retention and destruction"), "approvals:section"),
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
        Task(
            key,
            gettext(title),
            _section_url(key, url, request.reference),
            key not in missing,
        )
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
                gettext("Check answers and submit"),
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
        {"form": form, "share": share, "title": gettext(SECTION_TITLES[key])},
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
            messages.success(
                request,
                gettext("You added %(year)s") % {"year": added.academic_year},
            )
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
    messages.success(
        request, gettext("You removed %(year)s") % {"year": dataset.academic_year}
    )
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
            messages.success(
                request, gettext("You added %(name)s") % {"name": added.full_name}
            )
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
    messages.success(
        request, gettext("You removed %(name)s") % {"name": researcher.full_name}
    )
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
            messages.success(request, gettext("Your request has been submitted"))
            return redirect(share)
    return render(
        request,
        "approvals/check_answers.html",
        {
            "form": form,
            "share": share,
            "missing": [
                gettext(SECTION_TITLES[key])
                for key in services.request_missing_sections(share)
            ],
            **summary(share),
        },
    )


def _plain(reason: str) -> str:
    """A refusal of approvals.services.request_submit (English, as the service
    writes it) in the page's words and language."""
    for key, title in SECTION_TITLES.items():
        if reason == f"Complete the section: {key}":
            return gettext("Complete the section: %(section)s") % {
                "section": gettext(title)
            }
    if reason == "Answer the request for information":
        return gettext("Answer the request for information")
    return reason


def summary(share: DataShareRequest) -> dict[str, Any]:
    return {
        "datasets": share.datasets.all(),
        "researchers": share.researchers.all(),
        "urls": {
            key: _section_url(key, url, share.reference) for key, _, url in SECTIONS
        },
    }
