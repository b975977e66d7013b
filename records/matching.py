"""The matching rule: the LRS's four outcomes (exact, possible, too many, no
match) for the five demographics, among the learners with the family name and
date of birth searched for; and LookupResult, what a search answers.

The one rule for a single search (records.services) and a batch alike
(records.batch_matching, docs/decisions/0022).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models.functions import Upper

from records.models import Learner, LearnerView

POSSIBLE_MATCH_LIMIT = 10
# The learners with the family name and date of birth searched for that a search
# weighs: enough to tell "too many" from "possible" (records.matching.match_among).
CANDIDATE_LIMIT = POSSIBLE_MATCH_LIMIT * 5 + 1
OUTCOME = LearnerView.Outcome


@dataclass
class LookupResult:
    outcome: str
    learner: Learner | None = None
    candidates: list[Learner] = field(default_factory=list)


def same_text(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _postcode_key(value: str) -> str:
    return "".join(value.split()).upper()


def demographic_match(
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
        if same_text(c.given_name, given_name)
        and c.gender == gender
        and _postcode_key(c.postcode) == wanted_postcode
    ]
    if len(exact) == 1:
        return LookupResult(OUTCOME.EXACT_MATCH, exact[0])
    possible = [
        c
        for c in candidates
        if same_text(c.given_name, given_name)
        or _postcode_key(c.postcode) == wanted_postcode
    ]
    if not possible:
        return LookupResult(OUTCOME.NO_MATCH)
    if len(possible) > POSSIBLE_MATCH_LIMIT:
        return LookupResult(OUTCOME.TOO_MANY_MATCHES)
    return LookupResult(OUTCOME.POSSIBLE_MATCHES, candidates=possible)
