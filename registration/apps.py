from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = "Provider registration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from registration import checks  # noqa: F401  (registers the system checks)
        from registration.api_clients import api_client_timeline_entries
        from registration.timeline import timeline_source_register

        timeline_source_register(
            "registration.api_clients", api_client_timeline_entries
        )
