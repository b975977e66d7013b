"""A panel meeting's papers pack, as a PDF made for one reader (decision 17).

Each member gets the agenda and, for each request on it, the request, its
datasets and researchers, and the independent assessment. A member who declared
a conflict on a request, or works for its organisation, gets a line saying the
papers were withheld instead. fpdf2's built-in fonts take Latin-1 only, so other
characters are replaced by their nearest plain form.
"""

from fpdf import FPDF

from approvals import permissions
from approvals.models import FIVE_SAFES, Assessment, DataShareRequest, PanelMeeting
from approvals.services.assessment import RISK_FACTORS
from approvals.services.meetings import meeting_agenda
from lrs_portal.models import User
from lrs_portal.pdf import latin1 as _latin1


class _Pack(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.pack_title = title
        self.set_title(title)
        self.set_author("Department for Education: DSAP secretariat")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("helvetica", size=8)
        self.cell(0, 8, _latin1(f"OFFICIAL-SENSITIVE. {self.pack_title}"), align="L")
        self.cell(0, 8, f"Page {self.page_no()}", align="R")

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("helvetica", style="B", size=size)
        self.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: object) -> None:
        self.set_font("helvetica", size=10)
        self.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def row(self, label: str, value: object) -> None:
        self.set_font("helvetica", style="B", size=10)
        self.multi_cell(0, 5, _latin1(label), new_x="LMARGIN", new_y="NEXT")
        self.para(value if f"{value}".strip() else "-")


def _request_papers(pack: _Pack, request: DataShareRequest) -> None:
    pack.add_page()
    pack.heading(f"{request.reference}: {request.project_title}")
    pack.row("Requesting organisation", request.organisation)
    pack.row("Summary and public benefit", request.summary)
    pack.row("Areas of research interest", request.research_interest)
    pack.row("Legal gateway", request.get_legal_gateway_display())
    pack.row("Lawful basis", request.get_lawful_basis_display())
    pack.row("Access route", request.get_access_route_display())
    pack.row("Records expected", request.records_expected or "-")
    pack.row("Dates", f"{request.start_date} to {request.end_date}")
    datasets = "\n".join(
        f"{d.name} {d.academic_year} (tier {d.tier})" for d in request.datasets.all()
    )
    pack.row("Datasets", datasets)
    researchers = "\n".join(
        f"{r.full_name}: {r.get_accreditation_display()}, expires "
        f"{r.accreditation_expires_on or '-'}"
        for r in request.researchers.all()
    )
    pack.row("Researchers", researchers)
    assessment = Assessment.objects.filter(request=request).first()
    if assessment is None:
        pack.row("Independent assessment", "Not yet recorded.")
        return
    pack.heading("Independent assessment", size=12)
    for key, label in FIVE_SAFES:
        rating = getattr(assessment, f"get_{key}_display")()
        pack.row(f"{label}: {rating}", getattr(assessment, f"{key}_reason"))
    factors = ", ".join(
        f"{RISK_FACTORS.get(k, k).lower()} {v}"
        for k, v in assessment.risk_breakdown.items()
    )
    pack.row("Risk score", f"{assessment.risk_score} ({factors})")
    pack.row("Recommendation", assessment.get_recommendation_display())
    if assessment.recommended_conditions:
        pack.row("Conditions recommended", assessment.recommended_conditions)


def papers_pack(meeting: PanelMeeting, reader: User) -> bytes:
    """The meeting's papers as ``reader`` may read them, as PDF bytes."""
    title = f"Papers for the {meeting}"
    pack = _Pack(title)
    pack.add_page()
    pack.heading(title, size=16)
    pack.para(f"Chair: {meeting.chair}. Prepared for {reader}.")
    pack.para(
        "Members: " + "; ".join(f"{m}" for m in meeting.members.order_by("email"))
    )
    agenda = list(meeting_agenda(meeting))
    withheld = {r.pk for r in agenda if permissions.papers_withheld(reader, meeting, r)}
    pack.heading("Agenda", size=12)
    if not agenda:
        pack.para("No request has been placed on this meeting yet.")
    for number, request in enumerate(agenda, start=1):
        note = (
            " (papers withheld: conflict of interest)" if request.pk in withheld else ""
        )
        pack.para(f"{number}. {request.reference}: {request.project_title}{note}")
    for request in agenda:
        if request.pk not in withheld:
            _request_papers(pack, request)
    return bytes(pack.output())
