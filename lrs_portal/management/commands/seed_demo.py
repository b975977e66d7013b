import logging
from contextlib import redirect_stdout
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

DEFAULT_OUTBOX = "var/demo-outbox.txt"


class Command(BaseCommand):
    help = (
        "Load demo data (accounts for every role, and each app's demo records) and "
        "print the sign-ins and what to try with each. The emails and letters the "
        "demo sends while loading go to a file, not the screen. Idempotent; refuses "
        "to run with DEBUG off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--outbox",
            default=DEFAULT_OUTBOX,
            help="File for the emails and letters sent while loading (default: "
            f"{DEFAULT_OUTBOX}, relative to the project).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it is for demos.")
        outbox = Path(options["outbox"])
        if not outbox.is_absolute():
            outbox = Path(settings.BASE_DIR) / outbox
        outbox.parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        # The console email backend and the demo letters write to stdout, and the
        # jobs the demo runs log each step: send the first to the file and quieten
        # the second, so the screen shows only what a person needs to start.
        logging.disable(logging.INFO)
        try:
            with (
                outbox.open("a", encoding="utf-8") as mail,
                redirect_stdout(mail),
                transaction.atomic(),
            ):
                # Each app may offer <app>.demo.seed(); apps run in INSTALLED_APPS
                # order, so lrs_portal's accounts exist before registration's
                # organisations.
                for config in apps.get_app_configs():
                    module_name = f"{config.name}.demo"
                    ours = Path(config.path).is_relative_to(settings.BASE_DIR)
                    if not ours or find_spec(module_name) is None:
                        continue
                    lines.extend(import_module(module_name).seed())
        finally:
            logging.disable(logging.NOTSET)
        lines.append(
            f"Emails and letters sent while loading the demo are in {outbox} "
            f"(letters also as PDFs in {settings.LETTERS_DIR}). Emails sent while "
            "you use the portal are printed here."
        )
        self.stdout.write("\n".join(lines))
