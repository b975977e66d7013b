from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LrsPortalConfig(AppConfig):
    default = True
    name = "lrs_portal"
    verbose_name = "Users and service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # django-structlog's documented hook for changing what a request logs.
        from django.db.models.signals import post_migrate
        from django_structlog import signals

        from lrs_portal import (
            checks,  # noqa: F401 (registers the deploy checks)
            pg,
        )
        from lrs_portal.hostile_input import install_form_validator
        from lrs_portal.logs import redact_request_log, user_agent_log
        from lrs_portal.roles import sync_roles

        # Django creates permissions after every migrate (and after a test
        # database flush) the same way; the roles follow them.
        install_form_validator()
        post_migrate.connect(sync_roles, dispatch_uid="lrs_portal.sync_roles")
        # Every history table, new ones too, marks the transactions writing it.
        post_migrate.connect(
            pg.history_marks_after_migrate,
            sender=self,
            dispatch_uid="lrs_portal.history_marks",
        )

        for signal in (
            signals.bind_extra_request_metadata,
            signals.bind_extra_request_finished_metadata,
            signals.bind_extra_request_failed_metadata,
        ):
            signal.connect(redact_request_log, dispatch_uid=f"redact-{id(signal)}")
        signals.bind_extra_request_finished_metadata.connect(
            user_agent_log, dispatch_uid="lrs_portal.user_agent_log"
        )


class LrsAdminConfig(admin_apps.AdminConfig):
    # The admin site refuses staff who have not verified a second factor.
    default = False
    default_site = "lrs_portal.admin_site.LrsAdminSite"
