from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from records import log_partitions, pg
from records.log_archive import ArchiveError, archive_restore


class Command(BaseCommand):
    help = (
        "Load the archive of one month of the learner view log (written by "
        "maintain_partitions before it dropped the partition) into a new table, and "
        "check it holds the manifest's row count and SHA-256 checksum. A corrupt "
        "archive is refused and nothing is created. PostgreSQL only; run it as the "
        "log's owner role (docs/runbooks/database-roles.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "partition", help="The month's partition, like records_learnerview_y2024m11"
        )
        parser.add_argument(
            "--archive-dir",
            type=Path,
            default=None,
            help="Where the archive is (default: LEARNER_VIEW_ARCHIVE_DIR)",
        )
        parser.add_argument(
            "--table",
            default=None,
            help="The table to create (default: the partition's name + _restored)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not pg.is_postgres():
            raise CommandError("Log archives are PostgreSQL-only.")
        name: str = options["partition"]
        if not log_partitions.is_partition_name(name):
            raise CommandError(
                f"{name!r} is not a partition name like records_learnerview_y2024m11."
            )
        table: str = options["table"] or f"{name}_restored"
        if (
            log_partitions.is_partition_name(table)
            or not table.isidentifier()
            or len(table) > 63
        ):
            # maintain_partitions would take a table named as a partition for one
            # it left detached, and drop it.
            raise CommandError(
                f"{table!r} cannot be the new table's name: use letters, digits and "
                "underscores, not a partition's name."
            )
        directory = options["archive_dir"] or settings.LEARNER_VIEW_ARCHIVE_DIR
        try:
            manifest = archive_restore(name=name, directory=directory, table=table)
        except ArchiveError as exc:
            raise CommandError(f"{exc}\nNothing was restored.") from exc
        except DatabaseError as exc:
            raise CommandError(f"{exc}".strip() + "\nNothing was restored.") from exc
        self.stdout.write(
            f"Restored {manifest.rows:,} rows of {name} ({manifest.first_day} to "
            f"before {manifest.first_day_after}) into {table}: the row count and the "
            "SHA-256 checksum match the manifest."
        )
