"""The super user's quarterly recertification: confirm or remove each user
(decision 0029). The answers are registration.services.recertification's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from registration.models import Membership, RecertificationConfirmation
from registration.services.recertification import (
    RecertificationRefused,
    recertification_confirm,
    recertification_pending,
    recertification_remove,
)
from registration.views.access import organisation_super_user


def _pending(membership: Membership, pk: int) -> RecertificationConfirmation:
    """One of this organisation's unanswered users, not the super user; else 404."""
    return get_object_or_404(
        recertification_pending(organisation=membership.organisation).exclude(
            user_id=membership.user_id
        ),
        pk=pk,
    )


@require_http_methods(["GET"])
@login_required
@organisation_super_user
def recertification(request: HttpRequest, membership: Membership) -> HttpResponse:
    pending = recertification_pending(organisation=membership.organisation).exclude(
        user_id=membership.user_id
    )
    # One row a user: an answer owed from an earlier quarter answers both.
    rows: dict[int, RecertificationConfirmation] = {}
    for confirmation in pending:
        rows.setdefault(confirmation.user_id, confirmation)
    return render(
        request,
        "registration/recertification.html",
        {
            "organisation": membership.organisation,
            "confirmations": list(rows.values()),
            "now": timezone.now(),
        },
    )


@require_POST
@login_required
@organisation_super_user
def recertification_confirm_user(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    confirmation = _pending(membership, pk)
    try:
        recertification_confirm(confirmation=confirmation, acting_user=membership.user)
    except RecertificationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("You confirmed %(name)s still needs LRS access")
            % {"name": confirmation.user.full_name},
        )
    return redirect("registration:recertification")


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def recertification_remove_user(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    confirmation = _pending(membership, pk)
    if request.method == "POST":
        recertification_remove(confirmation=confirmation, acting_user=membership.user)
        messages.success(
            request,
            _("You removed %(name)s. They can no longer sign in")
            % {"name": confirmation.user.full_name},
        )
        return redirect("registration:recertification")
    return render(
        request,
        "registration/recertification_remove.html",
        {"confirmation": confirmation, "organisation": membership.organisation},
    )
