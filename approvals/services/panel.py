"""The rules that keep the panel's votes honest: a meeting's panel is fixed once
voting starts, votes only on or after the meeting's day, and votes set aside (not
deleted) when their member turns out to be conflicted. See decision 16."""

from datetime import date

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from approvals.models import (
    Assessment,
    DataShareRequest,
    PanelMeeting,
    PanelVote,
    ResearchOrganisation,
    SiroEscalation,
)
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status


def meeting_lock(meeting: PanelMeeting) -> PanelMeeting:
    """Lock the meeting's row: votes, conflicts and changes to its panel take it
    in turn, so a change cannot slip in between a vote's checks and its row."""
    return PanelMeeting.objects.select_for_update().get(pk=meeting.pk)


def voting_started(
    meeting: PanelMeeting, request: DataShareRequest | None = None
) -> bool:
    """Whether any member has voted or declared a conflict at the meeting (on the
    request, if one is given)."""
    votes = PanelVote.objects.filter(meeting=meeting)
    if request is not None:
        votes = votes.filter(request=request)
    return votes.exists()


def meeting_day_refusal(meeting: PanelMeeting, what: str) -> str | None:
    """Why ``what`` cannot be recorded yet: nothing is decided before the day of
    the meeting (the UK date)."""
    if meeting.held_on > timezone.localdate():
        return (
            f"{what} can be recorded only on or after the day of the meeting, "
            f"{meeting.held_on:%-d %B %Y}"
        )
    return None


def meeting_change_refusals(
    *,
    meeting: PanelMeeting | None,
    held_on: date | None,
    chair: User | None,
    members: list[User] | None,
) -> list[str]:
    """Why the meeting's date, chair or members cannot be set as asked. Once a
    vote or conflict is recorded at it, its panel is fixed: the request goes to a
    new meeting (the chair defers it) rather than have its voters changed."""
    problems = []
    before = meeting_lock(meeting) if meeting is not None and meeting.pk else None
    date_changed = before is None or before.held_on != held_on
    if held_on is not None and date_changed and held_on < timezone.localdate():
        problems.append("The meeting's date must be today or in the future")
    if before is None or not voting_started(before):
        return problems
    changed = []
    if before.held_on != held_on:
        changed.append("date")
    if chair is not None and before.chair_id != chair.pk:
        changed.append("chair")
    if members is not None and set(before.members.all()) != set(members):
        changed.append("members")
    if changed:
        problems.append(
            f"Voting has started at this meeting, so its {' and '.join(changed)} "
            "cannot change. To have a request decided by a different panel, the "
            "chair defers it and it goes to a new meeting."
        )
    return problems


def vote_set_aside(*, vote: PanelVote, acting_user: User, reason: str) -> PanelVote:
    """Stop a vote counting, keeping it (and who and why in its history)."""
    vote.set_aside_at = timezone.now()
    vote.set_aside_reason = reason
    return save_with_history(
        vote,
        acting_user=acting_user,
        reason=f"Vote set aside: {reason}",
        fields=[
            "set_aside_at",
            "set_aside_reason",
            "conflict_declared",
            "conflict_detail",
        ],
    )


def open_votes_of(
    user: User, organisation: ResearchOrganisation
) -> QuerySet[PanelVote]:
    """The person's counting votes on the organisation's requests still waiting
    for the panel at the meeting they were cast at."""
    return PanelVote.objects.filter(
        member=user,
        request__organisation=organisation,
        request__status=S.PANEL,
        request__panel_meeting=F("meeting"),
        conflict_declared=False,
        set_aside_at__isnull=True,
    )


def votes_set_aside_for_affiliation(
    *, user: User, organisation: ResearchOrganisation, acting_user: User
) -> int:
    """A member who joins the requesting organisation after voting has their
    vote on its open requests set aside; returns how many."""
    count = 0
    with transaction.atomic():
        for vote in open_votes_of(user, organisation).select_for_update():
            vote_set_aside(
                vote=vote,
                acting_user=acting_user,
                reason=f"{user} is now affiliated with {organisation}, the "
                "requesting organisation",
            )
            count += 1
    return count


def current_escalation(request: DataShareRequest) -> SiroEscalation | None:
    """The SIRO's latest answer since the request was assessed, if any."""
    assessment = Assessment.objects.filter(request=request).first()
    escalations = SiroEscalation.objects.filter(request=request)
    if assessment is not None:
        escalations = escalations.filter(recorded_at__gte=assessment.completed_at)
    return escalations.order_by("-recorded_at").first()
