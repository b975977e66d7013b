from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from lrs_portal.jobs import JobLocked
from records import log_partitions, pg
from records.jobs import partitions_maintain
from records.log_archive import ArchiveError


class Command(BaseCommand):
    help = (
        "Keep the learner view log's monthly partitions (PostgreSQL only): create "
        "every month of the retention period and LEARNER_VIEW_PARTITIONS_AHEAD months "
        "ahead; detach each whole month older than LEARNER_VIEW_RETENTION_MONTHS, "
        "write it to LEARNER_VIEW_ARCHIVE_DIR (gzip, with a manifest of its row count "
        "and SHA-256), verify the archive, and only then drop it. Run it as the "
        "log's owner role (docs/runbooks/database-roles.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be created and dropped; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not pg.is_postgres():
            self.stdout.write(
                "Partitioning is PostgreSQL-only: nothing to do on this database."
            )
            return
        dry_run: bool = options["dry_run"]
        try:
            changes = partitions_maintain(dry_run=dry_run)
        except JobLocked as exc:
            self.stdout.write(str(exc))
            return
        except (ArchiveError, OSError) as exc:
            raise CommandError(
                f"{exc}\nThe partition was detached and kept, not dropped; the next "
                "run archives it again. See docs/runbooks/database-roles.md."
            ) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"{exc}".strip() + "\nNothing was changed. Partitions can be created "
                "and dropped only by the log's owner role: see "
                "docs/runbooks/database-roles.md."
            ) from exc
        self.stdout.write(
            "\n".join(
                _report(
                    changes.created, changes.archived, changes.dropped, dry_run=dry_run
                )
            )
        )


def _report(
    created: list[str], archived: list[str], dropped: list[str], *, dry_run: bool
) -> list[str]:
    create, drop = ("Would create", "Would drop") if dry_run else ("Created", "Dropped")
    where = settings.LEARNER_VIEW_ARCHIVE_DIR
    lines = [f"{create} {name}" for name in created]
    lines += [f"Archived {name} to {where} (verified)" for name in archived]
    lines += [
        f"{drop} {name} (every row past retention, archived in {where})"
        for name in dropped
    ]
    if not lines:
        lines.append("Nothing to do: every partition needed is there.")
    partitions = log_partitions.partitions_list()
    if partitions:
        first, last = partitions[0], partitions[-1]
        lines.append(
            f"The log has {len(partitions)} monthly partitions, for rows from "
            f"{first[1]:%d %B %Y} to before {last[2]:%d %B %Y}."
        )
    return lines
