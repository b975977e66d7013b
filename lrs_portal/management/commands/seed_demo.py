from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load demo data (accounts for every role, and each app's demo records). "
        "Idempotent; refuses to run with DEBUG off."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it is for demos.")
        lines: list[str] = []
        with transaction.atomic():
            # Each app may offer <app>.demo.seed(); apps run in INSTALLED_APPS order,
            # so lrs_portal's accounts exist before registration's organisations.
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                ours = Path(config.path).is_relative_to(settings.BASE_DIR)
                if not ours or find_spec(module_name) is None:
                    continue
                lines.extend(import_module(module_name).seed())
        self.stdout.write("\n".join(lines))
