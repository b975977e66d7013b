"""Benchmark: 50 signed-in users against `make serve` for 60 s (issue 15).

    # the server, with caps and the API's rate limit out of the benchmark's way
    # (a refusal is an error here; a system looping without pause passes 10 a second):
    LOOKUP_USER_HOURLY_CAP=1000000 LOOKUP_ORG_DAILY_MINIMUM=10000000 \\
        API_RATE_LIMIT_PER_SECOND=100000 make serve
    # then, with the same DATABASE_URL (the application role will do):
    DATABASE_URL=postgres://lrs_app@127.0.0.1:5432/lrs_serve \\
        .venv/bin/python bench/load.py [--base-url http://127.0.0.1:8000]
        [--users 50] [--duration 60] [--seed 1] [--api-users 10]

Needs the demo's data (seed_demo: Northfield College and its learners). Before the
run it adds --users provider members to Northfield College (bench-N@…, a fifth of
them super users, who may open the usage page), through the ORM as seed_demo
does; they sign in through the real sign-in wizard (a provider user has no second
factor; staff would need one). Then each user, in its own HTTP client with its
own session, loops over a mix without pause: ULN searches (35 %), demographic
searches (15 %), record views after an exact ULN match (20 %), the account page
(15 %, the trivial signed-in page), the usage page (super users, 10 %), and a
fresh sign-in (5 %). Beside them, --api-users provider systems (an MIS each: an
API client issued to its own bench member with api_client_create, a bearer token
from POST /api/v1/token) loop over the API: ULN searches (50 %), demographic
searches (30 %) and learning events (20 %), with `GET /api/v1/me` as the API's
trivial call on every fifth request. Traffic goes to 127.0.0.1 only.

It prints throughput and p50/p95/p99 a kind, the ratio of a ULN search to the
account page at p50 and p95 (target within 1.5x), the same for the API's ULN
search against /api/v1/me, the errors (target 0: any
status but the expected, or a refusal), and whether the log's new rows for the
organisation equal the successful searches and views exactly.
"""

import argparse
import asyncio
import logging
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from registration.models import Organisation

logging.getLogger("httpx").setLevel(logging.WARNING)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lrs_portal.settings")
os.environ.setdefault("DEBUG", "true")  # this process only reads and seeds the ORM

PASSWORD = "bench-Learning-Records-2026"  # noqa: S105 (a benchmark's own accounts)
ORGANISATION_UKPRN = "10034567"  # Northfield College in seed_demo
MIX = (
    ("uln", 35),
    ("details", 15),
    ("view", 20),
    ("account", 15),
    ("usage", 10),
    ("sign_in", 5),
)
API_MIX = (("api_uln", 50), ("api_details", 30), ("api_events", 20))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HANDLE = re.compile(r'name="handle" value="([^"]+)"')


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    logged: int = 0  # successful searches and views: each must be one log row
    ready: int = 0
    started: float = 0.0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--api-users",
        type=int,
        default=10,
        help="provider systems calling the API beside the people (default 10)",
    )
    return parser.parse_args()


def _api_clients(organisation: "Organisation", count: int) -> list[tuple[str, str]]:
    """An API client (client id, secret) for each of ``count`` bench members."""
    from datetime import timedelta

    from django.contrib.auth.models import Group
    from django.utils import timezone

    from lrs_portal import roles
    from lrs_portal.models import User, system_user
    from lrs_portal.transitions import save_with_history
    from registration.models import Membership
    from registration.permissions import member_permissions_grant
    from registration.services.api_clients import api_client_create

    clients = []
    for number in range(count):
        email = f"bench-mis-{number}@northfield-college.example.com"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, PASSWORD, full_name=f"MIS {number}")
            user.groups.add(*Group.objects.filter(name=roles.PROVIDER_USER))
            membership = Membership(
                user=user, organisation=organisation, terms_accepted_at=timezone.now()
            )
            save_with_history(membership, acting_user=system_user(), reason="Bench")
            member_permissions_grant(
                user=user, organisation=organisation, super_user=False
            )
        issued = api_client_create(
            organisation=organisation,
            member=user,
            name=f"Bench MIS {number} {time.time_ns()}",
            expires_on=timezone.now().date() + timedelta(days=30),
            acting_user=system_user(),
        )
        clients.append((issued.client_id, issued.client_secret))
    return clients


def _prepare(
    users: int, api_users: int = 0
) -> tuple[list[tuple[str, bool]], list[dict[str, str]], int, list[tuple[str, str]]]:
    """Bench members (email, super user), learners to look up, the log's last id,
    and the API clients (client id, secret)."""
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from lrs_portal import roles
    from lrs_portal.models import User, system_user
    from lrs_portal.transitions import save_with_history
    from records.models import Learner, LearnerView
    from registration.models import Membership, Organisation
    from registration.permissions import member_permissions_grant

    organisation = Organisation.objects.get(ukprn=ORGANISATION_UKPRN)
    members = []
    for number in range(users):
        super_user = number % 5 == 0
        email = f"bench-{number}@northfield-college.example.com"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, PASSWORD, full_name=f"Bench {number}"
            )
            names = [roles.PROVIDER_USER] + [roles.PROVIDER_SUPER_USER] * super_user
            user.groups.add(*Group.objects.filter(name__in=names))
            membership = Membership(
                user=user,
                organisation=organisation,
                is_super_user=super_user,
                terms_accepted_at=timezone.now(),
            )
            save_with_history(membership, acting_user=system_user(), reason="Bench")
            member_permissions_grant(
                user=user, organisation=organisation, super_user=super_user
            )
        members.append((email, super_user))
    learners = [
        {
            "uln": learner.uln,
            "given_name": learner.given_name,
            "family_name": learner.family_name,
            "date_of_birth_day": str(learner.date_of_birth.day),
            "date_of_birth_month": str(learner.date_of_birth.month),
            "date_of_birth_year": str(learner.date_of_birth.year),
            "gender": str(learner.gender),
            "postcode": learner.postcode,
        }
        for learner in Learner.objects.order_by("?")[:500]
    ]
    last = LearnerView.objects.order_by("-id").values_list("id", flat=True).first()
    return members, learners, last or 0, _api_clients(organisation, api_users)


def _logged_since(last_id: int) -> int:
    from records.models import LearnerView

    return LearnerView.objects.filter(
        id__gt=last_id, organisation__ukprn=ORGANISATION_UKPRN
    ).count()


def _csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    return match[1] if match else ""


async def _sign_in(base: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    form = await client.get("/account/login/")
    response = await client.post(
        str(form.url.path),
        data={
            "csrfmiddlewaretoken": _csrf(form),
            "sign_in-current_step": "auth",
            "auth-username": email,
            "auth-password": PASSWORD,
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in answered {response.status_code}")
    return client


CONFIRMED = {"privacy_notice": "on", "own_student": "on"}


async def _user(
    base: str,
    email: str,
    super_user: bool,
    learners: list[dict[str, str]],
    results: Results,
    start: asyncio.Event,
    duration: float,
    rng: random.Random,
) -> None:
    kinds = [kind for kind, _ in MIX if super_user or kind != "usage"]
    weights = [weight for kind, weight in MIX if super_user or kind != "usage"]
    client = await _sign_in(base, email)
    find = await client.get("/learners/find-by-uln/")
    results.ready += 1
    await start.wait()  # every user signed in: the clock starts
    until = time.monotonic() + duration
    token = _csrf(find)
    handle = ""
    try:
        while time.monotonic() < until:
            kind = rng.choices(kinds, weights)[0]
            if kind == "view" and not handle:
                kind = "uln"
            learner = rng.choice(learners)
            started = time.perf_counter()
            try:
                if kind == "uln":
                    response = await client.post(
                        "/learners/find-by-uln/",
                        data={
                            "csrfmiddlewaretoken": token,
                            "uln": learner["uln"],
                            **CONFIRMED,
                        },
                    )
                    found = HANDLE.search(response.text)
                    handle = found[1] if found else handle
                elif kind == "details":
                    details = {k: v for k, v in learner.items() if k != "uln"}
                    response = await client.post(
                        "/learners/find-by-details/",
                        data={"csrfmiddlewaretoken": token, **details, **CONFIRMED},
                    )
                elif kind == "view":
                    response = await client.post(
                        "/learners/record/",
                        data={"csrfmiddlewaretoken": token, "handle": handle},
                    )
                elif kind == "account":
                    response = await client.get("/account/")
                elif kind == "usage":
                    response = await client.get("/organisation/usage/")
                else:
                    await client.aclose()
                    client = await _sign_in(base, email)
                    response = await client.get("/learners/find-by-uln/")
                    token = _csrf(response)
            except httpx.TransportError as error:
                # a dropped connection is an error of the run, not its end
                results.errors.append(f"{kind}: {type(error).__name__}")
                continue
            elapsed = time.perf_counter() - started
            ok = response.status_code == 200
            if not ok:
                results.errors.append(f"{kind}: {response.status_code}")
                continue
            results.times[kind].append(elapsed)
            if kind in ("uln", "details", "view"):
                results.logged += 1
    finally:
        await client.aclose()


async def _mis(
    base: str,
    credentials: tuple[str, str],
    learners: list[dict[str, str]],
    results: Results,
    start: asyncio.Event,
    duration: float,
    rng: random.Random,
) -> None:
    """A provider's system: a bearer token, then API calls without pause."""
    client = httpx.AsyncClient(base_url=base, timeout=60)
    granted = await client.post(
        "/api/v1/token", data={"grant_type": "client_credentials"}, auth=credentials
    )
    if granted.status_code != 200:
        raise RuntimeError(f"token answered {granted.status_code}")
    client.headers["Authorization"] = f"Bearer {granted.json()['access_token']}"
    results.ready += 1
    await start.wait()
    until = time.monotonic() + duration
    kinds = [kind for kind, _ in API_MIX]
    weights = [weight for _, weight in API_MIX]
    calls = 0
    try:
        while time.monotonic() < until:
            calls += 1
            kind = "api_me" if calls % 5 == 0 else rng.choices(kinds, weights)[0]
            learner = rng.choice(learners)
            started = time.perf_counter()
            try:
                if kind == "api_me":
                    response = await client.get("/api/v1/me")
                elif kind == "api_uln":
                    response = await client.post(
                        "/api/v1/learner-searches", json={"uln": learner["uln"]}
                    )
                elif kind == "api_details":
                    born = "{date_of_birth_year}-{date_of_birth_month:0>2}-{date_of_birth_day:0>2}"  # noqa: E501
                    response = await client.post(
                        "/api/v1/learner-searches",
                        json={
                            "given_name": learner["given_name"],
                            "family_name": learner["family_name"],
                            "date_of_birth": born.format(**learner),
                            "gender": int(learner["gender"]),
                            "postcode": learner["postcode"],
                        },
                    )
                else:
                    response = await client.post(
                        "/api/v1/learning-events",
                        json={
                            "uln": learner["uln"],
                            "given_name": learner["given_name"],
                            "family_name": learner["family_name"],
                        },
                    )
            except httpx.TransportError as error:
                # a dropped connection is an error of the run, not its end
                results.errors.append(f"{kind}: {type(error).__name__}")
                continue
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                results.errors.append(f"{kind}: {response.status_code}")
                continue
            results.times[kind].append(elapsed)
            if kind != "api_me":
                results.logged += 1
    finally:
        await client.aclose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(args: argparse.Namespace) -> Results:
    members, learners, _, api_clients = _PREPARED
    results = Results()
    start = asyncio.Event()
    rng = random.Random(args.seed)
    users = asyncio.gather(
        *(
            _user(
                args.base_url,
                email,
                su,
                learners,
                results,
                start,
                args.duration,
                random.Random(rng.random()),
            )
            for email, su in members
        ),
        *(
            _mis(
                args.base_url,
                credentials,
                learners,
                results,
                start,
                args.duration,
                random.Random(rng.random()),
            )
            for credentials in api_clients
        ),
    )
    while results.ready < len(members) + len(api_clients) and not users.done():
        await asyncio.sleep(0.1)
    start.set()
    results.started = time.monotonic()
    await users
    return results


def main() -> None:
    global _PREPARED
    args = _arguments()
    _PREPARED = _prepare(args.users, args.api_users)
    results = asyncio.run(_run(args))
    wall = time.monotonic() - results.started
    logged = _logged_since(_PREPARED[2])
    total = sum(len(v) for v in results.times.values())
    print(
        f"{args.users} users and {args.api_users} systems, {wall:.1f} s,"
        f" {total} requests, {total / wall:.1f}/s"
    )
    print(
        f"{'kind':10} {'count':>6} {'per s':>6}"
        f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for kind in [k for k, _ in MIX] + ["api_me"] + [k for k, _ in API_MIX]:
        values = results.times.get(kind, [])
        if not values:
            continue
        print(
            f"{kind:10} {len(values):6} {len(values) / wall:6.1f}"
            f" {statistics.median(values) * 1000:7.0f}"
            f" {_percentile(values, 0.95) * 1000:7.0f}"
            f" {_percentile(values, 0.99) * 1000:7.0f}"
        )
    uln, account = results.times["uln"], results.times["account"]
    if uln and account:
        p50 = statistics.median(uln) / statistics.median(account)
        p95 = _percentile(uln, 0.95) / _percentile(account, 0.95)
        print(
            f"ULN search / account page: {p50:.2f}x at p50, {p95:.2f}x at p95"
            " (target within 1.5x)"
        )
    api_uln, api_me = results.times["api_uln"], results.times["api_me"]
    if api_uln and api_me:
        p50 = statistics.median(api_uln) / statistics.median(api_me)
        p95 = _percentile(api_uln, 0.95) / _percentile(api_me, 0.95)
        print(
            f"API ULN search / GET /api/v1/me: {p50:.2f}x at p50, {p95:.2f}x at p95"
            " (target within 1.5x)"
        )
    print(f"errors: {len(results.errors)} {sorted(set(results.errors))[:10]}")
    same = "equal" if logged == results.logged else "DIFFERENT"
    print(f"log rows {logged}, successful searches and views {results.logged}: {same}")


_PREPARED: tuple[
    list[tuple[str, bool]], list[dict[str, str]], int, list[tuple[str, str]]
]

if __name__ == "__main__":
    main()
