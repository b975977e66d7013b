"""Benchmark: the learner web service over real HTTP against gunicorn (issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 CACHE_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/api.py [--learners 1000000] [--requests 2000]
        [--rounds 3] [--concurrency 8] [--rows 10000] [--single-concurrency 4]
        [--port 8783] [--seed 1] [--batches 1] [--skip a,b,singles]

On a scratch database (reqcost_api_<pid>, made, filled and dropped as
bench/request_cost.py does: migrate, seed_demo, --learners synthetic learners
COPYed in by import_learners, ANALYZE, the application roles), it starts
gunicorn with the project's gunicorn.conf.py (DEBUG off, as the application
role) and a real Celery worker (solo pool, on a private queue of
CELERY_BROKER_URL, as the application role too). An API client is issued to a
bench member of Northfield College (api_client_create) and a bearer token got
from POST /api/v1/token with its ID and secret, as an MIS does.

The server is started with the caps and the rate limit raised out of the way,
because a refusal would be measured as a search (ten thousand searches by one
member pass the hourly cap of 60, and a system looping without pause passes 10
calls a second): LOOKUP_USER_HOURLY_CAP=100000000,
LOOKUP_ORG_DAILY_MINIMUM=100000000, API_RATE_LIMIT_PER_SECOND=100000000.

(a) ApacheBench (``ab -n --requests -c --concurrency``, rounds in turn) on
    GET /api/v1/me and on POST /api/v1/learner-searches by ULN for a learner who
    exists, in the same run against the same server: the search's p95 against
    /me's (target within 1.5x).
(b) --rows random existing learners, by their five demographics:
    (b1) as --rows single POST /api/v1/learner-searches calls, --single-concurrency
         at a time (each its own keep-alive connection, as an MIS's threads);
    (b2) as one CSV sent to POST /api/v1/batches, end to end: from the upload
         until GET /api/v1/batches/{id} says complete (polled every 50 ms),
         the results then read from GET /api/v1/batches/{id}/results.
    Target: (b2) at least 2,000 rows a second, and (b2)/(b1) at most 0.5.
    --batches N sends the file N times, one after the other, and prints the
    median; each prints the upload's own time (until the 202) and the batch's
    (its created_at to its finished_at). --skip leaves out part a, part b, or
    the single calls of b ("singles").

Checked in the run: every call answered 2xx; the log gained exactly one API row
a search answered in (a) and (b1) and one batch row a batch row in (b2), each
with the client on it; the batch's outcomes equal (b1)'s row for row. It prints
the load average before and after each part: the machine is shared, so compare
ratios, not times.
"""

import argparse
import csv
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from request_cost import (  # bench/ is the script's folder
    BIN,
    ROOT,
    Run,
    Scratch,
    Server,
    _ab,
    _api_client,
    _bearer,
    _load,
    _portal_env,
    collectstatic,
    portal_database,
)
from scratch import libpq

HEADER = ("given_name", "family_name", "date_of_birth", "gender", "postcode")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--single-concurrency", type=int, default=4)
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--batches", type=int, default=1, help="batches sent one after the other"
    )
    parser.add_argument(
        "--skip",
        default="",
        help="parts not to run, comma-separated: a, b, singles (b1)",
    )
    return parser.parse_args()


# --- the worker and the log -----------------------------------------------------


@dataclass
class Worker:
    env: dict[str, str]
    log: Path
    queue: str
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Worker":
        from lrs_portal.celery import app

        hostname = f"{self.queue}@localhost"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "python"), "-m", "celery", "-A", "lrs_portal",
                    "worker", "--pool=solo", "--queues", self.queue,
                    "--hostname", hostname, "--without-mingle",
                    "--without-gossip", "--loglevel=WARNING",
                ],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the worker stopped at start: see {self.log}")
            if app.control.ping(destination=[hostname], timeout=1.0):
                return self
        sys.exit("the worker did not answer within 240 s")

    def __exit__(self, *_: Any) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)  # our own process group
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _logged(scratch: Scratch, client_id: str) -> dict[str, int]:
    """The log's rows by channel, and those naming the bench's API client."""
    with psycopg.connect(libpq(scratch.url)) as db:
        rows = db.execute(
            "SELECT v.channel, count(*), count(*) FILTER (WHERE c.client_id = %s)"
            " FROM records_learnerview v"
            " LEFT JOIN registration_apiclient a ON a.id = v.api_client_id"
            " LEFT JOIN oauth2_provider_application c ON c.id = a.application_id"
            " GROUP BY v.channel",
            [client_id],
        ).fetchall()
    counts = {}
    for channel, total, ours in rows:
        counts[channel] = int(total)
        counts[f"{channel}_client"] = int(ours)
    return counts


def _sample(size: int) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT given_name, family_name, date_of_birth, gender, postcode"
            " FROM records_learner r WHERE postcode IS NOT NULL AND NOT EXISTS"
            " (SELECT FROM records_learnerlink l WHERE l.learner_id = r.id)"
            " ORDER BY random() LIMIT %s",
            [size],
        )
        return list(cursor.fetchall())


# --- (a) the ULN search against /me --------------------------------------------


def _part_a(
    arguments: argparse.Namespace, web: Server, options: dict[str, list[str]]
) -> dict[str, Any]:
    paths = {"api_me": "/api/v1/me", "api_uln": "/api/v1/learner-searches"}
    runs: dict[str, list[Run]] = {"api_me": [], "api_uln": []}
    answered = 0
    errors = []
    print(f"\n(a) ab, load average {_load()}", flush=True)
    for number in range(arguments.rounds):
        for target in ("api_me", "api_uln"):
            for requests, timed in (
                (arguments.warmup, False),
                (arguments.requests, True),
            ):
                run = _ab(
                    web.url(paths[target]),
                    options[target],
                    requests=requests,
                    concurrency=arguments.concurrency,
                    keepalive=True,
                )
                if run.non_2xx or run.complete != requests:
                    errors.append(f"{target}: {run.non_2xx} non-2xx of {requests}")
                if target == "api_uln":
                    answered += run.complete - run.non_2xx
                if timed:
                    runs[target].append(run)
        print(
            f"  round {number + 1}: /me p95 {runs['api_me'][-1].p95:.0f} ms,"
            f" ULN search p95 {runs['api_uln'][-1].p95:.0f} ms"
            f" (load average {_load()})",
            flush=True,
        )
    me_p95 = statistics.median(r.p95 for r in runs["api_me"])
    uln_p95 = statistics.median(r.p95 for r in runs["api_uln"])
    me_p50 = statistics.median(r.p50 for r in runs["api_me"])
    uln_p50 = statistics.median(r.p50 for r in runs["api_uln"])
    ratio = uln_p95 / me_p95
    print(
        f"  GET /api/v1/me: p50 {me_p50:.0f} ms, p95 {me_p95:.0f} ms,"
        f" {statistics.median(r.per_second for r in runs['api_me']):.0f}/s"
        f"\n  POST /api/v1/learner-searches (ULN): p50 {uln_p50:.0f} ms,"
        f" p95 {uln_p95:.0f} ms,"
        f" {statistics.median(r.per_second for r in runs['api_uln']):.0f}/s"
        f"\n  ULN search p95 / me p95 (median of {arguments.rounds} rounds):"
        f" {ratio:.2f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'});"
        f" rounds {', '.join(f'{u.p95 / m.p95:.2f}x' for u, m in zip(runs['api_uln'], runs['api_me'], strict=True))}"  # noqa: E501
        f"\n  errors: {errors or 0}",
        flush=True,
    )
    return {"answered": answered, "errors": errors, "ratio": ratio}


# --- (b) a batch against the same searches one at a time ------------------------


def _body(learner: tuple[Any, ...]) -> dict[str, Any]:
    given, family, born, gender, postcode = learner
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": born.isoformat(),
        "gender": gender,
        "postcode": postcode,
    }


def _singles(
    web: Server, token: str, learners: list[tuple[Any, ...]], concurrency: int
) -> tuple[float, list[str], list[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    slices = [learners[n::concurrency] for n in range(concurrency)]

    def run(part: list[tuple[Any, ...]]) -> list[tuple[str, str]]:
        answers = []
        with httpx.Client(base_url=web.url(""), headers=headers, timeout=120) as http:
            for learner in part:
                response = http.post("/api/v1/learner-searches", json=_body(learner))
                if response.status_code != 200:
                    answers.append(("", f"{response.status_code}"))
                else:
                    answers.append((response.json()["outcome"], ""))
        return answers

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        parts = list(pool.map(run, slices))
    elapsed = time.perf_counter() - started
    outcomes = [""] * len(learners)
    errors = []
    for n, part in enumerate(parts):
        for m, (outcome, error) in enumerate(part):
            outcomes[n + m * concurrency] = outcome
            if error:
                errors.append(error)
    return elapsed, outcomes, errors


def _file(learners: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for given, family, born, gender, postcode in learners:
        writer.writerow((given, family, born.isoformat(), gender, postcode))
    return out.getvalue().encode()


@dataclass
class BatchRun:
    seconds: float  # from sending the file until the status said complete
    upload: float  # until POST /api/v1/batches answered 202
    worker: float  # the batch's finished_at less its created_at
    outcomes: list[str]
    polls: int


def _batch(web: Server, token: str, data: bytes) -> BatchRun:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=web.url(""), headers=headers, timeout=120) as http:
        started = time.perf_counter()
        sent = http.post(
            "/api/v1/batches", files={"file": ("enrolments.csv", data, "text/csv")}
        )
        upload = time.perf_counter() - started
        if sent.status_code != 202:
            sys.exit(f"POST /api/v1/batches answered {sent.status_code}: {sent.text}")
        address = sent.headers["Location"]
        polls = 0
        while True:
            polls += 1
            status = http.get(address).json()
            if status["status"] in ("complete", "failed"):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if status["status"] != "complete":
            sys.exit(f"the batch failed: {status}")
        results = http.get(f"{address}/results").json()["results"]
    worker = datetime.fromisoformat(status["finished_at"]) - datetime.fromisoformat(
        status["created_at"]
    )
    return BatchRun(
        seconds=elapsed,
        upload=upload,
        worker=worker.total_seconds(),
        outcomes=[row["outcome"] for row in results],
        polls=polls,
    )


def _part_b(arguments: argparse.Namespace, web: Server, token: str) -> dict[str, Any]:
    learners = _sample(arguments.rows)
    rows = len(learners)
    data = _file(learners)
    print(f"\n(b) {rows:,} demographic searches; load average {_load()}", flush=True)
    single_time = 0.0
    single_outcomes: list[str] = []
    errors: list[str] = []
    if "singles" not in arguments.skip.split(","):
        single_time, single_outcomes, errors = _singles(
            web, token, learners, arguments.single_concurrency
        )
        print(
            f"  (b1) {rows:,} single POST /api/v1/learner-searches,"
            f" {arguments.single_concurrency} at a time: {single_time:.1f} s"
            f" ({rows / single_time:,.0f} a second); errors {len(errors)};"
            f" load average {_load()}",
            flush=True,
        )
    same = True
    runs: list[BatchRun] = []
    for number in range(arguments.batches):
        run = _batch(web, token, data)
        runs.append(run)
        rate = rows / run.seconds
        print(
            f"  (b2) batch {number + 1}, POST /api/v1/batches until complete:"
            f" {run.seconds:.2f} s ({rate:,.0f} rows a second, target >= 2,000:"
            f" {'met' if rate >= 2000 else 'NOT met'}); the upload answered in"
            f" {run.upload:.2f} s, the batch ran {run.worker:.2f} s from created to"
            f" finished; {run.polls} status polls; load average {_load()}",
            flush=True,
        )
        if single_outcomes:
            same = same and run.outcomes == single_outcomes
    median = statistics.median(run.seconds for run in runs)
    print(
        f"  (b2) median of {len(runs)}: {median:.2f} s, {rows / median:,.0f} rows"
        f" a second",
        flush=True,
    )
    if single_outcomes:
        ratio = median / single_time
        print(
            f"  (b2)/(b1): {ratio:.3f}x (target <= 0.5x:"
            f" {'met' if ratio <= 0.5 else 'NOT met'})"
            f"\n  the batch's outcomes equal the single calls', row for row: {same}"
            f"\n  outcomes: {_counts(single_outcomes)}",
            flush=True,
        )
    return {
        "singles": len(single_outcomes) - len(errors),
        "rows": rows * len(runs),
        "errors": errors,
        "same": same,
    }


def _counts(outcomes: list[str]) -> str:
    counted: dict[str, int] = {}
    for outcome in outcomes:
        counted[outcome] = counted.get(outcome, 0) + 1
    return ", ".join(f"{k or 'error'} {v}" for k, v in sorted(counted.items()))


# --- the run --------------------------------------------------------------------


def _token(
    web: Server, client: tuple[str, str], uln: str, folder: Path
) -> tuple[str, Any]:
    """A bearer token from POST /api/v1/token, and what ab sends with it."""
    traffic = _bearer(web, client, uln, folder)
    token = traffic.options["api_me"][1].removeprefix("Authorization: Bearer ")
    return token, traffic


def _run(arguments: argparse.Namespace, folder: Path) -> bool:
    database = f"reqcost_api_{os.getpid()}"
    with portal_database(database, arguments.learners, arguments.seed, folder) as (
        scratch,
        secret,
    ):
        from records.models import Learner

        uln = Learner.objects.filter(link__isnull=True).order_by("?")[0].uln
        client = _api_client()
        env = {
            **_portal_env(scratch, secret, folder / "static"),
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "BATCH_QUEUE": f"bench-{uuid.uuid4().hex}",
        }
        collectstatic(env)
        os.environ["BATCH_QUEUE"] = env["BATCH_QUEUE"]  # for the worker's ping
        before = _logged(scratch, client[0])
        outcome: dict[str, Any] = {}
        with (
            Worker(env, folder / "worker.log", env["BATCH_QUEUE"]),
            Server(
                "lrs_portal.wsgi:application",
                env,
                folder / "portal.log",
                arguments.port,
            ) as web,
        ):
            token, traffic = _token(web, client, uln, folder)
            skip = arguments.skip.split(",")
            if "a" not in skip:
                outcome["a"] = _part_a(arguments, web, traffic.options)
            if "b" not in skip:
                outcome["b"] = _part_b(arguments, web, token)
        return _check(scratch, client[0], before, outcome)


def _check(
    scratch: Scratch, client_id: str, before: dict[str, int], outcome: dict[str, Any]
) -> bool:
    after = _logged(scratch, client_id)
    a, b = outcome.get("a", {}), outcome.get("b", {})
    searches = a.get("answered", 0) + b.get("singles", 0)
    api = after.get("api", 0) - before.get("api", 0)
    api_ours = after.get("api_client", 0) - before.get("api_client", 0)
    batch = after.get("batch", 0) - before.get("batch", 0)
    batch_ours = after.get("batch_client", 0) - before.get("batch_client", 0)
    good = api == api_ours == searches and batch == batch_ours == b.get("rows", 0)
    print(
        f"\nlog rows: channel api {api} ({api_ours} naming the client) for"
        f" {searches} searches answered; channel batch {batch} ({batch_ours} naming"
        f" the client) for {b.get('rows', 0)} batch rows:"
        f" {'equal' if good else 'DIFFERENT'}"
        f"\nerrors: {len(a.get('errors', [])) + len(b.get('errors', []))};"
        f" load average {_load()}",
        flush=True,
    )
    return good and not a.get("errors") and not b.get("errors") and b.get("same", True)


def main() -> None:
    arguments = _arguments()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (the batch runs in a real worker).")
    with tempfile.TemporaryDirectory(prefix="api-bench-") as folder:
        good = _run(arguments, Path(folder))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
