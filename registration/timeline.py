"""What the organisation's timeline is made of, and how other apps add to it.

`registration` never imports `records` or `approvals` (architecture.md): an app
that keeps something about an organisation worth showing on its timeline (the
usage alerts that `records` raises) registers a source here, from its
AppConfig.ready(). A source takes the organisation and returns its entries, in
a fixed number of queries however many there are.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registration.models import Organisation


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    who: str
    what: str
    why: str


TimelineSource = Callable[["Organisation"], Iterable[TimelineEntry]]
_sources: dict[str, TimelineSource] = {}


def timeline_source_register(name: str, source: TimelineSource) -> None:
    """Add a source of entries to every organisation's timeline (once per name,
    so a second ready() call replaces rather than repeats it)."""
    _sources[name] = source


def timeline_sources() -> list[TimelineSource]:
    return list(_sources.values())
