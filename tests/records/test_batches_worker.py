import time as clock

import pytest

from records.batches import batch_submit
from records.models import Batch, LearnerView
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import LearnerFactory, nth_uln


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("log_truncate_allowed")
def test_a_real_worker_runs_a_batch_through_redis(worker, settings):
    queue, _ = worker
    settings.BATCH_QUEUE = queue  # the worker consumes only its private queue
    searcher = member_of(
        OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
    )
    found = LearnerFactory.create_batch(3)
    ulns = [learner.uln for learner in found] + [nth_uln(900 + n) for n in range(4)]
    data = "\r\n".join(["uln,reference", *(f"{u},R{i}" for i, u in enumerate(ulns))])

    batch = batch_submit(
        user=searcher, data=data.encode(), filename="f.csv", request_id="worker"
    )

    deadline = clock.monotonic() + 90
    while clock.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.is_finished:
            break
        clock.sleep(0.5)
    assert batch.status == Batch.Status.COMPLETE, "the worker did not finish it"
    assert batch.rows_done == len(ulns)
    rows = list(batch.rows.order_by("line"))
    assert [r.reference for r in rows] == [f"R{i}" for i in range(len(ulns))]
    assert [r.matched_ulns for r in rows] == [*ulns[:3], "", "", "", ""]
    logged = LearnerView.objects.filter(channel=LearnerView.Channel.BATCH)
    assert sorted(logged.values_list("learner_uln", flat=True)) == sorted(ulns)
    assert LearnerView.objects.count() == len(ulns)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("log_truncate_allowed")
def test_a_real_worker_runs_a_batch_sent_through_the_api(worker, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.records.api.conftest import real_caller

    queue, _ = worker
    settings.BATCH_QUEUE = queue
    caller = real_caller(
        member_of(
            OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
        )
    )
    found = LearnerFactory.create_batch(2)
    ulns = [learner.uln for learner in found] + [nth_uln(950), nth_uln(951)]
    data = "\r\n".join(["uln,reference", *(f"{u},R{i}" for i, u in enumerate(ulns))])

    sent = caller.http.post(
        "/api/v1/batches",
        {"file": SimpleUploadedFile("mis.csv", data.encode())},
        format="multipart",
    )
    assert sent.status_code == 202, sent.content

    deadline = clock.monotonic() + 90
    while clock.monotonic() < deadline:
        status = caller.http.get(sent["Location"]).json()
        if status["status"] in ("complete", "failed"):
            break
        clock.sleep(0.5)
    assert status["status"] == "complete", "the worker did not finish it"
    assert (status["rows_done"], status["rows"]) == (4, 4)
    results = caller.http.get(f"{sent['Location']}/results").json()["results"]
    assert [r["reference"] for r in results] == ["R0", "R1", "R2", "R3"]
    assert [r["matched_ulns"] for r in results] == [[ulns[0]], [ulns[1]], [], []]
    logged = LearnerView.objects.all()
    assert {(r.channel, r.api_client_id) for r in logged} == {
        (LearnerView.Channel.BATCH, caller.api_client.pk)
    }
    assert sorted(r.learner_uln for r in logged) == sorted(ulns)
