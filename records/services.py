"""Learner lookups: the gate, the real-time caps, and the log row written in the
same transaction that reads the data (architecture.md rules 1 and 2).

The one gate for learner data (gate_membership, _counted) and the four lookups
through it are here; what the caps count and allow is records.caps, the matching
rule records.matching, closing a usage alert records.usage_alerts (each still
importable from here).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from lrs_portal.models import User
from records import pg
from records.caps import (
    Allowance,
    cap_refusal,
    lookup_allowance,
    lookup_cap_frees_in,
    organisation_daily_cap,
)
from records.links import learner_master
from records.matching import (
    CANDIDATE_LIMIT,
    POSSIBLE_MATCH_LIMIT,
    LookupResult,
    demographic_match,
    match_among,
    same_text,
)
from records.models import Achievement, Learner, LearnerView
from records.permissions import REFUSALS, Refusal, lookup_membership, lookup_refusal
from records.purpose_profile import learner_stamp
from records.uln import uln_problem
from records.usage_alerts import ALERT_TRANSITIONS, usage_alert_close
from registration.models import ApiClient, Membership
from registration.services import membership_record_lookup

# Moved to records.caps, records.matching and records.usage_alerts (issue 18) and
# still importable from here.
__all__ = [
    "ALERT_TRANSITIONS",
    "CANDIDATE_LIMIT",
    "POSSIBLE_MATCH_LIMIT",
    "Allowance",
    "LookupResult",
    "lookup_allowance",
    "lookup_cap_frees_in",
    "match_among",
    "organisation_daily_cap",
    "usage_alert_close",
]

T = TypeVar("T")
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


def learner_view_log(
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


def gate_membership(user: User, *, lock: bool = False) -> Membership:
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
        membership = gate_membership(user, lock=True)
        # Then the organisation's caps lock: its members' counts and log rows go one
        # at a time, or 20 at once could all count 24 under a cap of 25.
        pg.organisation_caps_lock(membership.organisation_id)
        refusal = cap_refusal(membership)
        if refusal is None:
            # The member's row is locked already: at most one UPDATE a day.
            membership_record_lookup(membership=membership)
            return run(membership)
        learner_view_log(
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
        learner_view_log(
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
        find=lambda: demographic_match(
            given_name, family_name, date_of_birth, gender, postcode
        ),
    )


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
    membership = gate_membership(user)
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
    learner_view_log(
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
            same_text(getattr(learner, name), typed)
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
        learner_view_log(
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
