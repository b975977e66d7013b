from celery import shared_task


@shared_task(acks_late=True)
def application_run_checks_task(application_id: int, acting_user_id: int) -> None:
    from lrs_portal.models import User
    from registration.models import RegistrationApplication
    from registration.services import application_run_checks

    application_run_checks(
        application=RegistrationApplication.objects.get(pk=application_id),
        acting_user=User.objects.get(pk=acting_user_id),
    )
