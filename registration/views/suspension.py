"""The super user's view of their organisation's suspensions, and their
explanation, which reaches the caseworkers' queue (issue 5)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from registration import permissions
from registration.forms import SuspensionExplanationForm
from registration.models import Membership, Suspension
from registration.services import ExplanationRefused, suspension_explain
from registration.views.access import signed_in_user, super_user_only

HISTORY = timedelta(days=365)


class NotTheSuperUser(Exception):
    def __init__(self, membership: Membership) -> None:
        super().__init__("not the super user")
        self.membership = membership


def _super_user_membership(request: HttpRequest) -> Membership:
    """The super user's membership, whatever the organisation's status;
    NotTheSuperUser for its other users; else 404."""
    user = signed_in_user(request)
    membership = (
        Membership.objects.select_related("organisation", "user")
        .filter(user=user)
        .first()
    )
    if membership is None:
        raise Http404
    if not permissions.can_explain_suspension(user, membership.organisation):
        raise NotTheSuperUser(membership)
    return membership


def _suspensions(membership: Membership) -> list[Suspension]:
    in_force = Case(
        When(status__in=[Suspension.Status.OPEN, Suspension.Status.UPHELD], then=0),
        default=Value(1),
        output_field=IntegerField(),
    )
    return list(
        Suspension.objects.filter(
            organisation=membership.organisation,
            opened_at__gte=timezone.now() - HISTORY,
        )
        .select_related("user")
        .annotate(in_force_first=in_force)
        .order_by("in_force_first", "-opened_at")[:50]
    )


@require_http_methods(["GET"])
@login_required
def suspensions(request: HttpRequest) -> HttpResponse:
    try:
        membership = _super_user_membership(request)
    except NotTheSuperUser as refused:
        return super_user_only(request, refused.membership)
    return render(
        request,
        "registration/org_suspensions.html",
        {
            "organisation": membership.organisation,
            "suspensions": _suspensions(membership),
            "form": SuspensionExplanationForm(),
        },
    )


@require_POST
@login_required
def explain(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        membership = _super_user_membership(request)
    except NotTheSuperUser as refused:
        return super_user_only(request, refused.membership)
    suspension = Suspension.objects.filter(
        pk=pk, organisation=membership.organisation
    ).first()
    if suspension is None:
        raise Http404
    form = SuspensionExplanationForm(request.POST)
    if form.is_valid():
        try:
            suspension_explain(
                suspension=suspension,
                acting_user=membership.user,
                explanation=form.cleaned_data["explanation"],
            )
        except ExplanationRefused as exc:
            # Decided, or explained from another tab, meanwhile: the page now
            # shows the case without a form, so say why at the top of it.
            messages.error(request, str(exc))
            return redirect("registration:suspension")
        else:
            messages.success(
                request,
                _(
                    "We have sent your explanation to the Department for Education. "
                    "A caseworker will review it and email you the outcome"
                ),
            )
            return redirect("registration:suspension")
    return render(
        request,
        "registration/org_suspensions.html",
        {
            "organisation": membership.organisation,
            "suspensions": _suspensions(membership),
            "form": form,
            "explaining": suspension.pk,
        },
        status=400,
    )
