from datetime import timedelta

import pytest
from django.utils import timezone

from records.batches import batch_run, batch_submit
from records.models import Batch, BatchRow
from registration.services.housekeeping import housekeeping_run
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import nth_uln

pytestmark = pytest.mark.django_db


@pytest.fixture
def searcher():
    return member_of(
        OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
    )


def finished_batch(user, *, days_ago: int) -> Batch:
    batch = batch_submit(
        user=user,
        data=f"uln\r\n{nth_uln(0)}\r\n{nth_uln(1)}\r\n".encode(),
        filename="f.csv",
        request_id="r",
    )
    batch_run(batch_id=batch.pk)
    Batch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - timedelta(days=days_ago)
    )
    return batch


def test_a_batchs_rows_are_deleted_30_days_after_it_finished(searcher):
    old = finished_batch(searcher, days_ago=31)
    recent = finished_batch(searcher, days_ago=29)

    outcome = housekeeping_run()

    old.refresh_from_db()
    assert old.rows_deleted_at is not None
    assert not BatchRow.objects.filter(batch=old).exists()
    assert BatchRow.objects.filter(batch=recent).count() == 2
    assert outcome.run.counts["batch_results_deleted"] == 1
    assert old.rows_total == 2  # the record of the batch stays


def test_housekeeping_run_twice_deletes_nothing_more(searcher):
    finished_batch(searcher, days_ago=31)
    housekeeping_run()

    again = housekeeping_run()

    assert "batch_results_deleted" not in again.run.counts
    assert not any("Delete the" in a.description for a in again.actions)


def test_a_dry_run_says_what_it_would_delete_and_deletes_nothing(searcher):
    old = finished_batch(searcher, days_ago=31)

    outcome = housekeeping_run(dry_run=True)

    assert any(
        f"rows and results of batch {old.pk}" in a.description for a in outcome.actions
    )
    assert BatchRow.objects.filter(batch=old).count() == 2


def test_a_batch_stuck_for_a_day_is_stopped_and_its_lines_keep_no_input(searcher):
    batch = batch_submit(
        user=searcher,
        data=b"given_name,family_name,date_of_birth,gender,postcode\r\n"
        b"Amelia,Hughes,2007-05-14,2,LS2 9JT\r\n",
        filename="f.csv",
        request_id="r",
    )
    Batch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )

    outcome = housekeeping_run()

    batch.refresh_from_db()
    assert batch.status == Batch.Status.FAILED
    assert "did not finish within a day" in batch.failure_reason
    row = batch.rows.get()
    assert (row.given_name, row.family_name, row.postcode) == ("", "", "")
    assert outcome.run.counts["batches_stopped"] == 1
    assert batch_run(batch_id=batch.pk).status == Batch.Status.FAILED  # stays
