from celery import shared_task


@shared_task(acks_late=True)
def shares_nightly_task() -> None:
    from approvals.services import shares_nightly

    shares_nightly()


@shared_task(acks_late=True)
def secretariat_daily_task() -> None:
    from approvals.services.secretariat import secretariat_daily

    secretariat_daily()
