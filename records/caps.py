"""The real-time caps on lookups (decision 8, decision 26): what they count, the
organisation's daily cap, what a member may still search (lookup_allowance), the
check the gate makes inside a lookup's transaction (cap_refusal, which raises
the usage alert when a cap is reached) and when a cap that refused frees again.

records.services runs the check on every lookup, under the organisation's caps
lock; a batch asks it for a chunk of rows at once (records.batches).
"""

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from lrs_portal.models import User, system_user
from lrs_portal.transitions import save_with_history
from records.models import LearnerView, UsageAlert
from records.permissions import REFUSALS, Refusal
from registration.models import Membership, Organisation

_SEARCHES = (LearnerView.Action.SEARCH_ULN, LearnerView.Action.SEARCH_DEMOGRAPHICS)
# What the caps count: every search, and every record view that no counted
# search led to. A page's record view follows the page's search; a learning
# events call (API) finds a learner by ULN and names with no search before it,
# so it is a search for the caps, or an MIS could check identities uncounted.
_COUNTED = Q(action__in=_SEARCHES) | (
    Q(action=LearnerView.Action.VIEW_RECORD) & ~Q(channel=LearnerView.Channel.PAGE)
)
OUTCOME = LearnerView.Outcome


def organisation_daily_cap(organisation: Organisation) -> int:
    """Lookups a day: a multiple of the organisation's expected daily volume."""
    expected = organisation.estimated_learners_per_year / settings.LOOKUP_WORKING_DAYS
    return max(
        settings.LOOKUP_ORG_DAILY_MINIMUM,
        math.ceil(expected * settings.LOOKUP_ORG_DAILY_MULTIPLIER),
    )


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


def _search_counts(
    membership: Membership, *, hour_ago: datetime, day_start: datetime
) -> tuple[int, int]:
    """The member's searches in the last hour and their organisation's today, in
    one query (refused ones do not count)."""
    mine = Q(user_id=membership.user_id, viewed_at__gte=hour_ago)
    ours = Q(organisation_id=membership.organisation_id, viewed_at__gte=day_start)
    counts = (
        LearnerView.objects.filter(mine | ours)
        .filter(_COUNTED)
        .exclude(outcome=OUTCOME.REFUSED)
        .aggregate(user=Count("pk", filter=mine), organisation=Count("pk", filter=ours))
    )
    return counts["user"], counts["organisation"]


def _alert(
    *, membership: Membership, rule: str, value: int, cap: int, user: bool
) -> None:
    subject = UsageAlert.Subject.USER if user else UsageAlert.Subject.ORGANISATION
    day = timezone.now().date()
    exists = UsageAlert.objects.filter(
        subject_type=subject,
        organisation=membership.organisation,
        user=membership.user if user else None,
        day=day,
        rule=rule,
    ).exists()
    if exists:
        return
    alert = UsageAlert(
        subject_type=subject,
        organisation=membership.organisation,
        user=membership.user if user else None,
        day=day,
        rule=rule,
        value=Decimal(value),
        threshold=Decimal(cap),
        details="Real-time cap reached: further lookups are blocked.",
    )
    try:
        with transaction.atomic():
            save_with_history(alert, acting_user=system_user(), reason="Cap reached")
    except IntegrityError:  # raised by a concurrent lookup at the same moment
        pass


@dataclass(frozen=True)
class Allowance:
    """What the caps leave today: the member's searches this hour and their
    organisation's today. ``searches`` is the smaller, what one more batch or
    call may use."""

    user_remaining: int
    organisation_remaining: int

    @property
    def searches(self) -> int:
        return min(self.user_remaining, self.organisation_remaining)


def lookup_allowance(membership: Membership) -> Allowance:
    """The searches the real-time caps still allow this member now (read only:
    the gate's own check runs again, locked, on every search)."""
    now = timezone.now()
    user_count, org_count = _search_counts(
        membership, hour_ago=now - timedelta(hours=1), day_start=_day_start(now)
    )
    return Allowance(
        user_remaining=max(0, settings.LOOKUP_USER_HOURLY_CAP - user_count),
        organisation_remaining=max(
            0, organisation_daily_cap(membership.organisation) - org_count
        ),
    )


def cap_refusal(membership: Membership, *, searches: int = 1) -> Refusal | None:
    """Refuse when ``searches`` more would pass a cap; raise the alert when they
    reach it (a single search: when a cap is reached already).

    Runs inside the lookup's transaction holding the member's row and the
    organisation's caps lock (records.pg.organisation_caps_lock), so that
    concurrent searches, by one person or by many in one organisation, cannot
    all slip under a cap (decision 26). A batch asks for its chunk of rows at once.
    """
    now = timezone.now()  # UTC
    user_cap = settings.LOOKUP_USER_HOURLY_CAP
    org_cap = organisation_daily_cap(membership.organisation)
    user_count, org_count = _search_counts(
        membership, hour_ago=now - timedelta(hours=1), day_start=_day_start(now)
    )
    if user_count + searches > user_cap:
        _alert(
            membership=membership,
            rule="realtime_user_hourly_cap",
            value=user_count,
            cap=user_cap,
            user=True,
        )
        return REFUSALS["user_cap"]
    if org_count + searches > org_cap:
        _alert(
            membership=membership,
            rule="realtime_org_daily_cap",
            value=org_count,
            cap=org_cap,
            user=False,
        )
        return REFUSALS["organisation_cap"]
    if user_count + searches == user_cap:
        _alert(
            membership=membership,
            rule="realtime_user_hourly_cap",
            value=user_cap,
            cap=user_cap,
            user=True,
        )
    if org_count + searches == org_cap:
        _alert(
            membership=membership,
            rule="realtime_org_daily_cap",
            value=org_cap,
            cap=org_cap,
            user=False,
        )
    return None


def lookup_cap_frees_in(*, user: User, code: str) -> int:
    """Seconds until the real-time cap that refused ``user`` lets them search
    again: their oldest counted search of the past hour leaves the hour, or
    their organisation's UTC day ends."""
    now = timezone.now()
    if code == "organisation_cap":
        return math.ceil((_day_start(now) + timedelta(days=1) - now).total_seconds())
    oldest = (
        LearnerView.objects.filter(
            _COUNTED, user_id=user.pk, viewed_at__gte=now - timedelta(hours=1)
        )
        .exclude(outcome=OUTCOME.REFUSED)
        .order_by("viewed_at")
        .values_list("viewed_at", flat=True)
        .first()
    )
    if oldest is None:  # the window moved on since the refusal
        return 1
    return max(1, math.ceil((oldest + timedelta(hours=1) - now).total_seconds()))
