"""Once registered: the super user reports a change of name or company number, and
a revoked organisation's super user starts a re-registration."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from registration import permissions
from registration.forms import OrganisationIdentityForm
from registration.models import Membership, Organisation, RegistrationApplication
from registration.services import organisation_change_details, reregistration_start
from registration.views.access import organisation_super_user, signed_in_user

_CAN_RETURN = (Organisation.Status.REVOKED, Organisation.Status.DEREGISTERED)


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def organisation_details(request: HttpRequest, membership: Membership) -> HttpResponse:
    organisation = membership.organisation
    initial = {
        "legal_name": organisation.legal_name,
        "trading_names": organisation.trading_names,
        "companies_house_number": organisation.companies_house_number,
    }
    form = OrganisationIdentityForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        cases = organisation_change_details(
            organisation=organisation,
            acting_user=membership.user,
            source="provider change",
            **form.cleaned_data,
        )
        if cases:
            messages.success(
                request,
                _(
                    "We have recorded the change. The Department for Education will "
                    "check your organisation's details again and may contact you"
                ),
            )
        else:
            messages.info(request, _("Nothing changed"))
        return redirect("registration:organisation-details-change")
    return render(
        request,
        "registration/org_details.html",
        {"organisation": organisation, "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def reregister(request: HttpRequest) -> HttpResponse:
    """A revoked or deregistered organisation returns by applying again."""
    user = signed_in_user(request)
    membership = (
        Membership.objects.select_related("organisation").filter(user=user).first()
    )
    if (
        membership is None
        or membership.organisation.status not in _CAN_RETURN
        or not permissions.can_manage_users(user, membership.organisation)
    ):
        raise Http404
    organisation = membership.organisation
    open_application = organisation.applications.filter(
        applicant=user,
        status__in=[
            RegistrationApplication.Status.DRAFT,
            RegistrationApplication.Status.SUBMITTED,
            RegistrationApplication.Status.MORE_INFO_REQUESTED,
        ],
    ).first()
    if open_application is not None:
        return redirect(open_application)
    if request.method == "POST":
        reregistration_start(organisation=organisation, applicant=user)
        return redirect("registration:task-list")
    return render(
        request, "registration/org_reregister.html", {"organisation": organisation}
    )
