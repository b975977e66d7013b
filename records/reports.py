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

from records.models import LearnerView
from records.services import InvalidUln
from records.uln import uln_problem
from registration.admin.base import csv_cell

COLUMNS = ("Time (UTC)", "Organisation", "Organisation UKPRN", "Action", "Outcome")

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
        )
    )
    for viewed_at, name, ukprn, action, outcome in rows.iterator(chunk_size=2000):
        yield {
            "time_utc": viewed_at.astimezone(UTC),
            "organisation_name": name,
            "organisation_ukprn": ukprn,
            "action": LearnerView.Action(action).label,
            "outcome": LearnerView.Outcome(outcome).label,
        }


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def access_report_csv(
    *, uln: str, rows: Iterable[AccessRow], produced_at: datetime | None = None
) -> Iterator[str]:
    """The report as CSV lines: a header saying what it covers, then the rows.

    Every cell goes through csv_cell, so an organisation's name can never run as
    a spreadsheet formula.
    """
    writer = csv.writer(_Echo())
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
                )
            ]
        )


def access_report_filename(uln: str) -> str:
    return f"learner-access-{uln.strip()}-{timezone.now():%Y%m%d}.csv"
