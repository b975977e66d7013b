"""The OpenAPI 3 document's parts drf-spectacular cannot infer: the problem
documents each operation may answer, request bodies that refuse unknown
fields, the Retry-After header of a 429, the Location of a 202, and the OAuth
2.0 security scheme."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from records.api.problems import CONTENT_TYPE


class ErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(
        allow_null=True,
        help_text="The body's field this is about; null for the body as a whole.",
    )
    detail = serializers.CharField(help_text="What is wrong, in the pages' words.")
    code = serializers.CharField(help_text="A stable name for the problem.")


class ProblemSerializer(serializers.Serializer[Any]):
    """A problem document (RFC 9457)."""

    type = serializers.CharField(
        help_text="A URI naming the kind of problem: about:blank when the status "
        "says it all."
    )
    title = serializers.CharField()
    status = serializers.IntegerField(min_value=100, max_value=599)
    detail = serializers.CharField()
    code = serializers.CharField(
        required=False,
        help_text="Why, as a stable name: for example user_suspended, user_cap, "
        "organisation_cap, not_authenticated.",
    )
    errors = ErrorSerializer(many=True, required=False)
    rows = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="A batch refused by a cap: the learners in its file to search.",
    )
    rows_that_fit = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="A batch refused by a cap: how many the caps leave room for now.",
    )


def problem_response(description: str, serializer: Any = ProblemSerializer) -> Any:
    return OpenApiResponse(response=serializer, description=description)


INVALID = {
    (400, CONTENT_TYPE): problem_response(
        "The body is not a valid request: each bad field is named in errors "
        "(a body that is not JSON at all has no errors list)."
    ),
}
REFUSALS = {
    (401, CONTENT_TYPE): problem_response(
        "No token, or not a token this service issued."
    ),
    (403, CONTENT_TYPE): problem_response(
        "Refused, in the portal's words: the organisation or member is suspended, "
        "the agreement is not signed, the client is revoked or expired..."
    ),
    (429, CONTENT_TYPE): problem_response(
        "A real-time lookup cap is reached (code user_cap or organisation_cap), "
        "or the client sent more requests a second than its rate limit. "
        "Retry-After says in how many seconds to try again."
    ),
}


def one_of(name: str, serializers_: list[Any]) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name, serializers=serializers_, resource_type_field_name=None
    )


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until a call may succeed.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
_LOCATION = {
    "Location": {
        "description": "The address of what was created (a batch: GET it for its "
        "status).",
        "schema": {"type": "string"},
    }
}
_DEFAULT = {
    "description": "Any other refusal (404, 405, 406, 415, 503), as a problem "
    "document.",
    "content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_OAUTH = {
    "type": "oauth2",
    "description": "OAuth 2.0 client credentials: see docs/api.md.",
    "flows": {"clientCredentials": {"tokenUrl": "/api/v1/token", "scopes": {}}},
}


def finish_schema(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: close request bodies, document
    Retry-After and the default problem, and name the security scheme."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    result["components"].setdefault("securitySchemes", {}).setdefault("oauth2", _OAUTH)
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method == "post":
                operation["requestBody"]["required"] = True
            responses = operation.setdefault("responses", {})
            if "429" in responses:
                responses["429"]["headers"] = _RETRY_AFTER
            if "202" in responses:
                responses["202"]["headers"] = _LOCATION
            responses.setdefault("default", _DEFAULT)
            operation.setdefault("security", [{"oauth2": []}])
    return result


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Tells drf-spectacular that ApiClientAuthentication is the OAuth 2.0
    scheme the hook above names (else its deploy check warns, W001)."""

    target_class = "records.api.authentication.ApiClientAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return _OAUTH
