"""Looking up learners (by ULN or by the five demographics) and viewing a record.
The super user's usage page and log download are records.usage_views.

Search results are rendered in the response to the POST, never redirected to: a
redirect would have to carry the ULN or the name in a URL, and from there into
browser history and proxy logs. So style.md's POST-redirect-GET does not apply
to searches, and every page with learner data is sent with no-store.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import wraps
from http import HTTPStatus
from typing import Any, Concatenate, ParamSpec

from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from lrs_portal.models import User
from records.forms import (
    DemographicsSearchForm,
    UlnSearchForm,
    postcode_outward,
)
from records.models import Learner, LearnerView
from records.permissions import (
    Refusal,
    lookup_membership,
    lookup_refusal,
)
from records.services import (
    LookupRefused,
    LookupResult,
    learner_search_by_demographics,
    learner_search_by_uln,
    learner_view,
)

P = ParamSpec("P")
HANDLE_SALT = "records.learner-handle"
HANDLE_MAX_AGE = timedelta(minutes=15)
OUTCOME = LearnerView.Outcome


# --- who may look up learners -----------------------------------------------------


def _user(request: HttpRequest) -> User:
    """The signed-in person (views behind @login_required only)."""
    if not isinstance(request.user, User):
        raise Http404
    return request.user


def _refused(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    # The reason is English in records.permissions (the web service says it so);
    # the page says it in the page's language.
    shown = Refusal(refusal.code, gettext(refusal.message))
    return render(
        request,
        "records/refused.html",
        {"refusal": shown},
        status=HTTPStatus.FORBIDDEN,
    )


def gate_refusal(request: HttpRequest) -> Refusal | None:
    user = _user(request)
    return lookup_refusal(user, lookup_membership(user))


def lookup_gate(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Anyone the gate refuses sees why, and nothing more, on every lookup page.

    The services ask the gate again (with the caps) inside each lookup; this is
    so that nobody fills in a form they cannot use.
    """

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        refusal = gate_refusal(request)
        if refusal is not None:
            return _refused(request, refusal)
        return view(request, *args, **kwargs)

    return wrapper


def no_search_by_get(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """A search form's page takes no query string: search terms never go in a URL."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        if request.method == "GET" and request.GET:
            return HttpResponseNotAllowed(["POST"])
        return view(request, *args, **kwargs)

    return wrapper


def _request_id(request: HttpRequest) -> str:
    return str(getattr(request, "request_id", ""))


# --- handles: which learner a "View record" button means --------------------------


def learner_handle(learner: Learner, user: User) -> str:
    """A signed, short-lived reference to a learner, usable by this user only."""
    return signing.dumps({"l": learner.pk, "u": user.pk}, salt=HANDLE_SALT)


def _handle_learner_id(handle: str, user: User) -> int:
    try:
        data = signing.loads(handle, salt=HANDLE_SALT, max_age=HANDLE_MAX_AGE)
    except signing.BadSignature:  # also an expired one
        raise Http404 from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise Http404
    learner_id = data.get("l")
    if not isinstance(learner_id, int):
        raise Http404
    return learner_id


@dataclass(frozen=True)
class Match:
    """An exact match: enough to confirm it is the right person (name, date of
    birth, postcode), then view. All of it comes from the learner row that the
    search read and logged (_logged_search), so showing it reads nothing more."""

    uln: str
    name: str
    date_of_birth: date
    postcode: str
    handle: str


@dataclass(frozen=True)
class Candidate:
    """One possible match: only what tells the candidates apart (no ULN, date of
    birth or full postcode), so the page cannot show more than that."""

    given_name: str
    middle_initial: str
    family_name: str
    gender: str
    outward_code: str
    handle: str


def _full_name(learner: Learner) -> str:
    names = (learner.given_name, learner.middle_names, learner.family_name)
    return " ".join(name for name in names if name)


def _candidate(learner: Learner, user: User) -> Candidate:
    return Candidate(
        given_name=learner.given_name,
        middle_initial=learner.middle_names[:1].upper(),
        family_name=learner.family_name,
        gender=learner.get_gender_display(),
        outward_code=postcode_outward(learner.postcode),
        handle=learner_handle(learner, user),
    )


# --- lookups ---------------------------------------------------------------------


@require_GET
@login_required
@lookup_gate
def find(request: HttpRequest) -> HttpResponse:
    return render(request, "records/find.html")


def _results(
    request: HttpRequest, result: LookupResult, *, search: str, searched_uln: str = ""
) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {"search": search}
    if result.learner is not None:
        learner = result.learner
        context["match"] = Match(
            uln=learner.uln,
            name=_full_name(learner),
            date_of_birth=learner.date_of_birth,
            postcode=learner.postcode,
            handle=learner_handle(learner, user),
        )
        if result.outcome == OUTCOME.LINKED_LEARNER_MATCH:
            context["searched_uln"] = searched_uln
            return render(request, "records/linked_match.html", context)
        return render(request, "records/match.html", context)
    if result.outcome == OUTCOME.POSSIBLE_MATCHES:
        context["candidates"] = [_candidate(c, user) for c in result.candidates]
        return render(request, "records/possible_matches.html", context)
    if result.outcome == OUTCOME.TOO_MANY_MATCHES:
        return render(request, "records/too_many_matches.html", context)
    return render(request, "records/no_match.html", context)


def _form_page(request: HttpRequest, template: str, form: forms.Form) -> HttpResponse:
    """A search form (empty, or with its errors), for those the gate lets through."""
    refusal = gate_refusal(request)
    if refusal is not None:
        return _refused(request, refusal)
    return render(request, template, {"form": form})


# A valid search is gated by the lookup service itself, inside the transaction
# that counts it against the caps and logs it, before any learner is read; so
# these two views do not ask the gate first as well. Every other response (the
# empty form, a form with errors) goes through _form_page, so a refused user
# sees the refusal and never the form.


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
@no_search_by_get
def find_by_uln(request: HttpRequest) -> HttpResponse:
    form = UlnSearchForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = learner_search_by_uln(
                user=_user(request),
                uln=form.cleaned_data["uln"],
                request_id=_request_id(request),
            )
        except LookupRefused as refused:
            return _refused(request, refused.refusal)
        return _results(
            request, result, search="uln", searched_uln=form.cleaned_data["uln"]
        )
    return _form_page(request, "records/find_by_uln.html", form)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
@no_search_by_get
def find_by_details(request: HttpRequest) -> HttpResponse:
    form = DemographicsSearchForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = learner_search_by_demographics(
                user=_user(request),
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                gender=data["gender"],
                postcode=data["postcode"],
                request_id=_request_id(request),
            )
        except LookupRefused as refused:
            return _refused(request, refused.refusal)
        return _results(request, result, search="details")
    return _form_page(request, "records/find_by_details.html", form)


@never_cache
@require_POST
@login_required
@lookup_gate
def view_record(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    learner_id = _handle_learner_id(request.POST.get("handle", ""), user)
    try:
        record = learner_view(
            user=user, learner_id=learner_id, request_id=_request_id(request)
        )
    except LookupRefused as refused:
        return _refused(request, refused.refusal)
    except Learner.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "records/record.html",
        {
            "learner": record.learner,
            "full_name": _full_name(record.learner),
            "achievements": record.achievements,
            "shared": record.shared,
        },
    )
