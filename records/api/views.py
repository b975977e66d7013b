"""The learner web service's operations (issue 12). Each calls the same records
service as the portal's pages, with the API channel, so the gate, the caps and
the log row before the answer are the pages' own (architecture.md rules 1, 2).

Search terms travel in POST bodies only, never in an address, and nothing here
logs them; every answer is sent with ``Cache-Control: no-store``.
"""

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lrs_portal.models import User
from records.api import schema
from records.api.problems import LookupRefusedError
from records.api.serializers import (
    DemographicsSearchSerializer,
    LearnerSearchResultSerializer,
    LearnerSerializer,
    LearningEventSerializer,
    LearningEventsLookupSerializer,
    LearningEventsResultSerializer,
    MeSerializer,
    UlnSearchSerializer,
    learner_search,
)
from records.models import LearnerView
from records.permissions import REFUSALS, Refusal, lookup_membership, lookup_refusal
from records.response_codes import lrs_response_code
from records.services import (
    NOT_VERIFIED_CODE,
    SHARED_CODE,
    InvalidUln,
    LookupRefused,
    LookupResult,
    learner_learning_events,
    learner_search_by_demographics,
    learner_search_by_uln,
    lookup_allowance,
    lookup_cap_frees_in,
)
from registration.models import ApiClient, Membership

API = LearnerView.Channel.API
CAPS = ("user_cap", "organisation_cap")


def _user(request: Request) -> User:
    if not isinstance(request.user, User):  # ApiClientRequired lets no one else by
        raise exceptions.NotAuthenticated
    return request.user


def _api_client(request: Request) -> ApiClient | None:
    """The client the call came from, for its log row."""
    return request.auth if isinstance(request.auth, ApiClient) else None


def _request_id(request: Request) -> str:
    return str(getattr(request, "request_id", ""))


def refused(user: User, refusal: Refusal) -> LookupRefusedError:
    """The gate's refusal in the pages' words: 429 with Retry-After for a cap."""
    if refusal.code in CAPS:
        return LookupRefusedError(
            detail=refusal.message,
            code=refusal.code,
            cap=True,
            wait=lookup_cap_frees_in(user=user, code=refusal.code),
        )
    return LookupRefusedError(detail=refusal.message, code=refusal.code)


def _member(user: User) -> Membership:
    membership = lookup_membership(user)
    refusal = lookup_refusal(user, membership)
    if refusal is not None or membership is None:
        raise refused(user, refusal or REFUSALS["not_a_member"])
    return membership


class ApiView(APIView):
    # Every operation's answer is private to its caller: never stored on the way.

    def finalize_response(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        *args: Any,
        **kwargs: Any,
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class MeView(ApiView):
    @extend_schema(
        operation_id="me",
        summary="Who is calling, and what the caps leave",
        responses={200: MeSerializer, **schema.REFUSALS},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        membership = _member(user)
        allowance = lookup_allowance(membership)
        return Response(
            {
                "organisation": {
                    "name": membership.organisation.legal_name,
                    "ukprn": membership.organisation.ukprn,
                },
                "member": {"email": user.email},
                "allowance": {
                    "user_remaining": allowance.user_remaining,
                    "organisation_remaining": allowance.organisation_remaining,
                    "searches": allowance.searches,
                },
            }
        )


def _learner(learner: Any) -> dict[str, Any]:
    return dict(LearnerSerializer(learner).data)


def _search_answer(result: LookupResult) -> dict[str, Any]:
    learners = [result.learner] if result.learner else result.candidates
    return {
        "outcome": result.outcome,
        "code": lrs_response_code(result.outcome),
        "learners": [_learner(learner) for learner in learners],
    }


class LearnerSearchesView(ApiView):
    @extend_schema(
        operation_id="learner_searches_create",
        summary="Find a learner by ULN or by the five demographics",
        request=schema.one_of(
            "LearnerSearch", [UlnSearchSerializer, DemographicsSearchSerializer]
        ),
        responses={
            200: LearnerSearchResultSerializer,
            **schema.INVALID,
            **schema.REFUSALS,
        },
        examples=[
            OpenApiExample("By ULN", value={"uln": "9276308686"}, request_only=True),
            OpenApiExample(
                "By the five demographics",
                value={
                    "given_name": "Amelia",
                    "family_name": "Hughes",
                    "date_of_birth": "2007-05-14",
                    "gender": 2,
                    "postcode": "LS2 9JT",
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        search = learner_search(request.data)
        user = _user(request)
        try:
            if "uln" in search:
                result = learner_search_by_uln(
                    user=user,
                    uln=search["uln"],
                    request_id=_request_id(request),
                    channel=API,
                    api_client=_api_client(request),
                )
            else:
                result = learner_search_by_demographics(
                    user=user,
                    request_id=_request_id(request),
                    channel=API,
                    api_client=_api_client(request),
                    **search,
                )
        except LookupRefused as refusal:
            raise refused(user, refusal.refusal) from None
        except InvalidUln as invalid:  # checked already; the service checks again
            raise exceptions.ValidationError({"uln": [str(invalid)]}) from None
        return Response(_search_answer(result))


class LearningEventsView(ApiView):
    @extend_schema(
        operation_id="learning_events_create",
        summary="A learner's learning events, for their ULN and names",
        request=LearningEventsLookupSerializer,
        responses={
            200: LearningEventsResultSerializer,
            **schema.INVALID,
            **schema.REFUSALS,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = LearningEventsLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _user(request)
        try:
            record = learner_learning_events(
                user=user,
                request_id=_request_id(request),
                channel=API,
                api_client=_api_client(request),
                **data,
            )
        except LookupRefused as refusal:
            raise refused(user, refusal.refusal) from None
        if record is None:
            return Response(
                {"uln": data["uln"], "code": NOT_VERIFIED_CODE, "learning_events": []}
            )
        return Response(
            {
                "uln": record.learner.uln,
                "code": record.code or SHARED_CODE,
                "learning_events": LearningEventSerializer(
                    record.achievements, many=True
                ).data,
            }
        )
