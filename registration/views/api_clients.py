"""The super user's API clients: list, create, the secret shown once, change the
secret, revoke. Anyone else, and any other organisation's client, gets 404.

A new secret goes from the service into the session and is taken out of it by
the one page that shows it: never in a URL, a log line or a second page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from lrs_portal.models import User
from registration import permissions
from registration.api_client_forms import (
    ApiClientCreateForm,
    ApiClientRevokeForm,
    ApiClientRotateForm,
)
from registration.models import ApiClient, Membership
from registration.services.api_clients import (
    ApiClientRefused,
    IssuedSecret,
    api_client_create,
    api_client_revoke,
    api_client_rotate_secret,
)
from registration.views.access import organisation_super_user

_SHOWN_ONCE = "api_client_secret"


def _clients(membership: Membership) -> QuerySet[ApiClient]:
    return permissions.api_clients_visible_to(
        membership.user, membership.organisation
    ).select_related("member", "application")


def _client(membership: Membership, pk: int) -> ApiClient:
    return get_object_or_404(_clients(membership), pk=pk)


def _keep_secret_for_one_page(request: HttpRequest, issued: IssuedSecret) -> None:
    request.session[_SHOWN_ONCE] = {
        "client": issued.api_client.pk,
        "secret": issued.client_secret,
    }


@require_GET
@login_required
@organisation_super_user
def api_clients(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render(
        request,
        "registration/org_api_clients.html",
        {
            "organisation": membership.organisation,
            "clients": _clients(membership).order_by("revoked_at", "name", "pk"),
        },
    )


def _members(membership: Membership) -> QuerySet[User]:
    return User.objects.filter(
        membership__organisation=membership.organisation,
        membership__suspended_at__isnull=True,
        is_active=True,
    ).order_by("full_name", "email")


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def api_client_create_page(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    form = ApiClientCreateForm(
        request.POST if request.method == "POST" else None,
        members=_members(membership),
    )
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_client_create(
                organisation=membership.organisation,
                member=form.cleaned_data["member"],
                name=form.cleaned_data["name"],
                expires_on=form.expires_on,
                allowed_ip_ranges=form.cleaned_data["allowed_ip_ranges"],
                acting_user=membership.user,
            )
        except ApiClientRefused as exc:
            form.add_error(None, str(exc))
        else:
            _keep_secret_for_one_page(request, issued)
            return redirect("registration:api-client-secret", pk=issued.api_client.pk)
    return render(
        request,
        "registration/org_api_client_create.html",
        {"form": form, "organisation": membership.organisation},
    )


@require_GET
@login_required
@organisation_super_user
def api_client_secret(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    client = _client(membership, pk)
    kept = request.session.pop(_SHOWN_ONCE, None)
    secret = kept["secret"] if kept and kept.get("client") == client.pk else None
    response = render(
        request,
        "registration/org_api_client_secret.html",
        {"organisation": membership.organisation, "client": client, "secret": secret},
    )
    add_never_cache_headers(response)  # the secret is in no cache, shared or not
    return response


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def api_client_rotate(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    client = _client(membership, pk)
    if client.status != ApiClient.Status.ACTIVE:
        messages.error(request, _("Only an active API client's secret can be changed"))
        return redirect("registration:api-clients")
    form = ApiClientRotateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_client_rotate_secret(
                api_client=client,
                grace_days=form.cleaned_data["grace_days"],
                acting_user=membership.user,
            )
        except ApiClientRefused as exc:
            form.add_error("grace_days", str(exc))
        else:
            _keep_secret_for_one_page(request, issued)
            return redirect("registration:api-client-secret", pk=client.pk)
    return render(
        request,
        "registration/org_api_client_rotate.html",
        {"form": form, "organisation": membership.organisation, "client": client},
    )


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def api_client_revoke_page(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    client = _client(membership, pk)
    if client.revoked_at is not None:
        messages.error(
            request, _("%(name)s is already revoked") % {"name": client.name}
        )
        return redirect("registration:api-clients")
    form = ApiClientRevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            api_client_revoke(
                api_client=client,
                acting_user=membership.user,
                reason=form.cleaned_data["reason"],
            )
        except ApiClientRefused as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(
                request,
                _("You revoked %(name)s. Its tokens are refused from now on")
                % {"name": client.name},
            )
            return redirect("registration:api-clients")
    return render(
        request,
        "registration/org_api_client_revoke.html",
        {"form": form, "organisation": membership.organisation, "client": client},
    )
