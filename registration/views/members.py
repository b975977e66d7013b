"""Once registered: the super user's list of users, invitations and removals, the
invited person's page to join, and the user terms everyone accepts first."""

import re

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from registration import permissions
from registration.forms import AcceptInvitationForm, InviteUserForm
from registration.models import Membership
from registration.services import (
    invitation_accept,
    invitation_find,
    invitation_send,
    membership_accept_terms,
    membership_remove,
)
from registration.services.members import InvitationRefused
from registration.views.access import (
    MODEL_BACKEND,
    link_expired,
    membership_of,
    organisation_super_user,
    secret_link_page,
    signed_in_user,
)


@require_GET
@login_required
@organisation_super_user
def users(request: HttpRequest, membership: Membership) -> HttpResponse:
    organisation = membership.organisation
    return render(
        request,
        "registration/org_users.html",
        {
            "organisation": organisation,
            "me": membership,
            "members": organisation.memberships.select_related("user"),
            "invitations": organisation.invitations.filter(
                accepted_at__isnull=True,
                cancelled_at__isnull=True,
                expires_at__gt=timezone.now(),
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def invite_user(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = InviteUserForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_send(
                organisation=membership.organisation,
                acting_user=membership.user,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        except InvitationRefused as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request,
                _(
                    "We have emailed an invitation to %(email)s. The link works once "
                    "and expires in 7 days"
                )
                % {"email": invitation.email},
            )
            return redirect("registration:users")
    return render(
        request,
        "registration/org_invite_user.html",
        {"form": form, "organisation": membership.organisation},
    )


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def remove_user(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    others = membership.organisation.memberships.exclude(pk=membership.pk)
    member = get_object_or_404(others.select_related("user"), pk=pk)
    if request.method == "POST":
        removed = membership_remove(membership=member, acting_user=membership.user)
        messages.success(
            request,
            _("You removed %(name)s. They can no longer sign in")
            % {"name": removed.full_name},
        )
        return redirect("registration:users")
    return render(
        request,
        "registration/org_remove_user.html",
        {"member": member, "organisation": membership.organisation},
    )


@require_http_methods(["GET", "POST"])
@secret_link_page
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_find(token=token)
    if (
        invitation is None
        or not invitation.is_usable
        or not invitation.organisation.can_use_lrs
    ):
        return link_expired(request, what="invitation")
    form = AcceptInvitationForm(
        request.POST if request.method == "POST" else None,
        email=invitation.email,
        full_name=invitation.full_name,
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token, password=form.cleaned_data["password"]
            )
        except InvitationRefused as exc:
            invitation.refresh_from_db()
            if not invitation.is_usable:
                return link_expired(request, what="invitation")
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=MODEL_BACKEND)
            return redirect("registration:user-terms")
    return render(
        request,
        "registration/org_accept_invitation.html",
        {"form": form, "invitation": invitation},
    )


def _our_path(wanted: str) -> bool:
    """Whether ``wanted`` is a plain path to one of our pages (never another site)."""
    if not re.fullmatch(r"/[A-Za-z0-9/_.~-]*", wanted) or wanted.startswith("//"):
        return False
    try:
        resolve(wanted)
    except Resolver404:
        return False
    return True


def _after_terms(request: HttpRequest, membership: Membership) -> str:
    wanted = request.POST.get("next", "")
    if _our_path(wanted):
        return wanted
    if permissions.can_manage_users(membership.user, membership.organisation):
        return reverse("registration:users")
    return reverse("lrs_portal:account")


@require_http_methods(["GET", "POST"])
@login_required
def user_terms(request: HttpRequest) -> HttpResponse:
    membership = membership_of(signed_in_user(request))
    if request.method == "POST":
        membership_accept_terms(membership=membership)
        return HttpResponseRedirect(_after_terms(request, membership))
    return render(
        request,
        "registration/org_terms.html",
        {
            "membership": membership,
            "organisation": membership.organisation,
            "next": request.GET.get("next", ""),
        },
    )
