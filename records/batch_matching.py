"""A batch's chunk of rows matched in one query (decision 22): every row's ULN
looked up at once, or every row's candidates read at once and each row decided
by the pages' own rule (records.matching.match_among), so that a batch answers
exactly what single searches answer. Pending is a row as the worker reads it.
"""

from datetime import date
from typing import NamedTuple, cast

from records import pg
from records.links import learner_master
from records.matching import CANDIDATE_LIMIT, LookupResult, match_among
from records.models import Learner, LearnerView

OUTCOME = LearnerView.Outcome


class Pending(NamedTuple):
    """A row not searched yet: what the worker reads of it."""

    pk: int
    line: int
    reference: str
    uln: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    gender: int | None
    postcode: str


def match_ulns(rows: list[Pending]) -> list[LookupResult]:
    """Every row's ULN looked up in one query: an exact match, no match, or, for
    a merged ULN, its master's record (linked_learner_match, WSRC0022), as a
    single search answers (records.services.learner_search_by_uln)."""
    found: dict[str, LookupResult] = {}
    for learner in (
        Learner.objects.filter(uln__in={row.uln for row in rows})
        .select_related("link")
        .order_by()
    ):
        master = learner_master(learner)  # a query only for a merged learner
        found[learner.uln] = (
            LookupResult(OUTCOME.LINKED_LEARNER_MATCH, master)
            if master is not None
            else LookupResult(OUTCOME.EXACT_MATCH, learner)
        )
    return [found.get(row.uln) or LookupResult(OUTCOME.NO_MATCH) for row in rows]


def match_demographics(rows: list[Pending]) -> list[LookupResult]:
    """Every row's candidates (same family name and date of birth, as a single
    search reads them) in one query, then each row decided by the pages' own
    rule (match_among)."""

    def key(row: Pending) -> tuple[str, date]:
        # A demographic row not yet searched always has its date of birth.
        return (row.family_name.strip().upper(), cast(date, row.date_of_birth))

    candidates = pg.learners_by_family_and_birth(
        {key(row) for row in rows}, limit=CANDIDATE_LIMIT
    )
    return [
        match_among(
            candidates[key(row)],
            given_name=row.given_name,
            gender=row.gender if row.gender is not None else -1,
            postcode=row.postcode,
        )
        for row in rows
    ]


def ulns_matched(result: LookupResult) -> str:
    if result.learner is not None:
        return result.learner.uln
    return " ".join(learner.uln for learner in result.candidates)
