"""Applying to register: the account, the task list and the sections' pages
that need no company number (details, accreditation, purpose, learners served).
The sections that need it, going concern and the signing director, are in
registration.views.apply_company."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
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
from registration.forms import (
    PURPOSE_MAX_LENGTH,
    AccreditationForm,
    CreateAccountForm,
    LearnersServedForm,
    OrganisationDetailsForm,
    PurposeForm,
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


def posted(request: HttpRequest) -> bool:
    return request.method == "POST"


@require_http_methods(["GET", "POST"])
def create_account(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("registration:task-list")
    form = CreateAccountForm(request.POST if posted(request) else None)
    if posted(request) and form.is_valid():
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
        request.POST if posted(request) else None,
        instance=application,
        applicant=user,
    )
    if posted(request) and form.is_valid():
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
        request.POST if posted(request) else None,
        application=application,
        action=request.POST.get("action", AccreditationForm.SAVE),
        initial={
            "estimated_learners_per_year": application.estimated_learners_per_year
        },
    )
    if posted(request) and form.is_valid():
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


@require_http_methods(["GET", "POST"])
@login_required
@editable_application
def purpose(request: HttpRequest, application: RegistrationApplication) -> HttpResponse:
    form = PurposeForm(request.POST if posted(request) else None, instance=application)
    if posted(request) and form.is_valid():
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
        request.POST if posted(request) else None,
        initial={
            "learner_ages": application.learner_ages or [],
            "learner_reach": application.learner_reach,
            "learner_reach_km": application.learner_reach_km,
        },
    )
    if posted(request) and form.is_valid():
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
