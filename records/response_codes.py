"""The LRS's response codes for a lookup's outcome (domain.md 1.4), one table
for every channel: the pages, the web service (API) and batch results."""

from records.models import LearnerView

OUTCOME = LearnerView.Outcome

# What the LRS's learner service answers for each outcome of a search, and of a
# record view whose learning events the learner's ability to share withholds.
RESPONSE_CODES: dict[str, str] = {
    OUTCOME.NO_MATCH: "WSRC0001",
    OUTCOME.TOO_MANY_MATCHES: "WSRC0002",
    OUTCOME.POSSIBLE_MATCHES: "WSRC0003",
    OUTCOME.EXACT_MATCH: "WSRC0004",
    OUTCOME.LINKED_LEARNER_MATCH: "WSRC0022",
    OUTCOME.NOT_SHARED: "WSEC0206",
}


def lrs_response_code(outcome: str) -> str:
    """The LRS response code of an outcome (WSRC0001-0004, WSRC0022, WSEC0206).

    A record shown or a refusal has no LRS code of its own (a refusal is the
    portal's, answered as a problem, not a result): ValueError, so that no
    channel can answer one with a made-up code."""
    try:
        return RESPONSE_CODES[outcome]
    except KeyError:
        raise ValueError(f"{outcome!r} is not an outcome with an LRS code") from None
