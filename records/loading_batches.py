"""The import elsewhere (SQLite): checked rows compared and written in batches."""

from collections.abc import Iterator

from django.utils import timezone

from records.csv_import import ImportSummary
from records.loading_checks import (
    ACHIEVEMENT_COLUMNS,
    ACHIEVEMENT_DETAILS,
    ACHIEVEMENT_KEY,
    LEARNER_COLUMNS,
    Values,
    batches,
    unknown_uln,
)
from records.models import Achievement, Learner

# Rows compared and written together.
BATCH_SIZE = 2000


def learners_batches(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary, size: int
) -> None:
    now = timezone.now()
    fields = [*LEARNER_COLUMNS[1:], "updated_at"]
    for batch in batches(rows, size):
        by_uln = {values[0]: values for _, values in batch}
        held = {
            row[0]: row
            for row in Learner.objects.filter(uln__in=by_uln)
            .order_by()
            .values_list(*LEARNER_COLUMNS)
        }
        changed = []
        for uln, values in by_uln.items():
            old = held.get(uln)
            if old == values:
                summary.unchanged += 1
                continue
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            learner = Learner(**dict(zip(LEARNER_COLUMNS, values, strict=True)))
            learner.updated_at = now
            changed.append(learner)
        Learner.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["uln"], update_fields=fields
        )


def achievements_batches(
    rows: Iterator[tuple[int, Values]], summary: ImportSummary, size: int
) -> None:
    for batch in batches(rows, size):
        ids = dict(
            Learner.objects.filter(uln__in={values[0] for _, values in batch})
            .order_by()
            .values_list("uln", "id")
        )
        held = {
            row[:4]: row[4:]
            for row in Achievement.objects.filter(learner_id__in=ids.values())
            .order_by()
            .values_list("learner_id", *ACHIEVEMENT_KEY, *ACHIEVEMENT_DETAILS)
        }
        changed = []
        for line, values in batch:
            learner_id = ids.get(values[0])
            if learner_id is None:
                summary.reject(line, unknown_uln(values[0]))
                continue
            fields = dict(zip(ACHIEVEMENT_COLUMNS[1:], values[1:], strict=True))
            old = held.get((learner_id, *(fields[n] for n in ACHIEVEMENT_KEY)))
            if old == tuple(fields[n] for n in ACHIEVEMENT_DETAILS):
                summary.unchanged += 1
                continue
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            changed.append(Achievement(learner_id=learner_id, **fields))
        Achievement.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["learner", *ACHIEVEMENT_KEY],
            update_fields=ACHIEVEMENT_DETAILS,
        )
