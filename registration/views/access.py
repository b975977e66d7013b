"""Who reaches the provider's pages, as decorators for the views.

Anything that is not the person's own (another applicant's application, another
organisation's users, an organisation without access) is a 404, never a 403
(architecture.md rule 6).
"""

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Concatenate, ParamSpec
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from lrs_portal.models import User
from registration import permissions
from registration.models import Membership, RegistrationApplication
from registration.services import application_start

P = ParamSpec("P")
# Whom login() records as having authenticated a new account (no password check).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OPEN_STATUSES = (
    RegistrationApplication.Status.DRAFT,
    RegistrationApplication.Status.SUBMITTED,
    RegistrationApplication.Status.MORE_INFO_REQUESTED,
)


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in person (views behind @login_required only)."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    return user


def open_application(user: User) -> RegistrationApplication:
    """The person's open application, started on their first visit.

    A member of an organisation does not apply again (approval would move them to
    the new organisation), unless they already have an open application, like a
    re-registration after revocation.
    """
    own = permissions.applications_visible_to(user)
    is_member = Membership.objects.filter(user=user).exists()
    if is_member and not own.filter(status__in=OPEN_STATUSES).exists():
        raise Http404
    return application_start(applicant=user)


def editable_application(
    view: Callable[Concatenate[HttpRequest, RegistrationApplication, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pass the applicant's open application; once submitted, show where it stands."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        user = signed_in_user(request)
        application = open_application(user)
        if not permissions.can_edit_application(user, application):
            return redirect(application)
        return view(request, application, *args, **kwargs)

    return wrapper


def own_application(user: User, reference: str) -> RegistrationApplication:
    """One of the person's own applications, or 404."""
    application = (
        permissions.applications_visible_to(user).filter(reference=reference).first()
    )
    if application is None:
        raise Http404
    return application


def membership_of(user: User) -> Membership:
    """The person's membership of an organisation that can use the LRS, or 404."""
    membership = (
        Membership.objects.select_related("organisation", "user")
        .filter(user=user)
        .first()
    )
    if membership is None or not membership.organisation.can_use_lrs:
        raise Http404
    return membership


def super_user_only(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The page an organisation's user meets on its super user's pages: who can
    use them (or, for a suspended super user, why not now)."""
    return render(
        request,
        "registration/org_super_user_only.html",
        {"membership": membership},
        status=HTTPStatus.FORBIDDEN,
    )


def terms_first(request: HttpRequest) -> HttpResponse:
    query = urlencode({"next": request.path})
    return redirect(f"{reverse('registration:user-terms')}?{query}")


def organisation_member(
    view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pass the person's membership; the user terms come first."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        membership = membership_of(signed_in_user(request))
        if membership.terms_accepted_at is None:
            return terms_first(request)
        return view(request, membership, *args, **kwargs)

    return wrapper


def organisation_super_user(
    view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pass the super user's membership; the organisation's other users learn
    who manages it (403), anyone else gets 404."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        membership = membership_of(signed_in_user(request))
        if not permissions.can_manage_users(membership.user, membership.organisation):
            return super_user_only(request, membership)
        if membership.terms_accepted_at is None:
            return terms_first(request)
        return view(request, membership, *args, **kwargs)

    return wrapper


def secret_link_page(
    view: Callable[P, HttpResponse],
) -> Callable[P, HttpResponse]:
    """Pages opened from an emailed single-use link (the token is in the path).

    Never cached, and a Referer of the origin only, so the path reaches no cache,
    site or proxy log. (Not "no-referrer": browsers then send "Origin: null" with
    the page's form, which fails the CSRF check.)
    """

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        response = view(*args, **kwargs)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "strict-origin"
        return response

    return wrapper


def link_expired(request: HttpRequest, *, what: str) -> HttpResponse:
    """The same page for an unknown, used, expired or cancelled link: no details."""
    response = render(
        request,
        "registration/sign_link_expired.html",
        {"what": what},
        status=HTTPStatus.GONE,
    )
    # Django logs every 4xx with its path, which here holds the token.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
