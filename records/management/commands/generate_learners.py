from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.synthetic import synthetic_write


class Command(BaseCommand):
    help = (
        "Write N synthetic learners as a CSV for import_learners (and, with "
        "--achievements, their qualifications for import_achievements): valid, "
        "distinct ULNs, UK names and postcodes, ages 14 to 60. The same --seed "
        "(and --as-of) gives the same files. For demos and benchmarks only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many learners")
        parser.add_argument("path", help="The learners CSV to write")
        parser.add_argument("--seed", type=int, default=0, help="Default 0")
        parser.add_argument(
            "--achievements", metavar="PATH2", help="Also write achievements here"
        )
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="The date ages are counted to, yyyy-mm-dd (default today)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 0:
            raise CommandError("The number of learners cannot be negative.")
        paths = [Path(options["path"])]
        if options["achievements"]:
            paths.append(Path(options["achievements"]))
        for path in paths:
            if not path.parent.is_dir():
                raise CommandError(f"No folder {path.parent} to write {path.name} in")
        with ExitStack() as files:
            learners, *achievements = (
                files.enter_context(path.open("w", encoding="utf-8", newline=""))
                for path in paths
            )
            counts = synthetic_write(
                count=options["count"],
                learners_to=learners,
                achievements_to=achievements[0] if achievements else None,
                seed=options["seed"],
                as_of=options["as_of"],
            )
        self.stdout.write(f"Wrote {counts.learners:,} learners to {paths[0]}")
        if options["achievements"]:
            self.stdout.write(
                f"Wrote {counts.achievements:,} achievements to {paths[1]}"
            )
