"""On PostgreSQL, put the registration tables that decide access on the change
trail (lrs_portal.pg): organisations, memberships and suspensions. A member's
last lookup day is a usage timestamp kept without history, so not recorded."""

from django.db import migrations

from lrs_portal import pg


class Migration(migrations.Migration):
    dependencies = [
        ("registration", "0006_resign_reverify_and_ico_removal"),
        ("lrs_portal", "0006_change_trail_service_alerts_job_heartbeat"),
    ]

    operations = [
        pg.track_operation("registration_organisation", "registration_suspension"),
        pg.track_operation("registration_membership", exclude=("last_lookup_on",)),
    ]
