"""A registered organisation's super user names a new signing director, chosen from
Companies House's current directors; the change takes effect when they sign."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from registration.companies_house import Director, current_directors
from registration.forms import SigningDirectorForm
from registration.models import Membership, Organisation
from registration.services.director_change import (
    director_nomination_pending,
    organisation_nominate_director,
)
from registration.services.signing import (
    CompaniesHouseNotAnswering,
    SigningRefused,
    company_officers_recent,
)
from registration.views.access import organisation_super_user


def _other_directors(organisation: Organisation) -> tuple[list[Director], bool]:
    """Current directors except the one on record, and whether Companies House
    could not answer."""
    try:
        officers = company_officers_recent(organisation.companies_house_number)
    except CompaniesHouseNotAnswering:
        return [], True
    except SigningRefused:  # the company is not found
        return [], False
    current = organisation.signing_director_appointment
    return [d for d in current_directors(officers) if d.appointment != current], False


@require_http_methods(["GET", "POST"])
@login_required
@organisation_super_user
def change_signing_director(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    organisation = membership.organisation
    if organisation.status != Organisation.Status.REGISTERED:
        raise Http404
    directors, unavailable = _other_directors(organisation)
    posted = request.method == "POST"
    form = SigningDirectorForm(
        request.POST if posted else None, directors=directors, subject=organisation
    )
    if posted and directors and form.is_valid():
        try:
            nominated = organisation_nominate_director(
                organisation=organisation,
                appointment=form.chosen.appointment,
                email=form.cleaned_data["email"],
                acting_user=membership.user,
            )
        except SigningRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "We emailed %(email)s a link to sign the agreement and posted "
                    "the director a code. They become your signing director when "
                    "they sign"
                )
                % {"email": nominated.email},
            )
            return redirect("registration:change-signing-director")
    return render(
        request,
        "registration/org_signing_director.html",
        {
            "organisation": organisation,
            "form": form,
            "unavailable": unavailable,
            "pending": director_nomination_pending(organisation),
        },
    )
