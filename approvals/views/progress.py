"""Where a data share request stands (its status page), and what the requester
does from there: withdraw it, send the destruction certificate, or ask to
change a live share. State changes are POST only and go through
approvals.services."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from approvals import services
from approvals.models import DataShareRequest
from approvals.permissions import can_edit_request
from approvals.request_forms import (
    CertificateForm,
    ChangeForm,
)
from approvals.services.casefile import change_start
from approvals.views.access import request_page
from approvals.views.requests import TAG_COLOURS, S, summary
from lrs_portal.models import User

# The statuses of a live share, which may be changed (decision 17).
LIVE = (S.APPROVED, S.APPROVED_WITH_CONDITIONS, S.RELEASED)

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
            **summary(share),
        },
    )


@require_http_methods(["GET", "POST"])
@request_page
def withdraw(request: HttpRequest, user: User, share: DataShareRequest) -> HttpResponse:
    if not share.can_be_withdrawn:
        return redirect(share)
    if request.method == "POST":
        services.request_withdraw(request=share, acting_user=user)
        messages.success(request, gettext("You withdrew the request"))
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
        messages.success(request, gettext("You sent the destruction certificate"))
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
                gettext(
                    "We started %(reference)s: change what you need, then submit it"
                )
                % {"reference": new.reference},
            )
            return redirect("approvals:tasks", new.reference)
    return render(request, "approvals/change.html", {"form": form, "share": share})
