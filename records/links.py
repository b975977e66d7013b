"""Merged learners: the LRS's MasterSubstituted and LinkedULNs (domain.md 1.3).

When the LRS merges two learners' records, one ULN becomes the master and the
other is substituted (linked) to it. A search by the merged ULN answers the
master's record (WSRC0022). Links come in from a links file (``uln,master_uln``,
``import_learner_links``), never from the learners file, whose fast screen
stays as it is (docs/decisions/0023-linked-learners.md).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from records import pg
from records.csv_import import ImportProgress, ImportSummary, RejectedRow, csv_records
from records.models import Learner, LearnerLink
from records.uln import uln_problem

LINK_COLUMNS = ("uln", "master_uln")
Progress = Callable[[ImportProgress], None]
Reject = Callable[[RejectedRow], None]
# Learners resolved to their ids this many at a time.
_LOOKUP_BATCH = 5000


class LinkCycle(Exception):
    """The links go round in a circle, which the import and (on PostgreSQL) a
    trigger refuse: only data written around both can hold one."""


def learner_master(learner: Learner) -> Learner | None:
    """The learner whose record a merged learner's ULN answers: the end of its
    chain of links (A merged into B, B later into C: C). None when the learner
    was never merged. One query a link followed."""
    link = getattr(learner, "link", None)  # select_related("link") saves a query
    seen = {learner.pk}
    master = None
    while link is not None:
        master = Learner.objects.select_related("link").get(pk=link.master_id)
        if master.pk in seen:
            raise LinkCycle(f"learner {learner.pk}'s links go round in a cycle")
        seen.add(master.pk)
        link = getattr(master, "link", None)
    return master


def learner_linked_ulns(learner: Learner) -> list[str]:
    """The ULNs merged into this learner's record, directly or through others
    (the LRS's LinkedULNs), in ULN order."""
    found: list[str] = []
    seen = {learner.pk}
    frontier = {learner.pk}
    while frontier:
        rows = LearnerLink.objects.filter(master_id__in=frontier).values_list(
            "learner_id", "learner__uln"
        )
        new = [(pk, uln) for pk, uln in rows if pk not in seen]
        seen.update(pk for pk, _ in new)
        found.extend(uln for _, uln in new)
        frontier = {pk for pk, _ in new}
    return sorted(found)


# --- The links file -----------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    uln: str
    master_uln: str
    problem: str = ""  # why the cells cannot be a link, if they cannot


def _checked(records: Iterator[tuple[int, list[str]]]) -> list[_Row]:
    """Every row, in line order, with what is wrong with its cells, if anything."""
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for line, (uln, master_uln) in records:
        problems = [
            f"{column} {value or '(empty)'}: {problem[:1].lower()}{problem[1:]}"
            for column, value in (("uln", uln), ("master_uln", master_uln))
            if (problem := uln_problem(value))
        ]
        if not problems and uln == master_uln:
            problems.append(f"uln {uln} cannot be merged into itself")
        if not problems and first_line.setdefault(uln, line) != line:
            problems.append(
                f"uln {uln} is repeated: it is also on line {first_line[uln]} "
                "(a learner is merged into one master)"
            )
        rows.append(_Row(line, uln, master_uln, "; ".join(problems)))
    return rows


def _learner_ids(ulns: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    wanted = sorted(ulns)
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        batch = wanted[start : start + _LOOKUP_BATCH]
        ids.update(
            Learner.objects.filter(uln__in=batch).order_by().values_list("uln", "id")
        )
    return ids


def _reaches(masters: dict[int, int], start: int, target: int) -> bool:
    """Whether following the links from start reaches target."""
    seen = set()
    current: int | None = start
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = masters.get(current)
    return False


def _cycle_reason(row: _Row) -> str:
    return (
        f"uln {row.uln} cannot be merged into {row.master_uln}: {row.master_uln} "
        f"is already merged into {row.uln} (directly or through other links), "
        "so the links would go round in a cycle"
    )


def learner_links_import(
    *,
    path: str | Path,
    batch_size: int | None = None,
    on_progress: Progress | None = None,
    on_reject: Reject | None = None,
) -> ImportSummary:
    """Record merged learners from a CSV file ``uln,master_uln``: each row says
    the learner with ``uln`` was merged into the one with ``master_uln``.

    A row is refused when either ULN is not a valid ULN or has no learner, when
    it merges a learner into itself, repeats a ULN, or would close a cycle with
    the links already held or on earlier lines (the later line is the one
    refused). The good rows load in one transaction; a learner linked again to
    another master is moved; loading the same file again changes nothing.
    batch_size is accepted for the import command and unused: links are few."""
    summary = ImportSummary(on_reject=on_reject)
    path = Path(path)
    with path.open("rb") as raw, transaction.atomic():
        records = csv_records(
            raw,
            LINK_COLUMNS,
            summary,
            on_progress=on_progress,
            bytes_total=path.stat().st_size,
        )
        rows = _checked(records)  # CsvFormatError: nothing is written
        # No two imports check cycles at once (the trigger takes the same lock).
        pg.learner_links_lock()
        good = [row for row in rows if not row.problem]
        ids = _learner_ids({r.uln for r in good} | {r.master_uln for r in good})
        masters = dict(LearnerLink.objects.values_list("learner_id", "master_id"))
        held = dict(masters)
        changed: list[LearnerLink] = []
        now = timezone.now()
        for row in rows:
            if row.problem:
                summary.reject(row.line, row.problem)
                continue
            learner, master = ids.get(row.uln), ids.get(row.master_uln)
            unknown = [
                f"{column} {uln}: there is no learner with this ULN"
                for column, uln, pk in (
                    ("uln", row.uln, learner),
                    ("master_uln", row.master_uln, master),
                )
                if pk is None
            ]
            if learner is None or master is None:
                summary.reject(row.line, "; ".join(unknown))
                continue
            if _reaches(masters, master, learner):
                summary.reject(row.line, _cycle_reason(row))
                continue
            masters[learner] = master
            if held.get(learner) == master:
                summary.unchanged += 1
                continue
            if learner in held:
                summary.updated += 1
            else:
                summary.added += 1
            changed.append(
                LearnerLink(learner_id=learner, master_id=master, linked_at=now)
            )
        LearnerLink.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["learner"],
            update_fields=["master", "linked_at"],
        )
    return summary
