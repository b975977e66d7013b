"""List filters of the caseworkers' admin whose default choice is the queue a
caseworker lands on: registration applications and re-verification cases."""

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from registration.models import (
    FollowUpDiscussion,
    RegistrationApplication,
    ReverificationCase,
)

A = RegistrationApplication.Status


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter whose default choice applies while no other filter or search does.

    The queue a caseworker lands on is the default; searching for a reference or
    choosing a status looks across everything instead.
    """

    default = ""
    ALL = "all"
    _NOT_FILTERS = frozenset({"o", "p", "e", "_popup", "_to_field", "_facets"})

    def __init__(
        self, request: HttpRequest, params: Any, model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        others = set(request.GET) - self._NOT_FILTERS - {self.parameter_name}
        self.fallback = self.ALL if others else self.default

    def current(self) -> str:
        return self.value() or self.fallback

    def choices(self, changelist: Any) -> Iterator[Any]:
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else {}
        for i, (lookup, title) in enumerate(self.lookup_choices):
            count = counts.get(f"{i}__c")
            yield {
                "selected": self.current() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title if count is None else f"{title} ({count})",
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.current()
        if value == self.ALL:
            return queryset
        return self.filter_to(queryset, value)

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        raise NotImplementedError


class QueueFilter(DefaultChoiceFilter):
    title = "queue"
    parameter_name = "queue"
    default = "submitted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (
            ("submitted", "Submitted"),
            ("awaiting_information", "Awaiting information"),
            ("exceptions", "Exceptions awaiting discussion"),
            (self.ALL, "All"),
        )

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        if value == "submitted":
            return queryset.filter(status=A.SUBMITTED)
        if value == "awaiting_information":
            return queryset.filter(status=A.MORE_INFO_REQUESTED)
        if value == "exceptions":
            acceptable = FollowUpDiscussion.objects.filter(
                application=OuterRef("pk"), purpose_acceptable=True
            )
            return queryset.filter(
                ~Exists(acceptable),
                status=A.SUBMITTED,
                purpose=RegistrationApplication.Purpose.OTHER,
            )
        return queryset.none()


class CaseStatusFilter(DefaultChoiceFilter):
    title = "status"
    parameter_name = "status"
    default = ReverificationCase.Status.OPEN

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (*ReverificationCase.Status.choices, (self.ALL, "All"))

    def filter_to(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return queryset.filter(status=value)
