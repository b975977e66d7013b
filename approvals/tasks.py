from celery import shared_task


@shared_task(acks_late=True)
def shares_nightly_task() -> None:
    from approvals.services import shares_nightly

    shares_nightly()
