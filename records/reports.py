"""Subject access (UK GDPR Article 15): who searched for or viewed a learner's record.

A learner may ask which organisations looked at their record; the department must
answer within one calendar month. The answer comes from the append-only
LearnerView log, read through its (learner_uln, viewed_at) index, so it costs the
same at 10M rows as at 10.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TypedDict

from django.utils import timezone
from fpdf import FPDF

from lrs_portal.csv_cells import Echo, csv_cell
from lrs_portal.pdf import latin1 as _latin1
from records.models import LearnerView
from records.services import InvalidUln
from records.uln import uln_problem

COLUMNS = (
    "Time (UTC)",
    "Organisation",
    "Organisation UKPRN",
    "Action",
    "Outcome",
    "Channel",
)

# Only a search or view that identified exactly one learner records a ULN.
NOT_INCLUDED = (
    "Not included: searches that did not identify this one learner. A search by "
    "name, date of birth, gender and postcode that found no match, several "
    "possible matches or too many matches, and any refused search, records no "
    "ULN, so it cannot be attributed to a learner."
)


class AccessRow(TypedDict):
    time_utc: datetime
    organisation_name: str
    organisation_ukprn: str
    action: str
    outcome: str
    channel: str


def learner_access_report(*, uln: str) -> Iterator[AccessRow]:
    """Every logged search and view that identified this ULN, newest first.

    Raises InvalidUln (at once, not when first iterated) for a string that
    cannot be a learner's ULN.
    """
    problem = uln_problem(uln)
    if problem:
        raise InvalidUln(problem)
    return _access_rows(uln.strip())


def _access_rows(uln: str) -> Iterator[AccessRow]:
    rows = (
        LearnerView.objects.filter(learner_uln=uln)
        .order_by("-viewed_at", "-pk")
        .values_list(
            "viewed_at",
            "organisation__legal_name",
            "organisation__ukprn",
            "action",
            "outcome",
            "channel",
        )
    )
    for viewed_at, name, ukprn, action, outcome, channel in rows.iterator(
        chunk_size=2000
    ):
        yield {
            "time_utc": viewed_at.astimezone(UTC),
            "organisation_name": name,
            "organisation_ukprn": ukprn,
            "action": str(LearnerView.Action(action).label),
            "outcome": str(LearnerView.Outcome(outcome).label),
            "channel": str(LearnerView.Channel(channel).label),
        }


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def access_report_csv(
    *, uln: str, rows: Iterable[AccessRow], produced_at: datetime | None = None
) -> Iterator[str]:
    """The report as CSV lines: a header saying what it covers, then the rows.

    Every cell goes through csv_cell, so an organisation's name can never run as
    a spreadsheet formula.
    """
    writer = csv.writer(Echo())
    produced = _utc(produced_at or timezone.now())
    header = (
        f"Searches for and views of the learner record with ULN {uln.strip()}",
        f"Produced {produced} UTC, newest first",
        NOT_INCLUDED,
    )
    for line in header:
        yield writer.writerow([csv_cell(line)])
    yield writer.writerow([])
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow(
            [
                csv_cell(value)
                for value in (
                    _utc(row["time_utc"]),
                    row["organisation_name"],
                    row["organisation_ukprn"],
                    row["action"],
                    row["outcome"],
                    row["channel"],
                )
            ]
        )


def access_report_filename(uln: str, file_format: str = "csv") -> str:
    return f"learner-access-{uln.strip()}-{timezone.now():%Y%m%d}.{file_format}"


def _in_words(moment: datetime) -> str:
    """A UTC time as GOV.UK writes it: 2 November 2026, 13:05."""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y}, {utc:%H:%M}"


def access_report_pdf(
    *, uln: str, rows: Iterable[AccessRow], produced_at: datetime | None = None
) -> bytes:
    """The report as a PDF a learner can read: what it covers, then a table of
    every search and view, dates in words. fpdf2's core fonts take Latin-1 only,
    so other characters in an organisation's name become their plain form."""
    produced = produced_at or timezone.now()
    pdf = FPDF(format="A4")
    pdf.set_title("Who has looked at your learner record")
    pdf.set_author("Department for Education: Learning Records Service")
    pdf.set_creation_date(produced)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=16)
    pdf.multi_cell(
        0, 8, "Who has looked at your learner record", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("helvetica", size=10)
    intro = (
        f"Learner record with ULN {uln.strip()}. Produced on "
        f"{_in_words(produced)} UTC. Every search for and "
        "view of this record by an organisation, from its portal pages, its "
        "systems (the web service) or batch files, newest first. Times are UTC."
    )
    for text in (intro, NOT_INCLUDED):
        pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    widths = (30, 48, 20, 28, 26, 28)
    count = 0
    pdf.set_font("helvetica", size=8)
    with pdf.table(col_widths=widths, text_align="LEFT") as table:
        table.row(list(COLUMNS))
        for row in rows:
            count += 1
            table.row(
                [
                    _in_words(row["time_utc"]),
                    _latin1(row["organisation_name"]),
                    row["organisation_ukprn"],
                    row["action"],
                    row["outcome"],
                    row["channel"],
                ]
            )
    if not count:
        pdf.ln(2)
        pdf.multi_cell(0, 5, "No organisation has searched for or viewed this record.")
    return bytes(pdf.output())
