"""The organisation's lookup log as CSV lines (the usage page's download): the
columns, with or without ULNs, and cells a spreadsheet never runs as formulas."""

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from lrs_portal.csv_cells import Echo, csv_cell
from records.models import LearnerView

OUTCOME = LearnerView.Outcome
ACTION = LearnerView.Action

CSV_HEADER = (
    "Time (UTC)",
    "User email",
    "Action",
    "Outcome",
    "Matches",
    "Learner ULN",
    "Request ID",
    # How the search came: the portal's pages, the web service or a batch; and
    # for the last two, the name of the API client it came through (issue 12).
    "Channel",
    "API client",
)


_CSV_FIELDS = (
    "viewed_at",
    "user__email",
    "action",
    "outcome",
    "match_count",
    "learner_uln",
    "request_id",
    "channel",
    "api_client__name",
)
_ULN = _CSV_FIELDS.index("learner_uln")


def csv_columns(with_ulns: bool) -> tuple[str, ...]:
    return (
        _CSV_FIELDS
        if with_ulns
        else tuple(f for f in _CSV_FIELDS if f != "learner_uln")
    )


def csv_lines(rows: Iterable[tuple[Any, ...]], *, with_ulns: bool) -> Iterator[str]:
    writer = csv.writer(Echo())
    actions, outcomes = dict(ACTION.choices), dict(OUTCOME.choices)
    channels = dict(LearnerView.Channel.choices)
    header = list(CSV_HEADER)
    if not with_ulns:
        del header[_ULN]
    yield writer.writerow(header)
    for viewed_at, email, action, outcome, *rest, channel, api_client in rows:
        cells = (
            f"{viewed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            email,
            actions.get(action, action),
            outcomes.get(outcome, outcome),
            *rest,
            channels.get(channel, channel),
            api_client or "",
        )
        yield writer.writerow([csv_cell(cell) for cell in cells])
