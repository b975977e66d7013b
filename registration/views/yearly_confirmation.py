"""The super user's yearly confirmation of the organisation's registration
(decision 0031): what is on record, "nothing changed" or the changed answers, a
check-answers page and a confirmation page. The answers are
registration.services.yearly_confirmation's; until sent they are kept in the
session (never in the address)."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from registration import permissions
from registration.forms import YearlyConfirmationForm
from registration.models import (
    Membership,
    Organisation,
    Suspension,
    YearlyConfirmation,
)
from registration.services.suspensions import IN_FORCE
from registration.services.yearly_confirmation import (
    CAUSE,
    CURRENT,
    NOT_CURRENT,
    Answers,
    YearlyConfirmationRefused,
    anniversary_next,
    answer_changes,
    director_standing,
    registration_on_record,
    suspension_day,
    yearly_confirmation_answer,
    yearly_confirmation_pending,
)
from registration.views.access import signed_in_user, super_user_only, terms_first

P = ParamSpec("P")
SESSION_KEY = "yearly_confirmation"


def _suspended_for_it(organisation: Organisation) -> bool:
    return Suspension.objects.filter(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.HOUSEKEEPING,
        cause=CAUSE,
        status__in=IN_FORCE,
    ).exists()


def confirming_super_user(
    view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pass the super user's membership of a registered organisation, or of one
    suspended for not making its confirmation (making it gives access back); its
    other users learn who manages it (403); anyone else gets 404."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        user = signed_in_user(request)
        membership = (
            Membership.objects.select_related("organisation", "user")
            .filter(user=user)
            .first()
        )
        if membership is None:
            raise Http404
        organisation = membership.organisation
        if not organisation.can_use_lrs and not (
            organisation.status == Organisation.Status.SUSPENDED
            and _suspended_for_it(organisation)
        ):
            raise Http404
        if not permissions.can_manage_users(user, organisation):
            return super_user_only(request, membership)
        if membership.terms_accepted_at is None:
            return terms_first(request)
        return view(request, membership, *args, **kwargs)

    return wrapper


def _context(
    membership: Membership,
    confirmation: YearlyConfirmation,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What every page of the confirmation shows; ``record`` when the view has
    read it already (registration_on_record)."""
    organisation = membership.organisation
    return {
        "organisation": organisation,
        "confirmation": confirmation,
        "record": record or registration_on_record(organisation),
        "standing": director_standing(organisation),
        "CURRENT": CURRENT,
        "NOT_CURRENT": NOT_CURRENT,
        "suspension_day": suspension_day(confirmation),
        "overdue": confirmation.due_on < timezone.localdate(),
        "suspended": organisation.status == Organisation.Status.SUSPENDED,
    }


def _draft(request: HttpRequest, confirmation: YearlyConfirmation) -> Answers | None:
    draft = request.session.get(SESSION_KEY)
    if not isinstance(draft, dict) or draft.get("pk") != confirmation.pk:
        return None
    try:
        return Answers.from_dict(draft["answers"])
    except (KeyError, TypeError, ValueError):
        return None


def _keep(request: HttpRequest, confirmation: YearlyConfirmation, answers: Any) -> None:
    request.session[SESSION_KEY] = {"pk": confirmation.pk, "answers": answers}


@require_http_methods(["GET"])
@login_required
@confirming_super_user
def yearly_confirmation(request: HttpRequest, membership: Membership) -> HttpResponse:
    organisation = membership.organisation
    confirmation = yearly_confirmation_pending(organisation)
    if confirmation is None:
        last = (
            organisation.yearly_confirmations.exclude(
                status=YearlyConfirmation.Status.PENDING
            )
            .order_by("-answered_at")
            .first()
        )
        registered_on = timezone.localdate(organisation.registered_at)
        upcoming = anniversary_next(registered_on, timezone.localdate())
        if last is not None and last.anniversary >= upcoming:
            upcoming = anniversary_next(
                registered_on, last.anniversary + timedelta(days=1)
            )
        return render(
            request,
            "registration/yearly_confirmation_none.html",
            {
                "organisation": organisation,
                "last": last,
                "next_anniversary": upcoming,
            },
        )
    return render(
        request,
        "registration/yearly_confirmation.html",
        _context(membership, confirmation),
    )


def _pending(membership: Membership) -> YearlyConfirmation | None:
    return yearly_confirmation_pending(membership.organisation)


@require_POST
@login_required
@confirming_super_user
def yearly_confirmation_nothing_changed(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    confirmation = _pending(membership)
    if confirmation is None:
        return redirect("registration:yearly-confirmation")
    record = registration_on_record(membership.organisation)
    _keep(request, confirmation, Answers.nothing_changed(record).as_dict())
    return redirect("registration:yearly-confirmation-check")


@require_http_methods(["GET", "POST"])
@login_required
@confirming_super_user
def yearly_confirmation_change(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    confirmation = _pending(membership)
    if confirmation is None:
        return redirect("registration:yearly-confirmation")
    record = registration_on_record(membership.organisation)
    draft = _draft(request, confirmation)
    initial = {"learners_per_year": record["learners_per_year"]}
    if draft is not None:
        initial = {
            "purpose_unchanged": "no" if draft.purpose_change else "yes",
            "purpose_change": draft.purpose_change or "",
            "learners_per_year": draft.learners_per_year,
            "awarding_organisations_unchanged": (
                "no" if draft.awarding_organisations_change else "yes"
            ),
            "awarding_organisations_change": draft.awarding_organisations_change or "",
            "director_in_office": "yes" if draft.director_in_office else "no",
        }
    posted = request.method == "POST"
    form = YearlyConfirmationForm(request.POST if posted else None, initial=initial)
    if posted and form.is_valid():
        _keep(request, confirmation, form.answers())
        return redirect("registration:yearly-confirmation-check")
    return render(
        request,
        "registration/yearly_confirmation_change.html",
        {**_context(membership, confirmation, record), "form": form},
        status=400 if posted else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
@confirming_super_user
def yearly_confirmation_check(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    confirmation = _pending(membership)
    if confirmation is None:
        return redirect("registration:yearly-confirmation")
    answers = _draft(request, confirmation)
    if answers is None:
        return redirect("registration:yearly-confirmation")
    context = _context(membership, confirmation)
    error = ""
    if request.method == "POST":
        try:
            yearly_confirmation_answer(
                confirmation=confirmation,
                acting_user=membership.user,
                answers=answers,
            )
        except YearlyConfirmationRefused as exc:
            error = str(exc)
        else:
            request.session.pop(SESSION_KEY, None)
            request.session[f"{SESSION_KEY}.done"] = confirmation.pk
            return redirect("registration:yearly-confirmation-done")
    changes = answer_changes(context["record"], answers, context["standing"])
    return render(
        request,
        "registration/yearly_confirmation_check.html",
        {**context, "answers": answers, "changes": changes, "error": error},
        status=400 if error else 200,
    )


@require_http_methods(["GET"])
@login_required
@confirming_super_user
def yearly_confirmation_done(
    request: HttpRequest, membership: Membership
) -> HttpResponse:
    pk = request.session.get(f"{SESSION_KEY}.done")
    confirmation = (
        membership.organisation.yearly_confirmations.exclude(
            status=YearlyConfirmation.Status.PENDING
        )
        .filter(pk=pk)
        .first()
        if isinstance(pk, int)
        else None
    )
    if confirmation is None:
        return redirect("registration:yearly-confirmation")
    return render(
        request,
        "registration/yearly_confirmation_done.html",
        {"organisation": membership.organisation, "confirmation": confirmation},
    )
