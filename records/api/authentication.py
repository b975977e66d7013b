"""Who is calling the web service: the API client behind a bearer token, and
its member, refused on every request exactly as the pages refuse them.

``ApiClientAuthentication`` answers ``(member's user, api_client)``. Nothing is
cached: each request reads the token, the client and the member's membership
again (two queries), so a suspension, a revocation or an expiry stops the very
next call. The words of each refusal are the pages' own (records.permissions
REFUSALS, registration.api_clients CLIENT_REFUSALS) and each has a stable
``code``. Views that need a caller use ``ApiClientRequired``; public ones
(the schema and its documentation) need no token at all.
"""

import hashlib
from datetime import datetime
from typing import Any

from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from lrs_portal.models import User
from lrs_portal.security import client_ip
from records.permissions import REFUSALS, lookup_membership, lookup_refusal
from registration.api_clients import CLIENT_REFUSALS, ApiClient
from registration.services.api_clients import api_client_record_use

REALM = "LRS Portal API"
# What a caller is told.
MISSING = (
    "Send an access token in the Authorization header, as “Bearer” and the token. "
    "Get one from POST /api/v1/token with your client ID and secret."
)
INVALID = "The access token is not valid. Get a new one from POST /api/v1/token."
EXPIRED = (
    "The access token has expired: tokens last an hour. Get a new one from "
    "POST /api/v1/token."
)
ROTATED_AWAY = (
    "The access token was issued with a client secret that has since been "
    "changed. Get a new one from POST /api/v1/token with the new secret."
)
# A bearer token is a short run of URL-safe characters; anything longer is not one.
LONGEST = 255


def _forbidden(code: str, message: str) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(detail=message, code=code)


def _token(request: Request) -> str | None:
    """The bearer token sent, None when none was; AuthenticationFailed when the
    header is there but is not a bearer token."""
    header = get_authorization_header(request).split()
    if not header:
        return None
    if header[0].lower() != b"bearer":
        return None  # another scheme (Basic) is not ours to judge
    if len(header) != 2 or len(header[1]) > LONGEST:
        raise exceptions.AuthenticationFailed(INVALID, code="token_invalid")
    try:
        return str(header[1].decode("ascii"))
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed(INVALID, code="token_invalid") from None


class ApiClientAuthentication(BaseAuthentication):  # type: ignore[misc]
    def authenticate(self, request: Request) -> tuple[User, ApiClient] | None:
        token = _token(request)
        if token is None:
            return None
        api_client, issued_at = _client_of(token)
        refusal = api_client.refusal_code(address=client_ip(request._request))
        if refusal is not None:
            raise _forbidden(refusal, CLIENT_REFUSALS[refusal])
        if _got_with_old_secret(api_client, issued_at):
            raise exceptions.AuthenticationFailed(ROTATED_AWAY, code="token_invalid")
        member = api_client.member
        membership = lookup_membership(member)
        refused = lookup_refusal(member, membership)
        elsewhere = (
            membership is not None
            and membership.organisation_id != api_client.organisation_id
        )
        if refused is None and elsewhere:
            refused = REFUSALS["not_a_member"]
        if refused is not None:
            raise _forbidden(refused.code, refused.message)
        api_client_record_use(api_client=api_client)
        return member, api_client

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{REALM}"'


def _got_with_old_secret(api_client: ApiClient, issued_at: datetime) -> bool:
    """A token issued before the secret was changed, once the old secret's
    grace is over (tokens got with the old secret during the grace still end
    within their hour)."""
    rotated = api_client.secret_rotated_at
    if rotated is None or issued_at >= rotated:
        return False
    return not api_client.previous_secret_valid()


def _client_of(token: str) -> tuple[ApiClient, datetime]:
    """The API client a live token was issued to, and when it was issued;
    AuthenticationFailed if there is none."""
    checksum = hashlib.sha256(token.encode("ascii")).hexdigest()
    found = (
        AccessToken.objects.select_related(
            "application__api_client__member", "application__api_client__organisation"
        )
        .filter(token_checksum=checksum)
        .first()
    )
    if found is None:
        raise exceptions.AuthenticationFailed(INVALID, code="token_invalid")
    if found.expires <= timezone.now():
        raise exceptions.AuthenticationFailed(EXPIRED, code="token_expired")
    try:
        api_client: ApiClient = found.application.api_client
    except (ApiClient.DoesNotExist, AttributeError):
        raise exceptions.AuthenticationFailed(INVALID, code="token_invalid") from None
    return api_client, found.created


class ApiClientRequired(BasePermission):  # type: ignore[misc]
    """Only a caller authenticated by an API client; no token is a 401 that says
    how to get one (DRF's own would say "credentials were not provided")."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiClient):
            return True
        raise exceptions.NotAuthenticated(detail=MISSING, code="token_missing")
