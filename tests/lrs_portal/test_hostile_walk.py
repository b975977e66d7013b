"""Every URL pattern, fed hostile values, answers no 500 (issue 16).

The patterns come from the URLconf itself (admin included), so a URL added later
is walked too. For each pattern, with a seeded choice of visitors:

1. the page with real values where the world has them (else ``1``), recording the
   query parameters the view reads and the fields of the forms it shows;
2. the same page with hostile values in every query parameter it read (and a few
   every view might: ``next``, ``q``, ``p``, ``o``, ``from``, ``to``);
3. each POST form it showed, posted with a hostile value in every field;
4. hostile values in each path parameter.

Hostile values: very long text, NUL, control characters, an unpaired surrogate
(sent as the bytes a browser cannot, but an attacker can), huge and negative
numbers, dates at the edges of the calendar, markup and SQL. Every answer is a
page, a redirect or a download; every refusal (4xx) is a GOV.UK page or a problem
document. Sampled, not every combination: the seed makes a failure repeatable.
"""

import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.http import HttpRequest, QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from approvals.models import DataShareRequest
from registration.models import Organisation
from tests.approvals.conftest import build_cast
from tests.conftest import verified_client
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    member_of,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Fixed, so a failure is repeatable; HOSTILE_WALK_SEED explores other samples.
SEED = int(os.environ.get("HOSTILE_WALK_SEED", "16"))

# Characters the address check refuses outright (lrs_portal.hostile_input); sent
# one at a time in a query so that the other parameters reach the view.
CONTROL = [
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "line\r\nbreak\ttab",
    "\x85\x9f",
    "\ud800",
    "\udfff\ud800x",
]
PRINTABLE = [
    "A" * 5000,
    "-1",
    "0",
    "-99999999999999999999",
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "1e308",
    "NaN",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "0000-00-00",
    "2026-02-30",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "../../../etc/passwd",
    "%",
    "\u202egnp.exe",
    "\U0001f4a5" * 300,
    " ",
]
HOSTILE = CONTROL + PRINTABLE
COMMON_QUERY = ["next", "q", "p", "o", "from", "to", "e"]
REFUSALS = range(400, 500)


def encode(value: str) -> str:
    """Percent-encode as bytes on the wire (an unpaired surrogate included)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


# --- the URLconf, walked ------------------------------------------------------------


@dataclass
class Pattern:
    route: str  # the whole route, each parameter as {name}
    params: list[str]
    name: str
    callback: Any


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|\(([^)]*)\)")
_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _piece(pattern: Any, params: list[str]) -> str:
    if isinstance(pattern, RoutePattern):
        text = str(pattern)

        def route_param(found: re.Match[str]) -> str:
            params.append(found[1])
            return "{" + found[1] + "}"

        return _ROUTE_PARAM.sub(route_param, text)
    assert isinstance(pattern, RegexPattern)
    text = pattern.regex.pattern

    def regex_param(found: re.Match[str]) -> str:
        name = found[1] or f"arg{len(params)}"
        params.append(name)
        return "{" + name + "}"

    return _GROUP.sub(regex_param, text).lstrip("^").rstrip("$").replace("\\", "")


def url_patterns() -> list[Pattern]:
    def walk(patterns: list[Any], prefix: str, params: list[str]) -> Iterator[Pattern]:
        for entry in patterns:
            mine = list(params)
            route = prefix + _piece(entry.pattern, mine)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route, mine)
            else:
                assert isinstance(entry, URLPattern)
                yield Pattern(route, mine, entry.name or "", entry.callback)

    return list(walk(get_resolver().url_patterns, "/", []))


# --- what a page reads and shows -------------------------------------------------

READ_KEYS: set[str] = set()


class RecordingQueryDict(QueryDict):
    def __getitem__(self, key: str) -> Any:
        READ_KEYS.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key is not None:  # DRF asks for None when URL_FORMAT_OVERRIDE is off
            READ_KEYS.add(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> Any:
        READ_KEYS.add(key)
        return super().getlist(key, default)

    def __contains__(self, key: object) -> bool:
        READ_KEYS.add(str(key))
        return super().__contains__(key)


class RecordQueryReads:
    """Test-only middleware: note which query parameters the view reads."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        query = request.META.get("QUERY_STRING", "")
        request.GET = RecordingQueryDict(query)  # type: ignore[assignment]
        return self.get_response(request)


class PostForms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self._in_post = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._in_post = (values.get("method") or "").lower() == "post"
            if self._in_post:
                self.forms.append((values.get("action") or "", []))
        elif self._in_post and tag in {"input", "select", "textarea", "button"}:
            name = values.get("name")
            if name and name != "csrfmiddlewaretoken":
                self.forms[-1][1].append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post = False


# --- the world and its visitors ---------------------------------------------------


@dataclass
class World:
    users: dict[str, Any]
    visitors: dict[str, Client]
    real: dict[str, list[str]] = field(default_factory=dict)

    def sign_in_again(self, visitor: str) -> None:
        """After a hostile POST (it may have changed a password or a device)."""
        if visitor in self.users:
            self.visitors[visitor] = _client(self.users[visitor])


def _client(user: Any) -> Client:
    client = verified_client(user) if user.requires_mfa else Client()
    if not user.requires_mfa:
        client.force_login(user)
    client.raise_request_exception = False
    return client


@pytest.fixture
def world(settings) -> World:
    settings.COMPANIES_HOUSE_API_KEY = ""
    recorder = "tests.lrs_portal.test_hostile_walk.RecordQueryReads"
    settings.MIDDLEWARE = [recorder, *settings.MIDDLEWARE]
    version = AgreementVersionFactory.create()
    ours = OrganisationFactory.create(last_signed_version=version)
    suspended = OrganisationFactory.create(
        last_signed_version=version, status=Organisation.Status.SUSPENDED
    )
    application = RegistrationApplicationFactory.create()
    cast = build_cast()
    users = {
        "provider_user": member_of(ours),
        "provider_super_user": member_of(ours, super_user=True),
        "suspended_super_user": member_of(suspended, super_user=True),
        "applicant": application.applicant,
        "requester": cast.requester,
        "caseworker": cast.caseworker,
        "assessor": cast.assessor,
        "panel_member": cast.chair,
        "superuser": UserFactory.create(superuser=True),
    }
    visitors = {name: _client(user) for name, user in users.items()}
    visitors["anonymous"] = Client(raise_request_exception=False)
    share = DataShareRequest.objects.get(pk=cast.request.pk)
    return World(
        users=users,
        visitors=visitors,
        real={
            "reference": [application.reference, share.reference],
            "key": ["project", "legal", "data", "access", "dates"],
            "app_label": ["registration", "records", "approvals", "lrs_portal"],
        },
    )


def _real_value(world: World, pattern: Pattern, param: str, rng: random.Random) -> str:
    if param in world.real:
        return rng.choice(world.real[param])
    model_admin = _model_admin(pattern)
    if model_admin is not None and param in {"object_id", "arg0", "pk", "id"}:
        first = model_admin.model._default_manager.order_by("pk").first()
        if first is not None:
            return str(first.pk)
    return "1"


def _model_admin(pattern: Pattern) -> Any:
    found = getattr(pattern.callback, "model_admin", None)
    if found is not None:
        return found
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if pattern.name.startswith(f"{meta.app_label}_{meta.model_name}_"):
            return model_admin
    return None


# --- the walk ------------------------------------------------------------------


@dataclass
class Walk:
    rng: random.Random
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def hostile(self, values: list[str] = HOSTILE) -> str:
        return self.rng.choice(values)

    def check(self, visitor: str, method: str, url: str, response: Any) -> None:
        status = response.status_code
        self.answers.append((visitor, f"{method} {url[:120]}", status))
        where = f"{visitor} {method} {url[:200]!r} -> {status}"
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self.problems.append(where)
        elif status in REFUSALS and not _is_a_proper_refusal(response):
            self.problems.append(f"{where}: not a GOV.UK page or problem document")


def _is_a_proper_refusal(response: Any) -> bool:
    kind = response.get("Content-Type", "")
    if kind.startswith("application/problem+json"):
        return True
    if kind.startswith("application/json") and response.wsgi_request.path == (
        "/api/v1/token"
    ):
        # The token endpoint answers as OAuth 2.0 says (RFC 6749 5.2:
        # {"error": "invalid_client"} and the like), which clients depend on.
        return b'"error"' in response.content
    if getattr(response, "streaming", False):
        return False
    return b"govuk-template" in response.content


def _url(pattern: Pattern, values: dict[str, str]) -> str:
    return pattern.route.format(**values)


def _visit(walk: Walk, world: World, pattern: Pattern, visitor: str) -> None:
    client = world.visitors[visitor]
    real = {p: encode(_real_value(world, pattern, p, walk.rng)) for p in pattern.params}
    url = _url(pattern, real)

    READ_KEYS.clear()
    response = client.get(url)
    walk.check(visitor, "GET", url, response)
    # DRF asks for a None key when URL_FORMAT_OVERRIDE is off: not a real parameter
    keys = sorted(k for k in READ_KEYS | set(COMMON_QUERY) if k is not None)
    forms = PostForms()
    if not getattr(response, "streaming", False):
        forms.feed(response.content.decode(errors="replace"))

    query = "&".join(f"{encode(k)}={encode(walk.hostile(PRINTABLE))}" for k in keys)
    walk.check(visitor, "GET", f"{url}?{query}", client.get(f"{url}?{query}"))
    control = f"{encode(walk.rng.choice(keys))}={encode(walk.hostile(CONTROL))}"
    walk.check(visitor, "GET", f"{url}?{control}", client.get(f"{url}?{control}"))

    for action, names in _forms_to_post(forms, url)[:2]:
        target = action if action.startswith("/") else url
        body = "&".join(f"{encode(n)}={encode(walk.hostile())}" for n in names)
        response = client.post(
            target, body, content_type="application/x-www-form-urlencoded"
        )
        walk.check(visitor, "POST", target, response)
        world.sign_in_again(visitor)
        client = world.visitors[visitor]


def _forms_to_post(forms: PostForms, url: str) -> list[tuple[str, list[str]]]:
    """Every POST form but signing out and deleting (which change who or what is
    left to walk, not how input is read)."""
    sign_out = {reverse("lrs_portal:sign-out"), reverse("admin:logout")}
    return [
        (action, names)
        for action, names in forms.forms
        if action not in sign_out and not (action or url).endswith("/delete/")
    ]


def _visit_hostile_path(walk: Walk, world: World, pattern: Pattern, visitor: str):
    client = world.visitors[visitor]
    for param in pattern.params:
        values = {
            p: encode(_real_value(world, pattern, p, walk.rng)) for p in pattern.params
        }
        values[param] = encode(walk.hostile())
        url = _url(pattern, values)
        walk.check(visitor, "GET", url, client.get(url))


STAFF = ["superuser", "superuser", "caseworker", "assessor", "panel_member"]


def _visitors_for(pattern: Pattern, names: list[str], rng: random.Random) -> list[str]:
    if pattern.route.startswith("/admin/"):
        return [rng.choice(STAFF), "anonymous"]
    others = [n for n in names if n != "anonymous"]
    return [*rng.sample(others, 3), "anonymous"]


def test_no_url_answers_500_to_hostile_input(world):
    rng = random.Random(SEED)
    walk = Walk(rng)
    patterns = url_patterns()
    names = sorted(world.visitors)
    started = time.monotonic()

    for pattern in patterns:
        first, *others = _visitors_for(pattern, names, rng)
        _visit(walk, world, pattern, first)
        for visitor in others:
            real = {p: _real_value(world, pattern, p, rng) for p in pattern.params}
            url = _url(pattern, {p: encode(v) for p, v in real.items()})
            walk.check(visitor, "GET", url, world.visitors[visitor].get(url))
        _visit_hostile_path(walk, world, pattern, rng.choice(names))
    elapsed = time.monotonic() - started

    assert len(patterns) > 300  # the admin's patterns are in the walk
    assert {visitor for visitor, _, _ in walk.answers} == set(names)
    errors = [p for p in walk.problems if "-> 5" in p]
    assert not walk.problems, f"{len(errors)} errors\n" + "\n".join(
        (errors or walk.problems)[:40]
    )
    print(f"{len(walk.answers)} requests, {len(patterns)} patterns, {elapsed:.0f} s")
