"""Applying to register: the account, the task list and each section's page."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration.companies_house import (
    CompaniesHouseUnavailable,
    CompanyFacts,
    company_fetch,
    name_matches,
)
from registration.forms import (
    PURPOSE_MAX_LENGTH,
    AccountsUploadForm,
    AccreditationForm,
    CreateAccountForm,
    LearnersServedForm,
    OrganisationDetailsForm,
    PurposeForm,
    SigningDirectorForm,
)
from registration.models import (
    AwardingOrganisationAccreditation,
    LearnerReach,
    RegistrationApplication,
)
from registration.services import application_missing_sections
from registration.views.access import (
    MODEL_BACKEND,
    editable_application,
    signed_in_user,
)

# (key in application_missing_sections, title, URL name); the task list's order.
SECTIONS = (
    (
        "organisation_details",
        gettext_lazy("Organisation details"),
        "registration:organisation-details",
    ),
    (
        "accreditation",
        gettext_lazy("Accreditation and learners"),
        "registration:accreditation",
    ),
    ("going_concern", gettext_lazy("Going concern"), "registration:going-concern"),
    ("purpose", gettext_lazy("Purpose"), "registration:purpose"),
    (
        "learners_served",
        gettext_lazy("Learners you serve"),
        "registration:learners-served",
    ),
    (
        "signing_director",
        gettext_lazy("Signing director"),
        "registration:signing-director",
    ),
)
SECTION_TITLES = {key: title for key, title, _url in SECTIONS}
# These need the Companies House number from the organisation details first.
NEEDS_COMPANY_NUMBER = {"going_concern", "signing_director"}


def _posted(request: HttpRequest) -> bool:
    return request.method == "POST"


@require_http_methods(["GET", "POST"])
def create_account(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("registration:task-list")
    form = CreateAccountForm(request.POST if _posted(request) else None)
    if _posted(request) and form.is_valid():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    form.cleaned_data["email"],
                    form.cleaned_data["password"],
                    full_name=form.cleaned_data["full_name"],
                )
        except IntegrityError:  # created by someone else since the form checked
            form.add_error(
                "email", _("An account with this email address already exists")
            )
        else:
            login(request, user, backend=MODEL_BACKEND)
            return redirect("registration:task-list")
    return render(request, "registration/apply_create_account.html", {"form": form})


@dataclass(frozen=True)
class Task:
    key: str
    title: StrOrPromise
    url: str | None  # None: cannot start yet
    completed: bool


def _tasks(application: RegistrationApplication) -> list[Task]:
    missing = set(application_missing_sections(application))
    tasks = []
    for key, title, url_name in SECTIONS:
        blocked = key in NEEDS_COMPANY_NUMBER and not application.companies_house_number
        url = None if blocked else reverse(url_name)
        tasks.append(Task(key, title, url, key not in missing))
    return tasks


@require_GET
@login_required
@editable_application
def task_list(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    tasks = _tasks(application)
    done = all(task.completed for task in tasks)
    return render(
        request,
        "registration/apply_task_list.html",
        {
            "application": application,
            "tasks": tasks,
            "completed_count": sum(task.completed for task in tasks),
            "check_answers": Task(
                "check_answers",
                _("Check answers and submit"),
                reverse("registration:check-answers") if done else None,
                completed=False,
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def organisation_details(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    user = signed_in_user(request)
    old_number = application.companies_house_number
    form = OrganisationDetailsForm(
        request.POST if _posted(request) else None,
        instance=application,
        applicant=user,
    )
    if _posted(request) and form.is_valid():
        application = form.save(commit=False)
        application.super_user_name = user.full_name
        application.super_user_email = user.email
        fields = [*form.Meta.fields, "super_user_name", "super_user_email"]
        if application.companies_house_number != old_number:
            # Another company's director cannot sign for this one.
            application.signing_director_name = ""
            application.signing_director_appointment = ""
            fields += ["signing_director_name", "signing_director_appointment"]
        save_with_history(
            application,
            acting_user=user,
            reason="Organisation details saved",
            fields=fields,
        )
        return redirect("registration:task-list")
    return render(
        request,
        "registration/apply_organisation_details.html",
        {"form": form, "application": application, "applicant": user},
    )


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def accreditation(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    user = signed_in_user(request)
    form = AccreditationForm(
        request.POST if _posted(request) else None,
        application=application,
        action=request.POST.get("action", AccreditationForm.SAVE),
        initial={
            "estimated_learners_per_year": application.estimated_learners_per_year
        },
    )
    if _posted(request) and form.is_valid():
        try:
            _save_accreditation(application, form, user)
        except IntegrityError:  # added twice at once
            form.add_error("awarding_organisation", _("You have already added it"))
        else:
            if form.action == AccreditationForm.ADD:
                added = form.cleaned_data["awarding_organisation"]
                messages.success(request, _("You added %(name)s") % {"name": added})
                return redirect("registration:accreditation")
            return redirect("registration:task-list")
    return render(
        request,
        "registration/apply_accreditation.html",
        {
            "form": form,
            "application": application,
            "accreditations": application.accreditations.all(),
        },
    )


def _save_accreditation(
    application: RegistrationApplication, form: AccreditationForm, user: User
) -> None:
    with transaction.atomic():
        if form.new_accreditation is not None:
            name, reference = form.new_accreditation
            save_with_history(
                AwardingOrganisationAccreditation(
                    application=application,
                    awarding_organisation=name,
                    reference=reference,
                ),
                acting_user=user,
                reason="Awarding organisation added",
            )
        learners = form.cleaned_data.get("estimated_learners_per_year")
        if learners is not None:
            application.estimated_learners_per_year = learners
            save_with_history(
                application,
                acting_user=user,
                reason="Estimated learners per year saved",
                fields=["estimated_learners_per_year"],
            )


@require_POST
@login_required
@editable_application
def accreditation_remove(
    request: HttpRequest, application: RegistrationApplication, pk: int
) -> HttpResponse:
    accreditation = get_object_or_404(application.accreditations, pk=pk)
    accreditation._history_user = signed_in_user(request)  # type: ignore[attr-defined]
    accreditation._change_reason = "Awarding organisation removed"  # type: ignore[attr-defined]
    accreditation.delete()
    messages.success(
        request,
        _("You removed %(name)s") % {"name": accreditation.awarding_organisation},
    )
    return redirect("registration:accreditation")


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
        request.POST if _posted(request) else None,
        request.FILES if _posted(request) else None,
    )
    if _posted(request) and form.is_valid():
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
def purpose(request: HttpRequest, application: RegistrationApplication) -> HttpResponse:
    form = PurposeForm(request.POST if _posted(request) else None, instance=application)
    if _posted(request) and form.is_valid():
        save_with_history(
            form.save(commit=False),
            acting_user=signed_in_user(request),
            reason="Purpose saved",
            fields=["purpose", "purpose_detail"],
        )
        return redirect("registration:task-list")
    return render(
        request,
        "registration/apply_purpose.html",
        {
            "form": form,
            "application": application,
            "other_purpose": RegistrationApplication.Purpose.OTHER,
            "max_length": PURPOSE_MAX_LENGTH,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def learners_served(
    request: HttpRequest, application: RegistrationApplication
) -> HttpResponse:
    form = LearnersServedForm(
        request.POST if _posted(request) else None,
        initial={
            "learner_ages": application.learner_ages or [],
            "learner_reach": application.learner_reach,
            "learner_reach_km": application.learner_reach_km,
        },
    )
    if _posted(request) and form.is_valid():
        application.learner_ages = list(form.cleaned_data["learner_ages"])
        application.learner_reach = form.cleaned_data["learner_reach"]
        application.learner_reach_km = form.cleaned_data["learner_reach_km"]
        save_with_history(
            application,
            acting_user=signed_in_user(request),
            reason="Learners served saved",
            fields=["learner_ages", "learner_reach", "learner_reach_km"],
        )
        return redirect("registration:task-list")
    return render(
        request,
        "registration/apply_learners_served.html",
        {
            "form": form,
            "application": application,
            "local": LearnerReach.LOCAL,
        },
    )


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
        request.POST if _posted(request) else None,
        directors=directors,
        subject=application,
        initial={
            "director": application.signing_director_appointment,
            "email": application.signing_director_email,
        },
    )
    if _posted(request) and directors and form.is_valid():
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
