"""The panel secretariat's side of a meeting: the agenda, attendance, minutes,
actions and the chair's sign-off (decision 17). Once signed, nothing about the
meeting's record changes."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    DataShareRequest,
    Decision,
    MeetingAction,
    MeetingAttendance,
    MeetingMinutes,
    PanelMeeting,
    PanelVote,
)
from approvals.services.requests import Refused
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status


def meeting_agenda(meeting: PanelMeeting) -> QuerySet[DataShareRequest]:
    """The requests placed on the meeting, and those it decided (a deferred
    request leaves the meeting but stays on its agenda)."""
    return (
        DataShareRequest.objects.filter(
            Q(panel_meeting=meeting) | Q(decisions__meeting=meeting)
        )
        .distinct()
        .select_related("organisation", "assessor")
        .order_by("reference")
    )


def minutes_of(meeting: PanelMeeting) -> MeetingMinutes | None:
    return MeetingMinutes.objects.filter(meeting=meeting).first()


def is_signed(meeting: PanelMeeting) -> bool:
    """Whether the chair has signed the meeting's minutes."""
    return MeetingMinutes.objects.filter(
        meeting=meeting, signed_at__isnull=False
    ).exists()


def _keepable(meeting: PanelMeeting, acting_user: User) -> None:
    if not permissions.can_keep_minutes(acting_user, meeting):
        raise PermissionError("You cannot keep this meeting's record")
    if is_signed(meeting):
        raise Refused(["The minutes are signed: the meeting's record is closed"])


def _held(meeting: PanelMeeting) -> None:
    if meeting.held_on > timezone.localdate():
        raise Refused(
            [f"The meeting is on {meeting.held_on:%d %B %Y}: record it on or after"]
        )


def attendance_record(
    *, meeting: PanelMeeting, acting_user: User, member: User, status: str
) -> MeetingAttendance:
    """Record that a member attended or sent apologies (again, to correct it)."""
    _keepable(meeting, acting_user)
    _held(meeting)
    if not meeting.members.filter(pk=member.pk).exists():
        raise Refused([f"{member} is not a member of this meeting"])
    if status not in MeetingAttendance.Status.values:
        raise Refused(["Choose whether they attended or sent apologies"])
    with transaction.atomic():
        row = (
            MeetingAttendance.objects.select_for_update()
            .filter(meeting=meeting, member=member)
            .first()
        )
        if row is None:
            row = MeetingAttendance(meeting=meeting, member=member)
        elif row.status == status:
            return row
        row.status = status
        row.recorded_by = acting_user
        row.recorded_at = timezone.now()
        label = MeetingAttendance.Status(status).label
        try:
            with transaction.atomic():
                return save_with_history(
                    row, acting_user=acting_user, reason=f"{member}: {label}"
                )
        except IntegrityError:  # recorded twice at once
            raise Refused(
                ["Attendance was recorded at the same time: reload"]
            ) from None


def minutes_write(
    *, meeting: PanelMeeting, acting_user: User, discussion: str
) -> MeetingMinutes:
    """Write (or rewrite) the minutes' summary of the discussion before sign-off."""
    _keepable(meeting, acting_user)
    _held(meeting)
    if not discussion.strip():
        raise Refused(["Write a summary of the discussion"])
    with transaction.atomic():
        minutes = (
            MeetingMinutes.objects.select_for_update().filter(meeting=meeting).first()
        )
        first = minutes is None
        minutes = minutes or MeetingMinutes(meeting=meeting)
        minutes.discussion = discussion
        minutes.written_by = acting_user
        minutes.written_at = timezone.now()
        return save_with_history(
            minutes,
            acting_user=acting_user,
            reason="Minutes written" if first else "Minutes revised",
        )


def action_add(
    *,
    meeting: PanelMeeting,
    acting_user: User,
    description: str,
    owner: str,
    due_on: date | None = None,
    request: DataShareRequest | None = None,
) -> MeetingAction:
    """Record an action the panel agreed: what, who and (optionally) by when."""
    _keepable(meeting, acting_user)
    _held(meeting)
    problems = []
    if not description.strip():
        problems.append("Describe the action")
    if not owner.strip():
        problems.append("Say who does it")
    if request is not None and not meeting_agenda(meeting).filter(pk=request.pk):
        problems.append(f"{request.reference} is not on this meeting's agenda")
    if due_on is not None and due_on < meeting.held_on:
        problems.append("The action cannot be due before the meeting")
    if problems:
        raise Refused(problems)
    action = MeetingAction(
        meeting=meeting,
        request=request,
        description=description,
        owner=owner,
        due_on=due_on,
        recorded_by=acting_user,
    )
    return save_with_history(action, acting_user=acting_user, reason="Action recorded")


def sign_off_blockers(meeting: PanelMeeting) -> list[str]:
    """What stops the chair signing the minutes, in plain words."""
    blockers = []
    if meeting.held_on > timezone.localdate():
        blockers.append("The meeting has not been held yet.")
    minutes = minutes_of(meeting)
    if minutes is None:
        blockers.append("The secretariat has not written the minutes.")
    recorded = set(
        MeetingAttendance.objects.filter(meeting=meeting).values_list(
            "member_id", flat=True
        )
    )
    missing = meeting.members.exclude(pk__in=recorded)
    blockers += [f"Record whether {m} attended." for m in missing]
    open_items = DataShareRequest.objects.filter(panel_meeting=meeting, status=S.PANEL)
    blockers += [f"{r.reference} has no decision yet." for r in open_items]
    return blockers


def minutes_sign(*, meeting: PanelMeeting, acting_user: User) -> MeetingMinutes:
    """The chair signs the minutes; the meeting's record is then read-only."""
    if not permissions.can_sign_minutes(acting_user, meeting):
        raise PermissionError("Only the meeting's chair signs the minutes")
    with transaction.atomic():
        minutes = (
            MeetingMinutes.objects.select_for_update().filter(meeting=meeting).first()
        )
        if minutes is not None and minutes.is_signed:
            raise Refused(["The minutes are already signed"])
        blockers = sign_off_blockers(meeting)
        if blockers or minutes is None:
            raise Refused(blockers)
        minutes.signed_by = acting_user
        minutes.signed_at = timezone.now()
        return save_with_history(
            minutes,
            acting_user=acting_user,
            reason="Minutes signed by the chair",
            fields=["signed_by", "signed_at"],
        )


# --- what the minutes record --------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    """One request on the agenda, with what the meeting did about it."""

    request: DataShareRequest
    decision: Decision | None
    votes: list[PanelVote]
    conflicts: list[PanelVote]
    actions: list[MeetingAction]


def minutes_items(meeting: PanelMeeting) -> list[AgendaItem]:
    """Each request on the agenda with its decision, votes, conflicts and actions,
    from the records themselves (the minutes never retype a decision)."""
    decisions = {d.request_id: d for d in meeting.decisions.select_related("chair")}
    votes = list(PanelVote.objects.filter(meeting=meeting).select_related("member"))
    actions = list(meeting.actions.all())
    items = []
    for request in meeting_agenda(meeting):
        mine = [v for v in votes if v.request_id == request.pk]
        items.append(
            AgendaItem(
                request=request,
                decision=decisions.get(request.pk),
                votes=[v for v in mine if not v.conflict_declared],
                conflicts=[v for v in mine if v.conflict_declared],
                actions=[a for a in actions if a.request_id == request.pk],
            )
        )
    return items
