import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from kombu.exceptions import OperationalError

from lrs_portal.models import Notification
from lrs_portal.tasks import notification_deliver_task
from tests.factories import NotificationFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hung_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers, like a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_enqueueing_to_a_hung_broker_fails_fast_instead_of_hanging(
    hung_server, monkeypatch
):
    # Celery reads CELERY_BROKER_URL from the environment before its settings.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{hung_server}/0")
    app = Celery("hung-broker-check")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.task_always_eager = False

    started = time.monotonic()
    with pytest.raises((OperationalError, OSError, TimeoutError)):
        app.send_task("lrs_portal.tasks.notification_deliver_task", args=[1])

    assert time.monotonic() - started < 20


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_notification_through_redis(worker):
    queue, outbox = worker
    notification = NotificationFactory.create(subject="Worker integration check")

    notification_deliver_task.apply_async(args=(notification.pk,), queue=queue)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.status == Notification.Status.SENT:
            break
        time.sleep(0.5)
    assert notification.status == Notification.Status.SENT
    sent = [path.read_text() for path in outbox.iterdir()]
    assert len(sent) == 1
    assert "Worker integration check" in sent[0]


def test_partition_upkeep_goes_to_the_owners_queue_and_the_rest_to_celery():
    from lrs_portal.celery import app

    def queue(task: str) -> str:
        return str(app.amqp.router.route({}, task)["queue"].name)

    assert queue("records.tasks.maintain_partitions_task") == "maintenance"
    assert queue("records.tasks.audit_usage_task") == "celery"


def test_every_beat_entry_names_a_registered_task():
    from django.conf import settings

    from lrs_portal.celery import app

    app.loader.import_default_modules()
    missing = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in app.tasks
    ]
    assert missing == []
