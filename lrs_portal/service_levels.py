"""Service levels on caseworkers' queues (issue 14, decision 0032).

A queue is a model admin's items in some statuses, each waiting since a moment
(a field). Its service level is settings.SERVICE_LEVEL_WORKING_DAYS[key]: an item
waiting more working days than that is overdue. A model admin names its queue
with ``service_level = ServiceLevelQueue(...)`` and mixes in
ServiceLevelAdminMixin: the changelist shows each item's age in working days,
"Overdue" in words for those past it, and filters to them; the admin home counts
each queue's overdue items, linking to that filter (LrsAdminSite.index).
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lrs_portal.working_days import working_day_back, working_days_between

PARAMETER = "service_level"


@dataclass(frozen=True)
class ServiceLevelQueue:
    key: str  # in settings.SERVICE_LEVEL_WORKING_DAYS
    label: str  # "Registration applications waiting for vetting"
    statuses: tuple[str, ...]  # the items of the queue
    since: str  # the field holding when the item began waiting
    # The changelist's own filter that shows the queue (added to the link).
    changelist_query: str = ""

    @property
    def days(self) -> int:
        return int(settings.SERVICE_LEVEL_WORKING_DAYS[self.key])

    def waiting(self) -> Q:
        return Q(status__in=self.statuses)

    def overdue_before(self, today: date | None = None) -> datetime:
        """Items waiting since before this moment (UK time) are overdue today."""
        today = today or timezone.localdate()
        first_late = working_day_back(today, self.days + 1)
        return timezone.make_aware(datetime.combine(first_late, time.min))

    def overdue(self, today: date | None = None) -> Q:
        return self.waiting() & Q(**{f"{self.since}__lt": self.overdue_before(today)})

    def age(self, obj: Any, today: date | None = None) -> int | None:
        """Working days the item has waited, or None when it is not waiting."""
        since = getattr(obj, self.since)
        if obj.status not in self.statuses or since is None:
            return None
        return working_days_between(
            timezone.localdate(since), today or timezone.localdate()
        )

    def counts(self, queryset: QuerySet[Any]) -> dict[str, int]:
        """How many items wait and how many are overdue: one query."""
        return queryset.aggregate(
            waiting=Count("pk", filter=self.waiting()),
            overdue=Count("pk", filter=self.overdue()),
        )


class ServiceLevelFilter(admin.SimpleListFilter):
    title = "service level"
    parameter_name = PARAMETER

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        queue: ServiceLevelQueue = model_admin.service_level
        return (("overdue", f"Overdue (over {queue.days} working days)"),)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "overdue":
            queue: ServiceLevelQueue = self.model_admin.service_level
            return queryset.filter(queue.overdue())
        return queryset

    def __init__(
        self, request: HttpRequest, params: Any, model: Any, model_admin: Any
    ) -> None:
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)


class ServiceLevelAdminMixin:
    """The age column, the overdue filter; the admin home's count reads
    ``service_level``."""

    service_level: ServiceLevelQueue

    @admin.display(description="Working days waiting")
    def working_days_waiting(self, obj: Any) -> SafeString | str:
        age = self.service_level.age(obj)
        if age is None:
            return "Not waiting"
        days = self.service_level.days
        if age > days:
            return format_html(
                '<strong class="overdue">Overdue: {} of {}</strong>', age, days
            )
        return f"{age} of {days}"

    def get_list_filter(self, request: HttpRequest) -> Any:
        return (ServiceLevelFilter, *super().get_list_filter(request))  # type: ignore[misc]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = tuple(super().get_list_display(request))  # type: ignore[misc]
        if "working_days_waiting" in shown:
            return shown
        return (*shown, "working_days_waiting")


def service_level_summary(
    request: HttpRequest, registry: dict[Any, Any]
) -> list[dict[str, Any]]:
    """Each queue the user may see: its label, service level, waiting and overdue
    counts (of what its model admin shows them), and the link to its overdue
    items. One query a queue."""
    rows = []
    for model, model_admin in registry.items():
        queue: ServiceLevelQueue | None = getattr(model_admin, "service_level", None)
        if queue is None or not model_admin.has_view_permission(request):
            continue
        counts = queue.counts(model_admin.get_queryset(request))
        info = model._meta.app_label, model._meta.model_name
        link = reverse("admin:{}_{}_changelist".format(*info))
        query = "&".join(
            q for q in (queue.changelist_query, f"{PARAMETER}=overdue") if q
        )
        rows.append(
            {
                "label": queue.label,
                "days": queue.days,
                "waiting": counts["waiting"],
                "overdue": counts["overdue"],
                "link": f"{link}?{query}",
            }
        )
    return sorted(rows, key=lambda row: row["label"])
