"""Benchmark: the cost of a signed-in request under gunicorn (issues 21 and 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    CACHE_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/request_cost.py [--requests 2000] [--rounds 3]
        [--concurrency 8] [--port 8782] [--learners 0] [--keepalive]
        [--targets wsgi,django,account,uln,api_me,api_uln] [--profile]

ApacheBench (Debian's apache2-utils: ``ab``) against gunicorn started with the
project's gunicorn.conf.py (DEBUG off), 8 requests at a time. Each round serves,
one after the other on --port, and measures with ``ab -n --requests``:

- wsgi: a bare WSGI callable (bench/bare_apps.py): gunicorn's own cost, the
  baseline every other figure is divided by;
- django: one Django view behind startproject's middleware, no database;
- account: the portal's account page, signed in as a provider user;
- uln: a find-by-ULN POST for a learner who exists (the match page);
- uln_spread: the same lookup by --spread members, each of an organisation of
  their own (so no two share a member's row or an organisation's caps lock, as
  the thousands of organisations of real traffic do not), one ab process each
  at --concurrency / --spread requests at a time, all at once; its rate is
  every process's requests over the time the slowest took, and its p50 and p95
  those of every request (ab -g);
- api_me, api_uln: GET /api/v1/me and POST /api/v1/learner-searches with a
  bearer token from POST /api/v1/token (issue 12's target: the search's p95
  within 1.5x of /me's).

Before it measures, it creates a scratch database (reqcost_bench_<pid>),
migrates it, loads the demo's data (seed_demo), adds --learners synthetic
learners (import_learners; 1000000 for issue 12's figure), makes the
application roles (setup_database_roles, reqcost_app_<pid>: the web process
refuses a superuser), and signs a bench member of Northfield College in through
the real sign-in pages. Caps and the API rate limit are raised through the
settings' environment variables so that nothing is refused. Afterwards it
checks that every lookup wrote exactly one log row and that the portal wrote
exactly one request log line a request, and drops the database and the roles.

It prints, per target, the median over the rounds of requests a second and of
p50 and p95 (ab's own percentiles, -e), each against the bare WSGI app's, the
load average beside them, and the targets' verdicts: account page at least
1,000 a second, ULN lookup at least 500 and its p95 within 1.3x of the page's,
API ULN search p95 within 1.5x of /me's.

--profile instead serves the portal through bench/profiled_wsgi.py (cProfile
per request path, one thread a worker) for the account page and the lookup,
and prints where their time goes: the top functions, the statements per request
and the time in them.
"""

import argparse
import csv
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from scratch import libpq  # bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-Request-Cost-2026"  # noqa: S105 (a benchmark's own account)
ORGANISATION_UKPRN = "10034567"  # Northfield College in seed_demo
TARGETS = ("wsgi", "django", "account", "uln", "uln_spread", "api_me", "api_uln")
PORTAL = ("account", "uln", "uln_spread", "api_me", "api_uln")
LOOKUPS = ("uln", "uln_spread", "api_uln")
BENCH_EMAIL = "bench-cost@northfield-college.example.com"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOG_LINE = '"event": "request_finished"'


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8782)
    parser.add_argument("--learners", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keepalive", action="store_true", help="ab -k")
    parser.add_argument(
        "--spread", type=int, default=8, help="uln_spread's organisations"
    )
    parser.add_argument(
        "--targets",
        type=lambda text: [t for t in text.split(",") if t],
        default=list(TARGETS),
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--database", default="", help="scratch database (reqcost_bench_<pid>)"
    )
    arguments = parser.parse_args()
    unknown = set(arguments.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if arguments.spread < 1 or arguments.concurrency % arguments.spread:
        parser.error("--spread must divide --concurrency")
    return arguments


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


# --- the scratch database and its roles --------------------------------------


@dataclass
class Scratch:
    admin_url: str  # DATABASE_URL's database, as given (a superuser)
    url: str  # the scratch database, as the superuser
    app_url: str  # the scratch database, as the application role
    name: str
    app_role: str
    owner_role: str


def _with_database(url: str, name: str, user: str = "") -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user:
        netloc = f"{user}@{netloc.rsplit('@', 1)[-1]}"
    return urlunsplit(parts._replace(path=f"/{name}", netloc=netloc))


@contextmanager
def scratch_database(name: str) -> Iterator[Scratch]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (a superuser; this needs PostgreSQL).")
    pid = os.getpid()
    name = name or f"reqcost_bench_{pid}"
    if not name.startswith("reqcost"):
        sys.exit("--database must start with reqcost (a scratch database).")
    scratch = Scratch(
        admin_url=url,
        url=_with_database(url, name),
        app_url=_with_database(url, name, f"reqcost_app_{pid}"),
        name=name,
        app_role=f"reqcost_app_{pid}",
        owner_role=f"reqcost_owner_{pid}",
    )
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield scratch
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(libpq(url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in (scratch.app_role, scratch.owner_role):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def portal_database(
    name: str, learners: int, seed: int, folder: Path, spread: int = 0
) -> Iterator[tuple[Scratch, str]]:
    """The scratch database, this process pointed at it and filled (_prepare),
    with the SECRET_KEY the portal's servers will share; dropped afterwards."""
    secret = secrets.token_urlsafe(50)
    with scratch_database(name) as scratch:
        os.environ.update(
            {
                # This process seeds (seed_demo runs with DEBUG on only).
                "DEBUG": "true",
                "SECRET_KEY": secret,
                "DATABASE_URL": scratch.url,
                "DJANGO_SETTINGS_MODULE": "lrs_portal.settings",
                "LOG_LEVEL": "WARNING",
            }
        )
        sys.path.insert(0, str(ROOT))
        print(f"preparing {scratch.name} (load average {_load()})", flush=True)
        _prepare(scratch, learners, seed, folder, spread)
        yield scratch, secret


def collectstatic(env: dict[str, str]) -> None:
    """The static files the servers' WhiteNoise serves, into env's STATIC_ROOT."""
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


# --- data -------------------------------------------------------------------


def _prepare(
    scratch: Scratch, learners: int, seed: int, folder: Path, spread: int
) -> None:
    """Migrate, the demo's data, more learners, the roles, the bench member."""
    import django
    from django.core.management import call_command

    django.setup()
    from records.log_partitions import partitions_ensure

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    partitions_ensure(months_ahead=3, months_back=1)
    call_command("seed_demo", outbox=str(folder / "outbox.txt"), stdout=_Quiet())
    if learners:
        from records.loading import learners_import
        from records.synthetic import synthetic_write

        path = folder / "learners.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            synthetic_write(count=learners, learners_to=file, seed=seed)
        summary = learners_import(path=path, use_copy=True)
        path.unlink()
        print(f"  learners imported: {summary}", flush=True)
    _bench_member()
    _spread_members(spread)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    call_command(
        "setup_database_roles",
        app_role=scratch.app_role,
        owner_role=scratch.owner_role,
        stdout=_Quiet(),
    )
    print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)


class _Quiet:
    def write(self, *_: Any, **__: Any) -> None:
        pass

    def flush(self) -> None:
        pass


def _bench_member() -> None:
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from lrs_portal import roles
    from lrs_portal.models import User, system_user
    from lrs_portal.transitions import save_with_history
    from registration.models import Membership, Organisation
    from registration.permissions import member_permissions_grant

    organisation = Organisation.objects.get(ukprn=ORGANISATION_UKPRN)
    user = User.objects.create_user(
        "bench-cost@northfield-college.example.com", PASSWORD, full_name="Bench Cost"
    )
    user.groups.add(*Group.objects.filter(name=roles.PROVIDER_USER))
    membership = Membership(
        user=user, organisation=organisation, terms_accepted_at=timezone.now()
    )
    save_with_history(membership, acting_user=system_user(), reason="Bench")
    member_permissions_grant(user=user, organisation=organisation, super_user=False)


def _spread_email(n: int) -> str:
    return f"bench-cost@spread-{n}.example.com"


def _spread_members(count: int) -> None:
    """One member each of ``count`` organisations like Northfield College,
    registered and signed as the demo's are (registration.demo)."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from lrs_portal import roles
    from lrs_portal.models import User, system_user
    from lrs_portal.transitions import save_with_history
    from registration.demo import NORTHFIELD
    from registration.models import AgreementVersion, Membership, Organisation
    from registration.permissions import member_permissions_grant

    version = AgreementVersion.objects.get(number=1)
    group = Group.objects.filter(name=roles.PROVIDER_USER)
    for n in range(1, count + 1):
        organisation = Organisation(
            **{
                **NORTHFIELD,
                "ukprn": f"{10090000 + n}",
                "legal_name": f"SPREAD COLLEGE {n} LIMITED",
                "trading_names": f"Spread College {n}",
                "companies_house_number": f"{19000000 + n}",
                "ico_number": f"Z{9000000 + n}",
            },
            last_signed_version=version,
            purpose_approved_at=timezone.now(),
            registered_at=timezone.now(),
        )
        save_with_history(organisation, acting_user=system_user(), reason="Bench")
        user = User.objects.create_user(
            _spread_email(n), PASSWORD, full_name=f"Bench Spread {n}"
        )
        user.groups.add(*group)
        membership = Membership(
            user=user, organisation=organisation, terms_accepted_at=timezone.now()
        )
        save_with_history(membership, acting_user=system_user(), reason="Bench")
        member_permissions_grant(user=user, organisation=organisation, super_user=False)


def _api_client() -> tuple[str, str]:
    from datetime import timedelta

    from django.utils import timezone

    from lrs_portal.models import User, system_user
    from registration.services.api_clients import api_client_create

    user = User.objects.get(email=BENCH_EMAIL)
    issued = api_client_create(
        organisation=user.membership.organisation,
        member=user,
        name="Bench cost MIS",
        expires_on=timezone.now().date() + timedelta(days=30),
        acting_user=system_user(),
    )
    return issued.client_id, issued.client_secret


def _a_learner_uln() -> str:
    from records.models import Learner

    learner = Learner.objects.filter(link__isnull=True).order_by("?").first()
    assert learner is not None, "no learners"
    return learner.uln


def _log_rows(scratch: Scratch) -> int:
    with psycopg.connect(libpq(scratch.url)) as db:
        row = db.execute("SELECT count(*) FROM records_learnerview").fetchone()
    return int(row[0]) if row else 0


# --- servers ----------------------------------------------------------------


@dataclass
class Server:
    app: str
    env: dict[str, str]
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    str(ROOT / "gunicorn.conf.py"),
                    "--pythonpath",
                    f"{ROOT},{ROOT / 'bench'}",
                    self.app,
                ],
                cwd=ROOT,
                env={**os.environ, **self.env, "SERVE_BIND": f"127.0.0.1:{self.port}"},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.app} stopped at start: see {self.log}")
            try:
                urllib.request.urlopen(self.url("/healthz"), timeout=5)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.3)
        else:
            sys.exit(f"{self.app} did not answer within 120 s")
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __exit__(self, *_: Any) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)  # our own process group
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _portal_env(scratch: Scratch, secret: str, static: Path) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secret,
        "DATABASE_URL": scratch.app_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_ROOT": str(static),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        # Nothing refused: a refusal would be measured as a lookup.
        "LOOKUP_USER_HOURLY_CAP": "100000000",
        "LOOKUP_ORG_DAILY_MINIMUM": "100000000",
        "API_RATE_LIMIT_PER_SECOND": "100000000",
    }


# --- signing in, the token, and what ab sends -----------------------------------


class _Session:
    """A cookie jar of one: enough for the sign-in form and its redirects."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(
        self, path: str, data: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, str]:
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1)
            self.server.url(path),
            data=urlencode(data).encode() if data is not None else None,
            headers={
                "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                **headers,
            },
        )
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


@dataclass
class Traffic:
    """What ab sends for each target: path, cookies, body, headers."""

    paths: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    # uln_spread: one set of options (a member's cookie and form) an ab process.
    spread: list[list[str]] = field(default_factory=list)


def _signed_in(
    server: Server, uln: str, folder: Path, email: str = BENCH_EMAIL
) -> Traffic:
    session = _Session(server)
    _, page = session.request("/account/login/")
    token = CSRF.search(page)
    status, _ = session.request(
        "/account/login/",
        {
            "csrfmiddlewaretoken": token[1] if token else "",
            "sign_in-current_step": "auth",
            "auth-username": email,
            "auth-password": PASSWORD,
        },
    )
    if status != 302:
        sys.exit(f"sign-in answered {status}")
    status, page = session.request("/learners/find-by-uln/")
    token = CSRF.search(page)
    if status != 200 or not token:
        sys.exit(f"the ULN search form answered {status}")
    body = folder / f"uln-{secrets.token_hex(4)}.form"
    body.write_text(
        urlencode(
            {
                "csrfmiddlewaretoken": token[1],
                "uln": uln,
                "privacy_notice": "on",
                "own_student": "on",
            }
        )
    )
    form = body.read_text()
    status, page = session.request(
        "/learners/find-by-uln/",
        dict(pair.split("=", 1) for pair in form.split("&")),
    )
    if status != 200 or "Learner found" not in page:
        sys.exit(f"a ULN lookup answered {status}: {page[:2000]}")
    # One Cookie header (ab's repeated -C would send several, which gunicorn
    # joins with commas into one cookie nobody can read).
    jar = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    cookies = ["-H", f"Cookie: {jar}"]
    return Traffic(
        paths={"account": "/account/", "uln": "/learners/find-by-uln/"},
        options={
            "account": cookies,
            "uln": [
                *cookies,
                "-p",
                str(body),
                "-T",
                "application/x-www-form-urlencoded",
            ],
        },
    )


def _bearer(server: Server, client: tuple[str, str], uln: str, folder: Path) -> Traffic:
    import base64

    basic = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    status, text = _Session(server).request(
        "/api/v1/token",
        {"grant_type": "client_credentials"},
        Authorization=f"Basic {basic}",
    )
    if status != 200:
        sys.exit(f"the token endpoint answered {status}")
    header = ["-H", f"Authorization: Bearer {json.loads(text)['access_token']}"]
    body = folder / "uln.json"
    body.write_text(json.dumps({"uln": uln}))
    return Traffic(
        paths={"api_me": "/api/v1/me", "api_uln": "/api/v1/learner-searches"},
        options={
            "api_me": header,
            "api_uln": [*header, "-p", str(body), "-T", "application/json"],
        },
    )


# --- ab ---------------------------------------------------------------------


@dataclass
class Run:
    per_second: float
    p50: float
    p95: float
    complete: int
    failed: int
    non_2xx: int


def _ab_command(
    url: str, options: list[str], *, requests: int, concurrency: int, keepalive: bool
) -> list[str]:
    return [
        "ab",
        "-q",
        "-n",
        str(requests),
        "-c",
        str(concurrency),
        *(["-k"] if keepalive else []),
        *options,
        url,
    ]


def _ab_spread(
    url: str,
    option_sets: list[list[str]],
    *,
    requests: int,
    concurrency: int,
    keepalive: bool,
) -> Run:
    """One ab process a set of options, all at once, each with its share of the
    requests and of the concurrency; the rate over the slowest's time, the
    percentiles over every request (ab -g: each request's total time in ms)."""
    share, each = len(option_sets), concurrency // len(option_sets)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        running = []
        for n, options in enumerate(option_sets):
            times = Path(folder) / f"{n}.tsv"
            command = _ab_command(
                url,
                ["-g", str(times), *options],
                requests=requests // share,
                concurrency=each,
                keepalive=keepalive,
            )
            running.append(
                (times, subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
            )
        outs = [process.communicate()[0] for _, process in running]
        elapsed = time.perf_counter() - began
        if any(process.returncode for _, process in running):
            sys.exit("ab failed (uln_spread)")
        totals = []
        for times, _ in running:
            with times.open(encoding="ascii") as file:
                rows = list(csv.reader(file, delimiter="\t"))[1:]
            totals += [float(row[4]) for row in rows]  # ttime
    totals.sort()

    def summed(label: str) -> int:
        return sum(
            int(found[1])
            for out in outs
            if (found := re.search(rf"{label}:\s+(\d+)", out))
        )

    complete = summed("Complete requests")
    return Run(
        per_second=complete / elapsed,
        p50=totals[len(totals) // 2],
        p95=totals[int(len(totals) * 0.95)],
        complete=complete,
        failed=summed("Failed requests"),
        non_2xx=summed("Non-2xx responses"),
    )


def _ab(
    url: str, options: list[str], *, requests: int, concurrency: int, keepalive: bool
) -> Run:
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        command = _ab_command(
            url,
            ["-e", percentiles.name, *options],
            requests=requests,
            concurrency=concurrency,
            keepalive=keepalive,
        )
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"ab failed: {done.stderr.strip()}")
        with open(percentiles.name, encoding="ascii") as file:
            rows = {int(row[0]): float(row[1]) for row in list(csv.reader(file))[1:]}
    out = done.stdout

    def number(label: str) -> float:
        found = re.search(rf"{label}:\s+([\d.]+)", out)
        return float(found[1]) if found else 0.0

    return Run(
        per_second=number("Requests per second"),
        p50=rows[50],
        p95=rows[95],
        complete=int(number("Complete requests")),
        failed=int(number("Failed requests")),
        non_2xx=int(number("Non-2xx responses")),
    )


# --- the measurement ----------------------------------------------------------


@dataclass
class Tally:
    runs: dict[str, list[Run]] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)  # every 2xx, warm-ups too
    errors: list[str] = field(default_factory=list)
    log_lines_expected: int = 0  # the portal's requests while measured
    log_lines_seen: int = 0  # its request log lines meanwhile


def _measure(
    arguments: argparse.Namespace,
    server: Server,
    traffic: Traffic,
    targets: list[str],
    tally: Tally,
) -> None:
    for target in targets:
        url = server.url(traffic.paths[target])
        options = traffic.options[target]
        for requests, timed in ((arguments.warmup, False), (arguments.requests, True)):
            if not requests:
                continue
            if target == "uln_spread":
                requests -= requests % len(traffic.spread)
                run = _ab_spread(
                    url,
                    traffic.spread,
                    requests=requests,
                    concurrency=arguments.concurrency,
                    keepalive=arguments.keepalive,
                )
            else:
                run = _ab(
                    url,
                    options,
                    requests=requests,
                    concurrency=arguments.concurrency,
                    keepalive=arguments.keepalive,
                )
            if run.non_2xx or run.complete != requests:
                tally.errors.append(
                    f"{target}: {run.non_2xx} non-2xx, {run.complete} of {requests}"
                )
            tally.served[target] = (
                tally.served.get(target, 0) + run.complete - run.non_2xx
            )
            if target in PORTAL:
                tally.log_lines_expected += run.complete
            if timed:
                tally.runs.setdefault(target, []).append(run)


def _lookup_verdicts(label: str, lookup: Run, account: Run | None) -> list[str]:
    """A lookup's two targets: 500 a second, and its p95 within 1.3x the page's."""
    said = [
        f"{label} {lookup.per_second:.0f}/s (target >= 500:"
        f" {'met' if lookup.per_second >= 500 else 'NOT met'})"
    ]
    if account is not None:
        ratio = lookup.p95 / account.p95
        said.append(
            f"{label} p95 / account page p95 {ratio:.2f}x (target <= 1.3x:"
            f" {'met' if ratio <= 1.3 else 'NOT met'})"
        )
    return said


def _report(arguments: argparse.Namespace, tally: Tally) -> None:
    print(
        f"\n{arguments.rounds} rounds of {arguments.requests} requests a target,"
        f" {arguments.concurrency} at a time"
        f"{', keep-alive' if arguments.keepalive else ''};"
        f" load average now {_load()}"
    )
    median: dict[str, Run] = {}
    for target, runs in tally.runs.items():
        median[target] = Run(
            per_second=statistics.median(r.per_second for r in runs),
            p50=statistics.median(r.p50 for r in runs),
            p95=statistics.median(r.p95 for r in runs),
            complete=sum(r.complete for r in runs),
            failed=sum(r.failed for r in runs),
            non_2xx=sum(r.non_2xx for r in runs),
        )
    base = median.get("wsgi")
    print(
        f"{'target':10} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'wsgi/x req/s':>13} {'rounds req/s':>30}"
    )
    for target in TARGETS:
        if target not in median:
            continue
        run = median[target]
        against = f"{base.per_second / run.per_second:12.1f}x" if base else ""
        rounds = " ".join(f"{r.per_second:.0f}" for r in tally.runs[target])
        print(
            f"{target:10} {run.per_second:8.0f} {run.p50:7.2f} {run.p95:7.2f}"
            f" {against:>13} {rounds:>30}"
        )
    verdicts = []
    if "account" in median:
        account = median["account"]
        verdicts.append(
            f"account page {account.per_second:.0f}/s (target >= 1000:"
            f" {'met' if account.per_second >= 1000 else 'NOT met'})"
        )
    for target, label in (
        ("uln", "ULN lookup"),
        ("uln_spread", f"ULN lookup by {arguments.spread} organisations"),
    ):
        if target in median:
            verdicts += _lookup_verdicts(label, median[target], median.get("account"))
    if "api_uln" in median and "api_me" in median:
        ratio = median["api_uln"].p95 / median["api_me"].p95
        verdicts.append(
            f"API ULN search p95 / GET /api/v1/me p95 {ratio:.2f}x (target <= 1.5x:"
            f" {'met' if ratio <= 1.5 else 'NOT met'})"
        )
    for verdict in verdicts:
        print(f"  {verdict}")


def _log_lines(log: Path) -> int:
    """The portal's request log lines, not counting /healthz: the start-up probe
    (Server.__enter__) may time out on a loaded machine and its line be written
    after the count before a round was taken."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return sum(
        1 for line in text.splitlines() if LOG_LINE in line and "/healthz" not in line
    )


def _check_logs(scratch: Scratch, tally: Tally, rows_before: int) -> None:
    searched = sum(tally.served.get(t, 0) for t in LOOKUPS)
    rows = _log_rows(scratch) - rows_before
    same = "equal" if rows == searched else "DIFFERENT"
    print(f"log rows written {rows}, lookups answered {searched}: {same}")
    lines = tally.log_lines_seen
    same = "equal" if lines == tally.log_lines_expected else "DIFFERENT"
    print(
        f"request log lines {lines}, portal requests measured"
        f" {tally.log_lines_expected}: {same}"
    )
    print(f"errors: {len(tally.errors)} {tally.errors[:5]}")


def _run(arguments: argparse.Namespace, folder: Path) -> None:
    with portal_database(
        arguments.database,
        arguments.learners,
        arguments.seed,
        folder,
        arguments.spread if "uln_spread" in arguments.targets else 0,
    ) as (scratch, secret):
        env = _portal_env(scratch, secret, folder / "static")
        collectstatic(env)
        uln = _a_learner_uln()
        client = _api_client()
        if arguments.profile:
            _profile(arguments, scratch, env, uln, client, folder)
            return
        _compare(arguments, scratch, env, uln, client, folder)


def _compare(
    arguments: argparse.Namespace,
    scratch: Scratch,
    env: dict[str, str],
    uln: str,
    client: tuple[str, str],
    folder: Path,
) -> None:
    targets = arguments.targets
    portal_log = folder / "portal.log"
    bare_log = folder / "bare.log"
    with Server("lrs_portal.wsgi:application", env, portal_log, arguments.port) as web:
        traffic = _signed_in(web, uln, folder)
        api = _bearer(web, client, uln, folder)
        if "uln_spread" in targets:
            for n in range(1, arguments.spread + 1):
                member = _signed_in(web, uln, folder, _spread_email(n))
                traffic.spread.append(member.options["uln"])
    traffic.paths.update(uln_spread=traffic.paths["uln"])
    traffic.options.update(uln_spread=[])
    traffic.paths.update(api.paths)
    traffic.options.update(api.options)
    traffic.paths.update(wsgi="/", django="/")
    traffic.options.update(wsgi=[], django=[])
    tally = Tally()
    rows_before = _log_rows(scratch)
    bare = {"wsgi": "bare_apps:wsgi", "django": "bare_apps:django()"}
    for number in range(arguments.rounds):
        print(f"round {number + 1} (load average {_load()})", flush=True)
        for target, app in bare.items():
            if target in targets:
                with Server(app, {}, bare_log, arguments.port) as server:
                    _measure(arguments, server, traffic, [target], tally)
        portal = [t for t in targets if t in PORTAL]
        if portal:
            with Server(
                "lrs_portal.wsgi:application", env, portal_log, arguments.port
            ) as web:
                before = _log_lines(portal_log)
                _measure(arguments, web, traffic, portal, tally)
            tally.log_lines_seen += _log_lines(portal_log) - before
    _report(arguments, tally)
    _check_logs(scratch, tally, rows_before)


def _profile(
    arguments: argparse.Namespace,
    scratch: Scratch,
    env: dict[str, str],
    uln: str,
    client: tuple[str, str],
    folder: Path,
) -> None:
    out = folder / "profile"
    out.mkdir()
    log = folder / "portal.log"
    profiled = {**env, "REQUEST_COST_PROFILE_DIR": str(out), "GUNICORN_THREADS": "1"}
    with Server("profiled_wsgi:application", profiled, log, arguments.port) as web:
        traffic = _signed_in(web, uln, folder)
        api = _bearer(web, client, uln, folder)
        traffic.paths.update(api.paths)
        traffic.options.update(api.options)
        # Each member's lookups profile as the one member's do: uln_spread is left out.
        targets = [t for t in arguments.targets if t in PORTAL and t != "uln_spread"]
        _measure(arguments, web, traffic, targets, Tally())
    for target in targets:
        path = traffic.paths[target]
        files = sorted(out.glob(f"*-{path.strip('/').replace('/', '_')}.prof"))
        totals: dict[str, Any] = {
            "requests": 0,
            "seconds": 0.0,
            "cpu_seconds": 0.0,
            "statements": 0,
            "sql_seconds": 0.0,
        }
        kinds: dict[str, list[Any]] = {}
        for summary in out.glob("*.json"):
            entry = json.loads(summary.read_text()).get(path)
            if not entry:
                continue
            for key in totals:
                totals[key] += entry.get(key, 0)
            for sql, (count, seconds) in entry["by_statement"].items():
                kind = kinds.setdefault(sql, [0, 0.0])
                kind[0] += count
                kind[1] += seconds
        n = max(totals["requests"], 1)
        print(
            f"\n=== {target} ({path}): {totals['requests']} requests in the profile,"
            f" {totals['seconds'] / n * 1000:.2f} ms wall and"
            f" {totals['cpu_seconds'] / n * 1000:.2f} ms CPU each (profiled),"
            f" {totals['statements'] / n:.1f} statements,"
            f" {totals['sql_seconds'] / n * 1000:.2f} ms in them"
        )
        for sql, (count, seconds) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
            print(f"  {count / n:4.1f}x {seconds / n * 1000:6.3f} ms  {sql}")
        stats = pstats.Stats(*map(str, files), stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    arguments = _arguments()
    if shutil.which("ab") is None:
        sys.exit("ab is missing: apt-get install apache2-utils")
    with tempfile.TemporaryDirectory(prefix="reqcost-") as folder:
        _run(arguments, Path(folder))


if __name__ == "__main__":
    main()
