"""Learner lookups: the gate, the real-time caps, and the log row written in the
same transaction that reads the data (architecture.md rules 1 and 2)."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Upper
from django.utils import timezone

from lrs_portal.models import User, system_user
from lrs_portal.transitions import save_with_history, transition
from records import pg
from records.links import learner_master
from records.models import Achievement, Learner, LearnerView, UsageAlert
from records.permissions import REFUSALS, Refusal, lookup_membership, lookup_refusal
from records.purpose import learner_stamp
from records.uln import uln_problem
from registration.models import ApiClient, Membership, Organisation
from registration.services import membership_record_lookup

POSSIBLE_MATCH_LIMIT = 10
# The learners with the family name and date of birth searched for that a search
# weighs: enough to tell "too many" from "possible" (records.services.match_among).
CANDIDATE_LIMIT = POSSIBLE_MATCH_LIMIT * 5 + 1
T = TypeVar("T")
_SEARCHES = (LearnerView.Action.SEARCH_ULN, LearnerView.Action.SEARCH_DEMOGRAPHICS)
# What the caps count: every search, and every record view that no counted
# search led to. A page's record view follows the page's search; a learning
# events call (API) finds a learner by ULN and names with no search before it,
# so it is a search for the caps, or an MIS could check identities uncounted.
_COUNTED = Q(action__in=_SEARCHES) | (
    Q(action=LearnerView.Action.VIEW_RECORD) & ~Q(channel=LearnerView.Channel.PAGE)
)
OUTCOME = LearnerView.Outcome
CHANNEL = LearnerView.Channel


class InvalidUln(ValueError):
    """A ULN that cannot be a learner's: refused before any search or log."""


class LookupRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


NOT_SHARED_CODE = "WSEC0206"  # the LRS: learner has not opted to share data
NOT_VERIFIED_CODE = "WSEC0208"  # the LRS: learner could not be verified
SHARED_CODE = "WSRC0004"  # the learner found and verified: the LRS's exact match


@dataclass
class LearnerRecord:
    """A learner's record as it may be shown: the demographics always, the
    achievements only when the learner may share them (else ``code``)."""

    learner: Learner
    achievements: list[Achievement]
    shared: bool
    code: str = ""


def learner_may_share(learner: Learner) -> bool:
    """Whether the learner's learning events may be shown: only when they have
    seen the privacy notice and may share (FPNSeenShareData). Not provided is
    treated as not shared, as the LRS does (decision 8)."""
    return learner.ability_to_share == Learner.AbilityToShare.NOTICE_SEEN


@dataclass
class LookupResult:
    outcome: str
    learner: Learner | None = None
    candidates: list[Learner] = field(default_factory=list)


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


def _cap_refusal(membership: Membership, *, searches: int = 1) -> Refusal | None:
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


def _log(
    *,
    membership: Membership,
    action: str,
    outcome: str,
    request_id: str,
    channel: str,
    learner_uln: str = "",
    match_count: int = 0,
    api_client: ApiClient | None = None,
    found: Learner | None = None,
) -> LearnerView:
    """The log row; a search that found exactly one learner (found: an exact
    match, the one outcome the audit's purpose profile counts) keeps their age
    band and postcode area for the nightly audit (learner_stamp), never their
    date of birth or postcode."""
    band, area = learner_stamp(found, timezone.now().date()) if found else (None, "")
    return LearnerView.objects.create(
        user_id=membership.user_id,
        organisation_id=membership.organisation_id,
        action=action,
        outcome=outcome,
        learner_uln=learner_uln,
        match_count=match_count,
        request_id=request_id[:64],
        channel=channel,
        api_client=api_client,
        learner_age_band=band,
        learner_area=area,
    )


def _gate(user: User, *, lock: bool = False) -> Membership:
    """The member, if the gate lets them through; else LookupRefused.

    With ``lock`` (inside a transaction) the member's row is locked; the search
    then takes the organisation's caps lock too (``_logged_search``).
    """
    membership = lookup_membership(user, lock=lock)
    refusal = lookup_refusal(user, membership)
    if refusal is not None or membership is None:
        raise LookupRefused(refusal or REFUSALS["not_a_member"])
    return membership


def _counted(
    *,
    user: User,
    action: str,
    request_id: str,
    channel: str,
    run: Callable[[Membership], T],
    searched_uln: str = "",
    api_client: ApiClient | None = None,
) -> T:
    """Gate, caps, then ``run`` (the read and its log row) in one transaction
    (rules 1, 2): every lookup the caps count goes through here.

    A refusal by a cap is logged too, and committed, before it is raised.
    """
    with transaction.atomic():
        membership = _gate(user, lock=True)
        # Then the organisation's caps lock: its members' counts and log rows go one
        # at a time, or 20 at once could all count 24 under a cap of 25.
        pg.organisation_caps_lock(membership.organisation_id)
        refusal = _cap_refusal(membership)
        if refusal is None:
            # The member's row is locked already: at most one UPDATE a day.
            membership_record_lookup(membership=membership)
            return run(membership)
        _log(
            membership=membership,
            action=action,
            outcome=OUTCOME.REFUSED,
            request_id=request_id,
            learner_uln=searched_uln,
            channel=channel,
            api_client=api_client,
        )
    raise LookupRefused(refusal)


def _logged_search(
    *,
    user: User,
    action: str,
    request_id: str,
    find: Callable[[], LookupResult],
    channel: str,
    searched_uln: str = "",
    api_client: ApiClient | None = None,
) -> LookupResult:
    """A search through the gate and caps, logged before it is returned. A ULN
    search logs the ULN searched for even when nobody has it, so that the
    nightly audit sees enumeration and a subject access report sees every search.
    """

    def run(membership: Membership) -> LookupResult:
        result = find()
        _log(
            membership=membership,
            action=action,
            outcome=result.outcome,
            learner_uln=result.learner.uln if result.learner else searched_uln,
            match_count=len(result.candidates) or (1 if result.learner else 0),
            request_id=request_id,
            channel=channel,
            api_client=api_client,
            found=result.learner if result.outcome == OUTCOME.EXACT_MATCH else None,
        )
        return result

    return _counted(
        user=user,
        action=action,
        request_id=request_id,
        channel=channel,
        run=run,
        searched_uln=searched_uln,
        api_client=api_client,
    )


def learner_search_by_uln(
    *,
    user: User,
    uln: str,
    request_id: str,
    channel: str = CHANNEL.PAGE,
    api_client: ApiClient | None = None,
) -> LookupResult:
    """Find a learner by ULN: exact match or no match, logged before it is shown;
    or, when the ULN was merged into another learner's record, that record as a
    linked learner match (WSRC0022), its ULN the one logged as matched."""
    problem = uln_problem(uln)
    if problem:
        raise InvalidUln(problem)

    def find() -> LookupResult:
        learner = Learner.objects.filter(uln=uln.strip()).select_related("link").first()
        master = learner_master(learner) if learner else None
        if master is not None:
            return LookupResult(OUTCOME.LINKED_LEARNER_MATCH, master)
        outcome = OUTCOME.EXACT_MATCH if learner else OUTCOME.NO_MATCH
        return LookupResult(outcome, learner)

    return _logged_search(
        user=user,
        action=LearnerView.Action.SEARCH_ULN,
        request_id=request_id,
        find=find,
        channel=channel,
        searched_uln=uln.strip(),
        api_client=api_client,
    )


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _postcode_key(value: str) -> str:
    return "".join(value.split()).upper()


def learner_search_by_demographics(
    *,
    user: User,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    gender: int,
    postcode: str,
    request_id: str,
    channel: str = CHANNEL.PAGE,
    api_client: ApiClient | None = None,
) -> LookupResult:
    """Find a learner by the five demographics, with the LRS's four outcomes."""
    return _logged_search(
        user=user,
        action=LearnerView.Action.SEARCH_DEMOGRAPHICS,
        request_id=request_id,
        channel=channel,
        api_client=api_client,
        find=lambda: _match(given_name, family_name, date_of_birth, gender, postcode),
    )


def _match(
    given_name: str, family_name: str, date_of_birth: date, gender: int, postcode: str
) -> LookupResult:
    # Family name and date of birth narrow the search through an expression index;
    # the other three demographics decide between exact and possible matches.
    candidates: list[Learner] = list(
        Learner.objects.annotate(family_upper=Upper("family_name"))
        .filter(family_upper=family_name.strip().upper(), date_of_birth=date_of_birth)
        # A merged record is answered through its master's (records.links).
        .filter(link__isnull=True)
        # Ordering by date of birth first keeps the planner on the expression
        # index (ordering by ULN alone tempts it into scanning the ULN index).
        .order_by("date_of_birth", "uln")[:CANDIDATE_LIMIT]
    )
    return match_among(
        candidates, given_name=given_name, gender=gender, postcode=postcode
    )


def match_among(
    candidates: list[Learner], *, given_name: str, gender: int, postcode: str
) -> LookupResult:
    """The LRS's four outcomes among the learners with the family name and date
    of birth searched for (at most CANDIDATE_LIMIT, in date of birth and ULN
    order): the one matching rule, for a single search and a batch alike."""
    wanted_postcode = _postcode_key(postcode)
    exact = [
        c
        for c in candidates
        if _same(c.given_name, given_name)
        and c.gender == gender
        and _postcode_key(c.postcode) == wanted_postcode
    ]
    if len(exact) == 1:
        return LookupResult(OUTCOME.EXACT_MATCH, exact[0])
    possible = [
        c
        for c in candidates
        if _same(c.given_name, given_name)
        or _postcode_key(c.postcode) == wanted_postcode
    ]
    if not possible:
        return LookupResult(OUTCOME.NO_MATCH)
    if len(possible) > POSSIBLE_MATCH_LIMIT:
        return LookupResult(OUTCOME.TOO_MANY_MATCHES)
    return LookupResult(OUTCOME.POSSIBLE_MATCHES, candidates=possible)


def learner_view(
    *,
    user: User,
    learner_id: int,
    request_id: str,
    channel: str = CHANNEL.PAGE,
    api_client: ApiClient | None = None,
) -> LearnerRecord:
    """Show one learner's record, logged before it is shown: the achievements only
    when the learner's ability to share allows it (else WSEC0206, on the log row
    as the outcome "not shared"). The one function for every channel.

    Viewing follows a search, so it does not count towards the caps, but the
    gate still applies: a suspension between search and view stops the view.
    """
    membership = _gate(user)
    with transaction.atomic():
        return _record_shown(
            membership=membership,
            learner=Learner.objects.get(pk=learner_id),
            request_id=request_id,
            channel=channel,
            api_client=api_client,
        )


def _record_shown(
    *,
    membership: Membership,
    learner: Learner,
    request_id: str,
    channel: str,
    api_client: ApiClient | None,
) -> LearnerRecord:
    """The record as it may be shown, its view logged (inside the caller's
    transaction): the one rule for ability to share, whatever the channel."""
    shared = learner_may_share(learner)
    # Withheld achievements are not even read.
    achievements = list(learner.achievements.all()) if shared else []
    _log(
        membership=membership,
        action=LearnerView.Action.VIEW_RECORD,
        outcome=OUTCOME.SHOWN if shared else OUTCOME.NOT_SHARED,
        learner_uln=learner.uln,
        match_count=1,
        request_id=request_id,
        channel=channel,
        api_client=api_client,
    )
    return LearnerRecord(
        learner=learner,
        achievements=achievements,
        shared=shared,
        code="" if shared else NOT_SHARED_CODE,
    )


def learner_learning_events(
    *,
    user: User,
    uln: str,
    given_name: str,
    family_name: str,
    request_id: str,
    channel: str = CHANNEL.PAGE,
    api_client: ApiClient | None = None,
) -> LearnerRecord | None:
    """A learner's learning events for a ULN and the names that go with it (the
    LRS's GetLearnerLearningEvents), for every channel: the record as
    learner_view shows it (ability to share decides, WSEC0206), or None when
    no learner has that ULN and those names (WSEC0208), logged as a record view
    that matched nobody. One log row a call either way, written before answering.
    """
    problem = uln_problem(uln)
    if problem:
        raise InvalidUln(problem)
    # It finds a learner with no search before it, so the caps count it as one,
    # through the same gate, caps locks and transaction as a search.
    wanted = uln.strip()

    def run(membership: Membership) -> LearnerRecord | None:
        learner = Learner.objects.filter(uln=wanted).first()
        if learner is not None and all(
            _same(getattr(learner, name), typed)
            for name, typed in zip(_NAMES, (given_name, family_name), strict=True)
        ):
            return _record_shown(
                membership=membership,
                learner=learner,
                request_id=request_id,
                channel=channel,
                api_client=api_client,
            )
        # Which of the two failed is not said: either would tell an unknown
        # caller whether the ULN is somebody's.
        _log(
            membership=membership,
            action=LearnerView.Action.VIEW_RECORD,
            outcome=OUTCOME.NO_MATCH,
            learner_uln=wanted,
            request_id=request_id,
            channel=channel,
            api_client=api_client,
        )
        return None

    return _counted(
        user=user,
        action=LearnerView.Action.VIEW_RECORD,
        request_id=request_id,
        channel=channel,
        run=run,
        searched_uln=wanted,
        api_client=api_client,
    )


_NAMES = ("given_name", "family_name")


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


ALERT_TRANSITIONS: dict[str, set[str]] = {
    UsageAlert.Status.OPEN: {UsageAlert.Status.CLOSED},
    UsageAlert.Status.CLOSED: set(),
}


def usage_alert_close(
    *, alert: UsageAlert, acting_user: User, reason: str, false_positive: bool = False
) -> UsageAlert:
    """A caseworker closes an alert, saying why (the one way its status changes);
    a false positive's pattern is then accepted by the purpose rules until it
    moves (records.purpose)."""
    return transition(
        instance=alert,
        to=UsageAlert.Status.CLOSED,
        allowed=ALERT_TRANSITIONS,
        acting_user=acting_user,
        reason=f"False positive: {reason}" if false_positive else reason,
        changes={"false_positive": True} if false_positive else None,
    )
