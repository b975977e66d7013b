"""The token endpoint's rules for API clients, in django-oauth-toolkit's validator.

POST /api/v1/token accepts only the client credentials grant, with the client's
id and secret in HTTP Basic authentication (never in the body, where they reach
more logs). A client's secret is its Application's (hashed), or for a grace
period after a rotation the previous one (hashed on ApiClient). A revoked or
expired client, or a call from outside its IP ranges, gets no token.
"""

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password
from oauth2_provider.oauth2_validators import OAuth2Validator

from lrs_portal.security import client_ip_from_meta
from registration.api_clients import ApiClient

GRANT_TYPE = "client_credentials"


def api_client_of(application: Any) -> ApiClient | None:
    """The API client an Application belongs to, if it is one."""
    try:
        client = application.api_client
    except ApiClient.DoesNotExist:
        return None
    return client if isinstance(client, ApiClient) else None


class ApiClientOAuth2Validator(OAuth2Validator):  # type: ignore[misc]
    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        """HTTP Basic only, and only a client that may be used now from here."""
        if not self._authenticate_basic_auth(request):
            return False
        client = api_client_of(request.client)
        if client is None:
            return False
        address = client_ip_from_meta(request.headers)
        return client.refusal_code(address=address) is None

    def _authenticate_basic_auth(self, request: Any) -> bool:
        if super()._authenticate_basic_auth(request):
            return True
        # A known client id with a wrong secret: the previous secret, in its grace.
        client = api_client_of(request.client) if request.client else None
        if client is None or not client.previous_secret_valid():
            return False
        credentials = self._basic_credentials(request)
        if credentials is None or credentials[0] != client.client_id:
            return False
        return check_password(credentials[1], client.previous_secret_hash)

    def _basic_credentials(self, request: Any) -> tuple[str, str] | None:
        auth_string = self._extract_basic_auth(request)
        if not auth_string:
            return None
        try:
            decoded = base64.b64decode(auth_string).decode("utf-8")
            client_id, secret = map(unquote_plus, decoded.split(":", 1))
        except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return client_id, secret

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if grant_type != GRANT_TYPE:
            return False
        return bool(
            super().validate_grant_type(
                client_id, grant_type, client, request, *args, **kwargs
            )
        )
