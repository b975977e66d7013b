"""Demo data shares for `manage.py seed_demo` (after lrs_portal's accounts): a
research institute with Rhea Jones as its requester, a request waiting for
triage, one on the agenda of today's panel meeting (so it can be voted on and
decided), and one approved and
released at a meeting whose minutes the chair has signed (so the public register
has a row, with a summary a second caseworker approved). Every step goes through
approvals.services; a second run finds the references and changes nothing."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from approvals import services
from approvals.models import (
    FIVE_SAFES,
    DataShareRequest,
    PanelMeeting,
    RequestedDataset,
    Researcher,
    ResearchOrganisation,
)
from approvals.services.casefile import (
    note_add,
    public_summary_approve,
    public_summary_write,
)
from approvals.services.meetings import (
    action_add,
    attendance_record,
    minutes_sign,
    minutes_write,
)
from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

REQUESTER = "rhea.jones@research-institute.example.com"
CASEWORKER = "caseworker@education.example.com"
ASSESSOR = "assessor@education.example.com"
PANEL = "panel@education.example.com"
# Two more panel members, so a meeting can be quorate (lrs_portal's demo makes
# them first, with the demo password; here only if it did not).
OTHER_MEMBERS = (
    ("panel.two@education.example.com", "Dev Okoro"),
    ("panel.three@education.example.com", "Mary Lindqvist"),
)
# A second caseworker approves the public summary the first wrote (no password).
SECOND_CASEWORKER = ("caseworker.two@education.example.com", "Sam Adeyemi")
PROJECTS = {
    "DS00101": "Attendance after the pandemic in coastal towns",
    "DS00102": "Pupil mobility and attainment at key stage 4",
    "DS00103": "Free school meals and post-16 destinations",
}


def _member(email: str, name: str, role: str = roles.DSAP_PANEL_MEMBER) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=name, is_staff=True)
        user.set_unusable_password()
        user.save()
        user.groups.add(*Group.objects.filter(name=role))
    return user


def _draft(
    reference: str, organisation: ResearchOrganisation, by: User
) -> DataShareRequest:
    today = timezone.localdate()
    share = DataShareRequest(
        reference=reference,
        organisation=organisation,
        requester=by,
        project_title=PROJECTS[reference],
        summary="How this changed, to inform the department's policy and the sector.",
        research_interest="Attendance, disadvantage and post-16 outcomes.",
        legal_gateway=DataShareRequest.LegalGateway.DEA,
        lawful_basis=DataShareRequest.LawfulBasis.PUBLIC_TASK,
        special_category=False,
        linkage=False,
        records_expected=120_000,
        access_route=DataShareRequest.AccessRoute.SAFE_ROOM,
        start_date=today + timedelta(days=30),
        end_date=today + timedelta(days=2 * 365),
        retention_plan="Kept only in the ONS Secure Research Service; deleted there "
        "at the end of the project.",
    )
    save_with_history(share, acting_user=by, reason="Demo request")
    for year in ("2018/19", "2019/20"):
        RequestedDataset.objects.create(request=share, academic_year=year, tier=2)
    Researcher.objects.create(
        request=share,
        full_name="Rhea Jones",
        email=REQUESTER,
        accreditation=Researcher.Accreditation.FULL,
        accreditation_number="AR-104233",
        accreditation_expires_on=today + timedelta(days=3 * 365),
    )
    return services.request_submit(request=share, acting_user=by)


def _assessed(
    share: DataShareRequest, caseworker: User, assessor: User
) -> DataShareRequest:
    share = services.request_accept_for_assessment(
        request=share, acting_user=caseworker
    )
    share = services.request_assign_assessor(
        request=share,
        acting_user=caseworker,
        assessor=assessor,
        no_conflict_declared=True,
    )
    services.assessment_record(
        no_conflict_declared=True,
        request=share,
        acting_user=assessor,
        ratings={key: "low" for key, _ in FIVE_SAFES},
        reasons={key: f"{label}: no concerns." for key, label in FIVE_SAFES},
        recommendation="approve",
    )
    share.refresh_from_db()
    return share


def seed() -> list[str]:
    """Create the demo data shares (if missing) and return lines describing them."""
    requester = User.objects.filter(email=REQUESTER).first()
    caseworker = User.objects.filter(email=CASEWORKER).first()
    assessor = User.objects.filter(email=ASSESSOR).first()
    chair = User.objects.filter(email=PANEL).first()
    if not (requester and caseworker and assessor and chair):
        return ["Data shares: the demo accounts are missing, so none were loaded."]
    organisation, _ = ResearchOrganisation.objects.get_or_create(
        name="Northern Education Research Institute",
        defaults={"kind": ResearchOrganisation.Kind.RESEARCH_INSTITUTE},
    )
    services.requester_add(
        user=requester, organisation=organisation, acting_user=caseworker
    )
    if not DataShareRequest.objects.filter(reference__in=PROJECTS).exists():
        members = [chair, *(_member(e, n) for e, n in OTHER_MEMBERS)]
        # Held today, so its members can vote and its chair decide in the demo
        # (nothing is recorded before a meeting's day: meeting_day_refusal).
        meeting = PanelMeeting.objects.create(held_on=timezone.localdate(), chair=chair)
        meeting.members.set(members)
        _draft("DS00101", organisation, requester)
        waiting = _assessed(
            _draft("DS00102", organisation, requester), caseworker, assessor
        )
        services.request_place_on_meeting(
            request=waiting, acting_user=caseworker, meeting=meeting
        )
        note_add(
            request=waiting,
            acting_user=caseworker,
            text="Requester confirmed by phone that only SRS safe rooms are used.",
        )
        _approve_and_release(organisation, requester, caseworker, assessor, members)
    return [
        "Data shares: Northern Education Research Institute, requester "
        f"{REQUESTER}; DS00101 waits for triage, DS00102 is on the agenda of "
        f"today's panel meeting (chair {PANEL}; its three members, the panel@ "
        "accounts, vote, which makes the quorum, and the chair records the "
        "decision), DS00103 is approved and released at an earlier meeting today, "
        "whose minutes are signed (admin: Panel meetings; the DSAP "
        "dashboard is on the admin home page).",
    ]


def _approve_and_release(
    organisation: ResearchOrganisation,
    requester: User,
    caseworker: User,
    assessor: User,
    members: list[User],
) -> None:
    share = _assessed(_draft("DS00103", organisation, requester), caseworker, assessor)
    meeting = PanelMeeting.objects.create(
        held_on=timezone.localdate(), chair=members[0]
    )
    meeting.members.set(members)
    share.refresh_from_db()
    services.request_place_on_meeting(
        request=share, acting_user=caseworker, meeting=meeting
    )
    share.refresh_from_db()
    for member in members:
        services.panel_vote_cast(
            request=share, acting_user=member, vote="approve", comments=""
        )
    services.decision_record(
        request=share,
        acting_user=members[0],
        outcome="approved",
        reasons="Clear public benefit, accredited researchers, SRS safe room.",
        supports_aims="Aligned to the department's research interest in post-16 "
        "destinations of disadvantaged pupils.",
    )
    share.refresh_from_db()
    for dataset in share.datasets.all():
        services.release_record(
            request=share,
            acting_user=caseworker,
            dataset=dataset,
            srs_project_reference="SRS-2026-0042",
            researchers=list(share.researchers.all()),
            end_date=share.end_date or timezone.localdate(),
        )
        share.refresh_from_db()
    _minutes(meeting, caseworker, members, share)
    public_summary_write(
        request=share,
        acting_user=caseworker,
        text="How free school meals eligibility relates to what pupils do after "
        "16, to inform support for disadvantaged pupils.",
    )
    public_summary_approve(
        request=share, acting_user=_member(*SECOND_CASEWORKER, roles.CASEWORKER)
    )


def _minutes(
    meeting: PanelMeeting,
    caseworker: User,
    members: list[User],
    share: DataShareRequest,
) -> None:
    """Attendance, minutes and an action for the held meeting, signed by its chair."""
    for member in members:
        attendance_record(
            meeting=meeting, acting_user=caseworker, member=member, status="attended"
        )
    minutes_write(
        meeting=meeting,
        acting_user=caseworker,
        discussion="The panel discussed DS00103: a clear public benefit, accredited "
        "researchers and access only in an ONS safe room.",
    )
    action_add(
        meeting=meeting,
        acting_user=caseworker,
        description="Confirm the SRS project reference with the ONS.",
        owner="Secretariat",
        request=share,
    )
    minutes_sign(meeting=meeting, acting_user=members[0])
