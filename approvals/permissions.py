"""Who may see and do what in approvals: the only place permission strings live.

- Requesters act for their organisation: an object permission on it lets them
  see and edit its requests (so a colleague who joins later sees them too).
- Caseworkers and the SIRO hold model permissions and see every request.
- An assessor, and each member of a panel meeting, gets object permissions on
  the requests assigned to them, and sees only those.
- Nobody acts on a request from their own organisation (their Affiliation).

"Not found" and "not yours" both give 404 (architecture.md rule 6): views call
these and raise Http404 when they say no.
"""

from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from approvals.models import (
    Affiliation,
    DataShareRequest,
    PanelMeeting,
    PanelVote,
    ResearchOrganisation,
)
from lrs_portal import roles
from lrs_portal.models import User

_REQUEST_FOR = "approvals.request_data_researchorganisation"
_VIEW = "approvals.view_datasharerequest"
_ASSESS = "approvals.assess_datasharerequest"
_VOTE = "approvals.vote_datasharerequest"
_VIEW_MEETING = "approvals.view_panelmeeting"


# --- requesters ----------------------------------------------------------------------


def requester_permissions_grant(
    *, user: User, organisation: ResearchOrganisation
) -> None:
    """Make a person a requester for their organisation, and only for it."""
    user.groups.add(*Group.objects.filter(name=roles.DSAP_REQUESTER))
    assign_perm(_REQUEST_FOR, user, organisation)


def requester_permissions_revoke(
    *, user: User, organisation: ResearchOrganisation
) -> None:
    """A former requester no longer sees the organisation's requests."""
    user.groups.remove(*Group.objects.filter(name=roles.DSAP_REQUESTER))
    remove_perm(_REQUEST_FOR, user, organisation)


def organisations_requesting_for(user: User) -> QuerySet[ResearchOrganisation]:
    """The organisations a requester requests data for (their own)."""
    if not user.is_active:
        return ResearchOrganisation.objects.none()
    # Not even a superuser requests for an organisation they do not work for;
    # and a requester whose affiliation moved or ended loses the old one at once.
    return get_objects_for_user(
        user,
        _REQUEST_FOR,
        klass=ResearchOrganisation,
        accept_global_perms=False,
        with_superuser=False,
    ).filter(affiliations__user=user)


def requests_of_requester(user: User) -> QuerySet[DataShareRequest]:
    """A requester sees their organisation's requests, and nobody else's."""
    return DataShareRequest.objects.filter(
        organisation__in=organisations_requesting_for(user)
    )


def can_edit_request(user: User, request: DataShareRequest) -> bool:
    """A requester edits their organisation's request while it is a draft or
    returned for more information."""
    if not requests_of_requester(user).filter(pk=request.pk).exists():
        return False
    return request.is_editable


# --- department staff ---------------------------------------------------------------


def is_own_organisation(user: User, request: DataShareRequest) -> bool:
    """Whether the person works for the organisation that made the request."""
    return Affiliation.objects.filter(
        user=user, organisation_id=request.organisation_id
    ).exists()


def requests_visible_to_staff(user: User) -> QuerySet[DataShareRequest]:
    """Caseworkers and the SIRO see every request; assessors and panel members
    only those assigned to them."""
    if not user.is_active or not user.is_staff:
        return DataShareRequest.objects.none()
    if user.has_perm(_VIEW):
        return DataShareRequest.objects.all()
    return get_objects_for_user(
        user, _VIEW, klass=DataShareRequest, accept_global_perms=False
    )


def meetings_visible_to_staff(user: User) -> QuerySet[PanelMeeting]:
    """Caseworkers see every meeting; members only their own."""
    if not user.is_active or not user.is_staff:
        return PanelMeeting.objects.none()
    if user.has_perm(_VIEW_MEETING):
        return PanelMeeting.objects.all()
    return PanelMeeting.objects.filter(members=user)


def can_triage(user: User, request: DataShareRequest) -> bool:
    """Caseworkers triage, assign assessors and place requests on meetings."""
    if not user.is_active:
        return False
    if is_own_organisation(user, request):
        return False
    return user.has_perm("approvals.triage_datasharerequest")


def can_be_assessor(user: User, request: DataShareRequest) -> bool:
    """An assessor is an active assessor from outside the requesting organisation."""
    if not user.is_active or not user.is_staff:
        return False
    if is_own_organisation(user, request):
        return False
    return user.groups.filter(name=roles.DSAP_ASSESSOR).exists()


def can_assess(user: User, request: DataShareRequest) -> bool:
    """Only the assessor assigned to a request assesses it."""
    if not user.is_active:
        return False
    if request.assessor_id != user.pk:
        return False
    if is_own_organisation(user, request):
        return False
    return user.has_perm(_ASSESS, request)


def can_vote(user: User, request: DataShareRequest) -> bool:
    """A member of the request's meeting votes; never its assessor, never on a
    request from their own organisation."""
    if not user.is_active:
        return False
    if was_assessor(user, request):
        return False
    if is_own_organisation(user, request):
        return False
    meeting = request.panel_meeting
    if meeting is None:
        return False
    if not meeting.members.filter(pk=user.pk).exists():
        return False
    if _declared_conflict(user, request, meeting):
        return False
    return user.has_perm(_VOTE, request)


def can_declare_conflict(user: User, request: DataShareRequest) -> bool:
    """A member of the request's meeting declares a conflict, before or after
    voting, once."""
    if not user.is_active:
        return False
    meeting = request.panel_meeting
    if meeting is None:
        return False
    if not meeting.members.filter(pk=user.pk).exists():
        return False
    return not _declared_conflict(user, request, meeting)


def has_voted(user: User, request: DataShareRequest) -> bool:
    """Whether the member has a vote (counted or set aside) at the current meeting."""
    return (
        PanelVote.objects.filter(
            meeting_id=request.panel_meeting_id, request=request, member=user
        )
        .exclude(vote="")
        .exists()
    )


def _declared_conflict(
    user: User, request: DataShareRequest, meeting: PanelMeeting
) -> bool:
    return PanelVote.objects.filter(
        meeting=meeting, request=request, member=user, conflict_declared=True
    ).exists()


def can_decide(user: User, request: DataShareRequest) -> bool:
    """The chair of the request's meeting records the decision."""
    if not user.is_active:
        return False
    meeting = request.panel_meeting
    if meeting is None:
        return False
    if meeting.chair_id != user.pk:
        return False
    if was_assessor(user, request):
        return False
    if is_own_organisation(user, request):
        return False
    if _declared_conflict(user, request, meeting):
        return False  # a conflicted chair records nothing: another chair must
    return user.has_perm(_VOTE, request)


def was_assessor(user: User, request: DataShareRequest) -> bool:
    """Whether the person assesses the request now or ever did (a request
    returned and assessed again keeps its first assessor off the panel)."""
    if request.assessor_id == user.pk:
        return True
    return bool(request.history.filter(assessor_id=user.pk).exists())


def can_accept_risk(user: User, request: DataShareRequest) -> bool:
    """Only the senior information risk owner accepts risk above the appetite."""
    if not user.is_active:
        return False
    if is_own_organisation(user, request):
        return False
    return user.has_perm("approvals.accept_risk_datasharerequest")


def can_set_risk_appetite(user: User) -> bool:
    """The senior information risk owner sets the department's risk appetite."""
    return is_siro(user)


def can_release(user: User, request: DataShareRequest) -> bool:
    """Caseworkers release data and accept destruction certificates."""
    if not user.is_active:
        return False
    if is_own_organisation(user, request):
        return False
    return user.has_perm("approvals.release_datasharerequest")


def is_siro(user: User) -> bool:
    return user.is_active and user.has_perm("approvals.accept_risk_datasharerequest")


# --- object permissions granted by the services -------------------------------------


def assessor_permissions_grant(*, user: User, request: DataShareRequest) -> None:
    """The assigned assessor sees and assesses this request."""
    assign_perm(_VIEW, user, request)
    assign_perm(_ASSESS, user, request)


def assessor_permissions_revoke(*, user: User, request: DataShareRequest) -> None:
    remove_perm(_VIEW, user, request)
    remove_perm(_ASSESS, user, request)


def panel_permissions_grant(
    *, meeting: PanelMeeting, request: DataShareRequest
) -> None:
    """Each member of the meeting sees the request and may vote on it; the
    request's assessor is not given the vote."""
    for member in meeting.members.all():
        assign_perm(_VIEW, member, request)
        if member.pk != request.assessor_id:
            assign_perm(_VOTE, member, request)


def panel_permissions_revoke(
    *, meeting: PanelMeeting, request: DataShareRequest
) -> None:
    """Members of an earlier meeting lose the vote (they keep sight of it)."""
    for member in meeting.members.all():
        remove_perm(_VOTE, member, request)


def panel_permissions_sync(*, meeting: PanelMeeting) -> None:
    """After the members change: members of the meeting, and only they, vote on
    its requests that are still open."""
    members = set(meeting.members.all())
    for request in meeting.requests.filter(status=DataShareRequest.Status.PANEL):
        panel_permissions_grant(meeting=meeting, request=request)
        for holder in get_users_with_vote(request):
            if holder not in members:
                remove_perm(_VOTE, holder, request)


def get_users_with_vote(request: DataShareRequest) -> list[User]:
    from guardian.shortcuts import get_users_with_perms

    holders = get_users_with_perms(
        request, only_with_perms_in=["vote_datasharerequest"], with_superusers=False
    )
    return list(holders)


# --- the secretariat (decision 17) ---------------------------------------------------


def can_keep_minutes(user: User, meeting: PanelMeeting) -> bool:
    """Caseworkers (the secretariat) record attendance, minutes and actions,
    never for a meeting deciding a request from their own organisation."""
    if not user.is_active:
        return False
    if not user.has_perm("approvals.triage_datasharerequest"):
        return False
    organisations = DataShareRequest.objects.filter(
        Q(panel_meeting=meeting) | Q(decisions__meeting=meeting)
    ).values("organisation_id")
    return not Affiliation.objects.filter(
        user=user, organisation_id__in=organisations
    ).exists()


def can_sign_minutes(user: User, meeting: PanelMeeting) -> bool:
    """Only the meeting's chair signs its minutes."""
    if not user.is_active:
        return False
    return meeting.chair_id == user.pk


def can_read_papers(user: User, meeting: PanelMeeting) -> bool:
    """Members read the papers of the meetings they sit on; caseworkers of all."""
    return meetings_visible_to_staff(user).filter(pk=meeting.pk).exists()


def papers_withheld(
    user: User, meeting: PanelMeeting, request: DataShareRequest
) -> bool:
    """A member gets no papers for a request they declared a conflict on, or
    one from their own organisation."""
    if is_own_organisation(user, request):
        return True
    return _declared_conflict(user, request, meeting)


def can_see_dashboard(user: User) -> bool:
    """The DSAP dashboard and exports: caseworkers and the SIRO (who see every
    request), never an assessor or member limited to their own."""
    if not user.is_active or not user.is_staff:
        return False
    return user.has_perm(_VIEW)


def can_keep_case_file(user: User, request: DataShareRequest) -> bool:
    """Caseworkers add notes, attachments and correspondence to a request."""
    return can_triage(user, request)


def can_read_case_file(user: User, request: DataShareRequest) -> bool:
    """Anyone in the department who sees the request reads its case file."""
    return requests_visible_to_staff(user).filter(pk=request.pk).exists()
