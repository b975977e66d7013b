"""The application's sections that need its company number: what Companies
House says about the company (CompanyLookup, its status and findings in the
provider's words), the going concern page with its upload of the latest
accounts, and choosing the signing director from the company's directors."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration.companies_house import (
    CompaniesHouseUnavailable,
    CompanyFacts,
    company_fetch,
    name_matches,
)
from registration.forms import AccountsUploadForm, SigningDirectorForm
from registration.models import RegistrationApplication
from registration.views.access import editable_application, signed_in_user
from registration.views.apply import posted

# Companies House's company status codes in words (its public API's enumeration;
# an unlisted code is shown as Companies House writes it).
COMPANY_STATUS_WORDS = {
    "active": gettext_lazy("Active"),
    "dissolved": gettext_lazy("Dissolved"),
    "liquidation": gettext_lazy("Liquidation"),
    "receivership": gettext_lazy("Receivership"),
    "administration": gettext_lazy("Administration"),
    "voluntary-arrangement": gettext_lazy("Voluntary arrangement"),
    "converted-closed": gettext_lazy("Converted or closed"),
    "insolvency-proceedings": gettext_lazy("Insolvency proceedings"),
    "registered": gettext_lazy("Registered"),
    "removed": gettext_lazy("Removed"),
    "closed": gettext_lazy("Closed"),
    "open": gettext_lazy("Open"),
    "active-proposal-to-strike-off": gettext_lazy("Active proposal to strike off"),
}

# Findings in words for the provider (the checks' own messages are for caseworkers).
PROVIDER_FINDINGS = {
    "proposal_to_strike_off": gettext_lazy(
        "Companies House has published a proposal to strike "
        "the company off the register. We cannot approve your application while the "
        "proposal stands. If it is because of late filings, file them and upload your "
        "latest accounts."
    ),
    "has_been_liquidated": gettext_lazy(
        "Companies House records that the company has been "
        "liquidated. Upload your latest accounts to show that it is trading."
    ),
    "insolvency_history": gettext_lazy(
        "Companies House records insolvency history for the "
        "company. Upload your latest accounts to show that it is trading."
    ),
    "accounts_overdue": gettext_lazy(
        "The company's accounts are overdue at Companies House. "
        "Upload your latest accounts."
    ),
    "confirmation_statement_overdue": gettext_lazy(
        "The company's confirmation statement is "
        "overdue at Companies House. Companies that stop filing are struck off."
    ),
}


@dataclass(frozen=True)
class CompanyLookup:
    facts: CompanyFacts | None  # None: Companies House could not answer
    unavailable: bool = False

    @property
    def status_words(self) -> str:
        if self.facts is None:
            return ""
        code = self.facts.company_status_detail or self.facts.company_status
        if code in COMPANY_STATUS_WORDS:
            return str(COMPANY_STATUS_WORDS[code])
        return code.replace("-", " ").capitalize() or _("Not given")

    @property
    def findings(self) -> list[str]:
        found = self.facts.findings if self.facts and self.facts.found else []
        return [str(PROVIDER_FINDINGS.get(f.code, f.message)) for f in found]

    def name_differs(self, legal_name: str) -> bool:
        facts = self.facts
        if facts is None or not facts.found:
            return False
        return not name_matches(facts.company_name, legal_name)


def company_lookup(application: RegistrationApplication) -> CompanyLookup:
    """What Companies House says now about the application's company."""
    try:
        return CompanyLookup(
            company_fetch(company_number=application.companies_house_number)
        )
    except CompaniesHouseUnavailable:
        return CompanyLookup(None, unavailable=True)
    except ValidationError:  # not a company number: the details page says so
        return CompanyLookup(None)


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def going_concern(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    if not application.companies_house_number:
        return redirect("registration:task-list")
    form = AccountsUploadForm(
        request.POST if posted(request) else None,
        request.FILES if posted(request) else None,
    )
    if posted(request) and form.is_valid():
        upload = form.cleaned_data["accounts_document"]
        if upload is not None:
            _store_accounts(application, upload, signed_in_user(request))
            messages.success(request, _("You uploaded your latest accounts"))
        return redirect("registration:task-list")
    lookup = company_lookup(application)
    return render(
        request,
        "registration/apply_going_concern.html",
        {
            "form": form,
            "application": application,
            "lookup": lookup,
            "name_differs": lookup.name_differs(application.legal_name),
        },
    )


def _store_accounts(
    application: RegistrationApplication, upload: UploadedFile, user: User
) -> None:
    """Keep the uploaded PDF in private storage under a name of our choosing."""
    previous = application.accounts_document.name
    application.accounts_document.save(
        f"{application.reference}-accounts.pdf",
        upload,
        save=False,
    )
    save_with_history(
        application,
        acting_user=user,
        reason="Latest accounts uploaded",
        fields=["accounts_document"],
    )
    if previous:
        application.accounts_document.storage.delete(previous)


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def signing_director(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    if not application.companies_house_number:
        return redirect("registration:task-list")
    lookup = company_lookup(application)
    directors = lookup.facts.directors if lookup.facts else []
    form = SigningDirectorForm(
        request.POST if posted(request) else None,
        directors=directors,
        subject=application,
        initial={
            "director": application.signing_director_appointment,
            "email": application.signing_director_email,
        },
    )
    if posted(request) and directors and form.is_valid():
        chosen = form.chosen
        application.signing_director_name = chosen.name
        application.signing_director_appointment = chosen.appointment
        application.signing_director_email = form.cleaned_data["email"]
        save_with_history(
            application,
            acting_user=signed_in_user(request),
            reason="Signing director nominated",
            fields=[
                "signing_director_name",
                "signing_director_appointment",
                "signing_director_email",
            ],
        )
        return redirect("registration:task-list")
    return render(
        request,
        "registration/apply_signing_director.html",
        {"form": form, "application": application, "lookup": lookup},
    )
