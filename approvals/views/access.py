"""Who reaches the requester's pages: a requester, for their organisation's
requests only. Anything else is a 404, never a 403 (architecture.md rule 6)."""

import re
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from approvals import permissions
from approvals.models import DataShareRequest
from lrs_portal.models import User

P = ParamSpec("P")


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    return user


_REFERENCE = re.compile(r"[A-Z0-9]{1,10}")


def own_request(user: User, reference: str) -> DataShareRequest:
    """One of the requester's organisation's requests, or 404 (a reference that
    cannot be one, like a NUL byte PostgreSQL would refuse, never reaches it)."""
    if not _REFERENCE.fullmatch(reference):
        raise Http404
    found = (
        permissions.requests_of_requester(user)
        .select_related("organisation")
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise Http404
    return found


def requester_page(
    view: Callable[Concatenate[HttpRequest, User, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed in, and a requester for an organisation."""

    @login_required
    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        user = signed_in_user(request)
        if not permissions.organisations_requesting_for(user).exists():
            raise Http404
        return view(request, user, *args, **kwargs)

    return wrapper


RequestView = Callable[..., HttpResponse]


def request_page(view: RequestView) -> RequestView:
    """The requester's own organisation's request, by reference, or 404.

    The view is called as view(request, user, data_share_request, **other_kwargs).
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, reference: str, **kwargs: object) -> HttpResponse:
        user = signed_in_user(request)
        return view(request, user, own_request(user, reference), **kwargs)

    return wrapper
