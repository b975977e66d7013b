"""Create an API client for a member (operations and tests; providers use the
portal's API clients page). Prints the client id and secret, once."""

import json
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lrs_portal.models import User, system_user
from registration.api_clients import latest_expiry
from registration.models import Organisation
from registration.services.api_clients import ApiClientRefused, api_client_create


class Command(BaseCommand):
    help = (
        "Create an API client (OAuth 2.0 client credentials) for a member of an "
        "organisation and print its client id and secret. The secret is shown "
        "only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="UKPRN (8 digits)")
        parser.add_argument(
            "--member", required=True, help="Email of the member responsible"
        )
        parser.add_argument("--name", required=True, help="What the client is for")
        parser.add_argument(
            "--expires",
            type=date.fromisoformat,
            help="Last day it may be used, YYYY-MM-DD (default: 12 months from today)",
        )
        parser.add_argument(
            "--allowed-ip-ranges",
            default="",
            help="CIDR ranges it may be used from, separated by commas (default: any)",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help='Print one JSON object: {"client_id": ..., "client_secret": ...}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ukprn = options["organisation"].strip()
        organisation = Organisation.objects.filter(ukprn=ukprn).first()
        if organisation is None:
            raise CommandError(f"No organisation has the UKPRN {ukprn[:20]!r}")
        email = options["member"].strip()
        member = User.objects.filter(email__iexact=email).first()
        if member is None:
            raise CommandError(f"No user has the email address {email[:254]!r}")
        try:
            issued = api_client_create(
                organisation=organisation,
                member=member,
                name=options["name"],
                expires_on=options["expires"] or latest_expiry(),
                allowed_ip_ranges=options["allowed_ip_ranges"],
                acting_user=system_user(),
            )
        except ApiClientRefused as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if options["json"]:
            payload = {
                "client_id": issued.client_id,
                "client_secret": issued.client_secret,
            }
            self.stdout.write(json.dumps(payload))
            return
        client = issued.api_client
        self.stdout.write(
            f"API client “{client.name}” for {member.email} of "
            f"{organisation.legal_name}, usable until {client.expires_on:%d %B %Y}\n"
            f"Client ID:     {issued.client_id}\n"
            f"Client secret: {issued.client_secret}\n"
            "Keep the secret safe: it is not shown again."
        )
