"""What the records admin's modules share: paging, counting and sorting the large
tables (learners, achievements, the lookup log; usage alerts page the same way)
without reading them whole, the ULN-shaped search term, and the signed-in
caseworker."""

from math import ceil
from typing import Any, ClassVar, cast

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import cached_property

from lrs_portal.admin import ViewOnlyMixin
from lrs_portal.models import User
from records.pg import estimated_count
from registration.admin.base import CappedCountPaginator


def is_uln_shaped(term: str) -> bool:
    return len(term) == 10 and term.isascii() and term.isdigit()


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


# --- counting and paging without reading the whole table ---------------------------


class RecordsPaginator(CappedCountPaginator):
    """Never a COUNT(*) of a whole large table, and no page past the 10,000th row.

    Unfiltered, the count is the planner's estimate (records.pg.estimated_count);
    below LIMIT it is counted instead (capped), which is cheap and exact, so a
    never-analysed table's estimate of 0 cannot make the changelist think one
    page holds everything and load every row. Filtered, it counts at most LIMIT.
    """

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        if not queryset.query.where:
            estimate = estimated_count(queryset.model)
            if estimate >= self.LIMIT:
                self.count_is_estimate = True
                return estimate
        # In no order: the first LIMIT rows in any order count the same, and
        # without the page's ORDER BY the planner may use any index.
        return cast(int, queryset.order_by()[: self.LIMIT].count())

    @cached_property
    def num_pages(self) -> int:
        # Deep pages are slow OFFSETs; past the LIMIT, filter instead.
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, min(self.count, self.LIMIT) - self.orphans)
        return ceil(hits / self.per_page)

    @property
    def count_label(self) -> str:
        if self.count_is_estimate:
            return f"About {self.count:,}"
        if self.count >= self.LIMIT:
            return f"{self.LIMIT:,} or more"
        return f"{self.count:,}"


class LogPaginator(RecordsPaginator):
    """The log's lists count, and page, to its 1,000th row.

    A filter on an organisation or user and an action has to read each
    candidate row itself (the action is not in the index): at 10M rows,
    counting 10,000 of them reads some 16,000 table pages, 1,000 about 2,000.
    Past the 1,000th row, a narrower time or a ULN finds the rest.
    """

    LIMIT = 1_000


class SortableOnlyChangeList(ChangeList):
    """Ignores ?o= for columns outside sortable_by (an unindexed sort reads it all)."""

    def get_ordering_field(self, field_name: Any) -> Any:
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class LargeTableAdmin(ViewOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only for everyone, superusers too: rows are written only by code."""

    paginator = RecordsPaginator
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by: ClassVar[tuple[str, ...] | None] = ()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SortableOnlyChangeList
