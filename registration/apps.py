from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = "Provider registration"
    default_auto_field = "django.db.models.BigAutoField"
