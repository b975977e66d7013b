"""Benchmark: a 10,000-row demographic batch through a real worker, against the
same 10,000 searches made one at a time through the gate (issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/batch.py [--learners 1000000] [--views 1000000]
        [--rows 10000] [--rounds 1] [--seed 1] [--database NAME]

Creates a scratch database next to DATABASE_URL's (bench/scratch.py), migrates
it, fills the log with M LearnerView rows and loads N synthetic learners with
import_learners (bench/lookups.py's set-up, caps raised out of the way), starts
a Celery worker on a private queue of the broker, and picks R random existing
learners. Then, for each round, in turn:

(a) the R searches one at a time, each through
    records.services.learner_search_by_demographics (the gate, the caps, the
    search and its log row in one transaction, as a page makes it);
(b) the same R searches as one batch file, end to end: batch_submit (read the
    CSV, check the caps, store the rows, enqueue) until the worker has marked the
    batch complete, polled every 20 ms.

It checks that (b) logged exactly one row per row and found what (a) found,
prints both times, (b)'s rows a second (target at least 2,000) and (b)/(a)
(target at most 0.5), then drops the scratch database. It refuses SQLite.
"""

import argparse
import csv
import io
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from lookups import _analyze, _members, _sample, _timed, _views_insert, _web_setup
from scratch import ROOT, django_on_scratch_database

HEADER = ("given_name", "family_name", "date_of_birth", "gender", "postcode")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="")
    return parser.parse_args()


def _worker(queue: str) -> subprocess.Popen[bytes]:
    """A real worker on the scratch database. DEBUG on only so that it starts as
    the superuser the benchmark connects as (lrs_portal.checks)."""
    from lrs_portal.celery import app

    hostname = f"{queue}@localhost"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "lrs_portal", "worker",
            "--pool=solo", "--queues", queue, "--hostname", hostname,
            "--without-mingle", "--without-gossip", "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("the worker exited while starting")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return process
    process.terminate()
    sys.exit("the worker did not answer within 240 s")


def _file(learners: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for _, given, family, born, gender, postcode in learners:
        writer.writerow((given, family, born.isoformat(), gender, postcode))
    return out.getvalue().encode()


def _singles(user: Any, learners: list[tuple[Any, ...]]) -> tuple[float, list[str]]:
    from records.services import learner_search_by_demographics

    outcomes = []
    started = time.perf_counter()
    for _, given, family, born, gender, postcode in learners:
        result = learner_search_by_demographics(
            user=user,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            gender=gender,
            postcode=postcode,
            request_id="bench-single",
        )
        outcomes.append(result.outcome)
    return time.perf_counter() - started, outcomes


def _batch(user: Any, data: bytes) -> tuple[float, Any]:
    from records.batches import batch_submit
    from records.models import Batch

    started = time.perf_counter()
    batch = batch_submit(user=user, data=data, filename="bench.csv", request_id="b")
    while True:
        status = Batch.objects.filter(pk=batch.pk).values_list("status", flat=True)[0]
        if status in (Batch.Status.COMPLETE, Batch.Status.FAILED):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETE, batch.failure_reason
    return elapsed, batch


def _round(user: Any, learners: list[tuple[Any, ...]], number: int) -> None:
    from records.models import LearnerView

    data = _file(learners)
    single_time, single_outcomes = _singles(user, learners)
    before = LearnerView.objects.filter(channel=LearnerView.Channel.BATCH).count()
    batch_time, batch = _batch(user, data)
    logged = LearnerView.objects.filter(channel=LearnerView.Channel.BATCH).count()
    assert logged - before == len(learners), "not one log row per row"
    outcomes = list(batch.rows.order_by("line").values_list("outcome", flat=True))
    assert outcomes == single_outcomes, "the batch found other than the searches"
    rows = len(learners)
    rate = rows / batch_time
    ratio = batch_time / single_time
    print(
        f"\nround {number}: {rows:,} demographic searches"
        f"\n  (a) one at a time through the gate: {single_time:6.2f} s"
        f"  ({rows / single_time:,.0f} a second)"
        f"\n  (b) one batch through the worker:   {batch_time:6.2f} s"
        f"  ({rate:,.0f} rows a second; target >= 2,000:"
        f" {'met' if rate >= 2000 else 'NOT met'})"
        f"\n  (b)/(a): {ratio:.2f}x (target <= 0.5x:"
        f" {'met' if ratio <= 0.5 else 'NOT met'})",
        flush=True,
    )


def _run(arguments: argparse.Namespace, folder: Path) -> None:
    from django.db import connection

    from records.loading import learners_import
    from records.synthetic import synthetic_write

    _web_setup(arguments.seed)
    searcher, users = _members(10, 2)
    started = time.perf_counter()
    _views_insert(arguments.views, users)
    _timed(f"insert {arguments.views:,} LearnerView rows", started)
    started = time.perf_counter()
    path = folder / "learners.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        synthetic_write(count=arguments.learners, learners_to=file, seed=arguments.seed)
    summary = learners_import(path=path, use_copy=True)
    assert not summary.rejected, summary.rejected
    _analyze()
    _timed(f"generate and import {arguments.learners:,} learners, ANALYZE", started)
    worker = _worker(os.environ["BATCH_QUEUE"])
    try:
        for number in range(1, arguments.rounds + 1):
            _round(searcher, _sample(arguments.rows), number)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        connection.close()


def main() -> None:
    arguments = _arguments()
    if not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (the batch runs in a worker).")
    random.seed(arguments.seed)
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "LOOKUP_USER_HOURLY_CAP": "100000000",
        "LOOKUP_ORG_DAILY_MINIMUM": "100000000",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BATCH_QUEUE": f"bench-{uuid.uuid4().hex}",
    }
    with (
        django_on_scratch_database(
            kind="batch",
            name=arguments.database,
            needs="bench/batch.py measures batch matching at PostgreSQL scale",
            env=env,
        ),
        tempfile.TemporaryDirectory(prefix="lrs-bench-") as folder,
    ):
        _run(arguments, Path(folder))


if __name__ == "__main__":
    main()
