from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Learner records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.audit import audit_rules_ensure
        from records.timeline import usage_alert_entries
        from registration.timeline import timeline_source_register

        # The audit rules exist from the first migrate (and after a test flush).
        post_migrate.connect(audit_rules_ensure, sender=self)
        # Usage alerts on the organisation's timeline, without registration
        # importing records.
        timeline_source_register("records.usage_alerts", usage_alert_entries)
