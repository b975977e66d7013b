"""Companies House: a company's profile and current officers, and what they say about
whether it can hold LRS access (domain.md 4).

With COMPANIES_HOUSE_API_KEY set, CompaniesHouseClient calls the API. Without it
(development, the demo) it reads recorded responses from COMPANIES_HOUSE_FIXTURES.
Either way company_fetch stores what it read as CompaniesHouseSnapshot rows, so that
every decision can be traced back to the data it was made on.
"""

import json
import logging
import re
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Self

import requests
import urllib3
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from registration.models import CompaniesHouseSnapshot
from registration.validators import normalise_company_number, validate_company_number

logger = logging.getLogger(__name__)

TIMEOUT = (3.05, 10)  # (connect, read) seconds
OFFICERS_PAGE_SIZE = 100
# 5,000 current officers: far beyond any real company, and a stop for a looping API.
MAX_OFFICER_PAGES = 50

Severity = Literal["fail", "needs_review"]
# The same values as ApplicationCheck.Result, so a result can be stored as it is.
Result = Literal["pass", "needs_review", "fail"]
ACTIVE_STATUSES = frozenset({"active", "open", "registered"})


class CompaniesHouseUnavailable(Exception):
    """Companies House gave no answer we can use now: down, unreachable, too slow,
    rate-limiting us or refusing our key. The same question may succeed later."""


# --- HTTP client and offline fixtures -----------------------------------------


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds (Companies House allows
    600 in 5 minutes): before each request, wait until the one ``limit`` requests
    back is a whole period old. The clock and sleep are injected so that tests
    need not wait."""

    def __init__(
        self,
        *,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("A rate limit needs a limit of 1 or more and a period")
        self.limit = limit
        self.period = period
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self.waited = 0.0
        self._recent: deque[float] = deque()

    def acquire(self) -> None:
        """Block until one more request keeps within the limit, and count it."""
        now = self.clock()
        while len(self._recent) >= self.limit:
            wait = self._recent[0] + self.period - now
            if wait <= 0:
                self._recent.popleft()
                continue
            self.sleep(wait)
            self.waited += wait
            now = self.clock()
        self._recent.append(now)
        self.requests += 1


def rate_limiter_from_settings() -> RateLimiter:
    return RateLimiter(
        limit=settings.COMPANIES_HOUSE_RATE_LIMIT,
        period=settings.COMPANIES_HOUSE_RATE_PERIOD_SECONDS,
    )


class _Retry(Retry):
    """urllib3's Retry, except that it gives up at once when a Retry-After asks for a
    longer wait than a caller should block for (the rate-limit window is 5 minutes;
    retrying early only spends more of the quota), and that each retry first waits
    for the rate limiter, if any, as a first attempt does."""

    def __init__(
        self,
        *args: Any,
        give_up_after: float = 10,
        before_retry: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.give_up_after = give_up_after
        self.before_retry = before_retry

    def new(self, **kw: Any) -> Self:
        kw.setdefault("give_up_after", self.give_up_after)
        kw.setdefault("before_retry", self.before_retry)
        return super().new(**kw)

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.before_retry is not None:
            self.before_retry()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        wait = self._retry_after(response)
        if wait is not None and wait > self.give_up_after:
            reason = ResponseError(f"asked to wait {wait:.0f} seconds (Retry-After)")
            raise MaxRetryError(_pool, url, reason)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _retry_after(self, response: Any) -> float | None:
        if response is None or not self.respect_retry_after_header:
            return None
        try:
            return self.get_retry_after(response)
        except InvalidHeader:
            return None


def companies_house_retry(
    *,
    give_up_after: float | None = None,
    before_retry: Callable[[], None] | None = None,
) -> Retry:
    """The retry policy for Companies House: 3 retries with backoff, 429 included."""
    if give_up_after is None:
        give_up_after = settings.COMPANIES_HOUSE_MAX_RETRY_AFTER
    return _Retry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods={"GET"},
        respect_retry_after_header=True,
        give_up_after=give_up_after,
        before_retry=before_retry,
    )


def _checked_number(company_number: str) -> str:
    # Validated before it goes into a URL or a file path (no "../" can get through).
    validate_company_number(company_number)
    return normalise_company_number(company_number)


def _empty_officers() -> dict[str, Any]:
    return {"kind": "officer-list", "items": [], "total_results": 0}


def _unavailable_reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "Companies House did not answer in time"
    if isinstance(exc, requests.exceptions.RetryError):
        cause = exc.args[0] if exc.args else exc
        reason = getattr(cause, "reason", cause)
        return f"Companies House kept failing ({reason})"
    if isinstance(exc, requests.ConnectionError):
        return "Could not connect to Companies House"
    return f"Companies House request failed ({exc.__class__.__name__})"


class CompaniesHouseClient:
    """Reads company profiles and officers from the API, or from fixtures offline."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        fixtures_dir: str | Path | None = None,
        retry: Retry | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.api_key = settings.COMPANIES_HOUSE_API_KEY if api_key is None else api_key
        # Every HTTP request, retries included, waits for it (fixtures do not).
        self.rate_limiter = rate_limiter
        self.base_url = (base_url or settings.COMPANIES_HOUSE_API_URL).rstrip("/")
        self.fixtures_dir = Path(fixtures_dir or settings.COMPANIES_HOUSE_FIXTURES)
        self.offline = not self.api_key
        self.session = requests.Session()
        # The key is the username, the password empty (domain.md 4.2).
        self.session.auth = (self.api_key, "")
        self.session.headers["Accept"] = "application/json"
        if retry is None:
            retry = companies_house_retry(
                before_retry=rate_limiter.acquire if rate_limiter else None
            )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    @property
    def source(self) -> str:
        return "fixture" if self.offline else "api"

    def close(self) -> None:
        self.session.close()

    def get_profile(self, company_number: str) -> dict[str, Any] | None:
        number = _checked_number(company_number)
        if self.offline:
            return self._read_fixture(Path("company") / f"{number}.json")
        return self._get(f"/company/{number}")

    def get_officers(self, company_number: str) -> dict[str, Any]:
        number = _checked_number(company_number)
        if self.offline:
            found = self._read_fixture(Path("company") / number / "officers.json")
            return found or _empty_officers()
        first: dict[str, Any] | None = None
        items: list[Any] = []
        for _page in range(MAX_OFFICER_PAGES):
            page = self._get(
                f"/company/{number}/officers",
                params={
                    "filter": "active",
                    "items_per_page": OFFICERS_PAGE_SIZE,
                    "start_index": len(items),
                },
            )
            page_items = page.get("items") if page else None
            if page is None or not isinstance(page_items, list) or not page_items:
                break
            first = first or page
            items.extend(page_items)
            # The next page starts after what was read: the API may cap page sizes.
            if len(items) >= _as_int(page.get("total_results")):
                break
        return {**(first or _empty_officers()), "items": items, "start_index": 0}

    def _get(
        self, path: str, params: dict[str, str | int] | None = None
    ) -> dict[str, Any] | None:
        """The JSON body of a GET, or None for 404; CompaniesHouseUnavailable else."""
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        try:
            response = self.session.get(
                self.base_url + path, params=params, timeout=TIMEOUT
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            reason = _unavailable_reason(exc)
            logger.warning(
                "companies_house_unavailable", extra={"path": path, "reason": reason}
            )
            raise CompaniesHouseUnavailable(reason) from exc
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            raise CompaniesHouseUnavailable(
                f"Companies House refused the API key (HTTP {response.status_code}): "
                "check COMPANIES_HOUSE_API_KEY"
            )
        if response.status_code != 200:
            raise CompaniesHouseUnavailable(
                f"Companies House answered HTTP {response.status_code}"
            )
        return _json_object(response.text, where=path)

    def _read_fixture(self, relative: Path) -> dict[str, Any] | None:
        root = self.fixtures_dir.resolve()
        if not root.is_dir():
            # Without this, a missing key would make every company "not found".
            raise CompaniesHouseUnavailable(
                "COMPANIES_HOUSE_API_KEY is not set, and there is no fixtures "
                f"folder at {root}"
            )
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return _json_object(path.read_text(encoding="utf-8"), where=str(path))


def _json_object(text: str, *, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CompaniesHouseUnavailable(f"{where} is not valid JSON") from exc
    if not isinstance(data, dict):
        raise CompaniesHouseUnavailable(f"{where} is not a JSON object")
    return data


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- What the data says -------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Director:
    name: str  # as Companies House holds it: "SURNAME, Forenames"
    appointment: str  # the appointment's links.self, which identifies it
    appointed_on: date | None
    officer_role: str


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def govuk_date(value: Any) -> str:
    """A date (or ISO date) as GOV.UK writes dates, "5 March 2025"; other values
    as they are."""
    parsed = _parse_date(value)
    return f"{parsed.day} {parsed:%B %Y}" if parsed else str(value or "")


def current_directors(officers_json: dict[str, Any]) -> list[Director]:
    """Officers who can sign the LRS agreement: role "director" and not resigned.

    Corporate directors and secretaries are excluded (domain.md 4.4, PQ-2020)."""
    items = officers_json.get("items")
    directors = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("officer_role") != "director":
            continue
        if item.get("resigned_on") or not item.get("name"):
            continue
        links = item.get("links")
        directors.append(
            Director(
                name=str(item["name"]),
                appointment=str((links or {}).get("self", "")),
                appointed_on=_parse_date(item.get("appointed_on")),
                officer_role="director",
            )
        )
    return directors


_STATUS_MESSAGES = {
    "dissolved": "Companies House lists the company as dissolved. A dissolved "
    "company cannot hold LRS access.",
    "liquidation": "Companies House lists the company as in liquidation. A company "
    "being wound up cannot hold LRS access.",
    "receivership": "Companies House lists the company as in receivership (Receiver "
    "Action). A company under a receiver cannot hold LRS access.",
    "administration": "Companies House lists the company as in administration. A "
    "company run by an administrator cannot hold LRS access.",
    "voluntary-arrangement": "Companies House lists the company as in a voluntary "
    "arrangement with its creditors. Only a company that is registered and active "
    "can hold LRS access.",
    "insolvency-proceedings": "Companies House lists the company as in insolvency "
    "proceedings. Only a company that is registered and active can hold LRS access.",
    "converted-closed": "Companies House lists the company as converted or closed. "
    "Ask which company replaced it: only that one can apply.",
    "closed": "Companies House lists the company as closed. Only a company that is "
    "registered and active can hold LRS access.",
    "removed": "Companies House lists the company as removed from the register. "
    "Only a company that is registered and active can hold LRS access.",
}


def status_finding(profile: dict[str, Any]) -> Finding | None:
    """A fail unless Companies House lists the company as active, open or registered."""
    status = str(profile.get("company_status") or "")
    if status in ACTIVE_STATUSES:
        return None
    message = _STATUS_MESSAGES.get(status) or (
        f"Companies House lists the company's status as “{status or 'not given'}”. "
        "Only a company that is registered and active can hold LRS access."
    )
    return Finding(code="status", severity="fail", message=message)


def _overdue(profile: dict[str, Any], key: str) -> tuple[bool, str]:
    section = profile.get(key)
    if not isinstance(section, dict):
        return False, ""
    return section.get("overdue") is True, govuk_date(section.get("next_due"))


def going_concern_findings(profile: dict[str, Any]) -> list[Finding]:
    """Red flags that the company may not be a going concern (domain.md 4.3)."""
    status = status_finding(profile)
    findings = [status] if status else []
    if profile.get("company_status_detail") == "active-proposal-to-strike-off":
        # Needs review, not fail: most proposals come from late filings and are
        # withdrawn once the company files, and the company is still active in law.
        # A caseworker must find out why, and not approve while it stands.
        findings.append(
            Finding(
                "proposal_to_strike_off",
                "needs_review",
                "Companies House has published a proposal to strike the company off "
                "the register: it may be dissolved within about 2 months. Find out "
                "why (late filings, or the directors closing it) and do not approve "
                "while the proposal stands.",
            )
        )
    if profile.get("has_been_liquidated") is True:
        findings.append(
            Finding(
                "has_been_liquidated",
                "needs_review",
                "Companies House records that the company has been liquidated. Check "
                "that it has since been restored and is trading.",
            )
        )
    if profile.get("has_insolvency_history") is True:
        findings.append(
            Finding(
                "insolvency_history",
                "needs_review",
                "Companies House records insolvency history for the company. Check "
                "the insolvency case and ask for the latest accounts.",
            )
        )
    findings.extend(_filing_findings(profile))
    return findings


def _filing_findings(profile: dict[str, Any]) -> Iterable[Finding]:
    overdue, due = _overdue(profile, "accounts")
    if overdue:
        yield Finding(
            "accounts_overdue",
            "needs_review",
            f"The company's accounts are overdue at Companies House (due {due}). "
            "Late accounts can be a sign of financial difficulty: ask for the "
            "latest accounts.",
        )
    overdue, due = _overdue(profile, "confirmation_statement")
    if overdue:
        yield Finding(
            "confirmation_statement_overdue",
            "needs_review",
            f"The company's confirmation statement is overdue at Companies House "
            f"(due {due}). Companies that stop filing are struck off.",
        )


def findings_result(findings: Iterable[Finding]) -> Result:
    """fail if any finding fails, needs_review if any needs review, else pass."""
    severities = {finding.severity for finding in findings}
    if "fail" in severities:
        return "fail"
    return "needs_review" if "needs_review" in severities else "pass"


# --- Name matching ------------------------------------------------------------

_LEGAL_FORMS = (
    ("public", "limited", "company"),
    ("limited", "liability", "partnership"),
    ("community", "interest", "company"),
    ("limited",),
    ("ltd",),
    ("plc",),
    ("llp",),
    ("cic",),
    ("cio",),
)
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame"}
    | {"lord", "lady", "rev", "revd"}
)


def _words(name: str) -> list[str]:
    """Lower-case words without accents or punctuation; "&" is "and"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    # St John's and St Johns are the same name (U+2019 is the typographic apostrophe).
    text = re.sub("['\u2019`]", "", text.replace("&", " and "))
    return re.sub(r"[\W_]+", " ", text).split()


def _organisation_words(name: str) -> list[str]:
    words = _words(name)
    if words[:1] == ["the"]:
        words = words[1:]
    stripped = True
    while stripped:  # "X Limited", "X Ltd" and "X" are the same organisation name
        stripped = False
        for form in _LEGAL_FORMS:
            if len(words) > len(form) and tuple(words[-len(form) :]) == form:
                words, stripped = words[: -len(form)], True
    return words


def name_matches(a: str, b: str) -> bool:
    """Whether two organisation names are the same, ignoring case, punctuation,
    accents, a leading "The", "&"/"and" and a legal form (Limited, Ltd, PLC, LLP)."""
    words = _organisation_words(a)
    return bool(words) and words == _organisation_words(b)


def _person_parts(name: str) -> tuple[list[str], list[str]]:
    """(surname words, forename words) of "SURNAME, Forenames" or "Forenames
    Surname"."""
    surname, comma, rest = name.partition(",")
    if comma:
        # A second comma starts honours or a title: "SMITH, John, Dr".
        forenames = [w for w in _words(rest.split(",")[0]) if w not in _TITLES]
        return _words(surname), forenames
    words = [w for w in _words(name) if w not in _TITLES]
    return words[-1:], words[:-1]


def person_name_matches(typed_name: str, ch_name: str) -> bool:
    """Whether a typed name is the Companies House officer: the surname and the
    first forename agree, ignoring case and accents."""
    surname, forenames = _person_parts(ch_name)
    if not surname or not forenames:
        return False
    if "," in typed_name:
        typed_surname, typed_forenames = _person_parts(typed_name)
        return typed_surname == surname and typed_forenames[:1] == forenames[:1]
    typed = [w for w in _words(typed_name) if w not in _TITLES]
    # Compare the end with every word of the surname: "Anna van der Berg".
    return (
        len(typed) > len(surname)
        and typed[-len(surname) :] == surname
        and typed[0] == forenames[0]
    )


# --- The service --------------------------------------------------------------


@dataclass(frozen=True)
class CompanyFacts:
    company_number: str
    found: bool
    company_name: str
    company_status: str
    company_status_detail: str
    profile: dict[str, Any]
    directors: list[Director]
    findings: list[Finding]
    fetched_at: datetime
    source: str = "api"  # "api" or "fixture"

    @property
    def result(self) -> Result:
        return findings_result(self.findings)


def _not_found(number: str) -> Finding:
    return Finding(
        "company_not_found",
        "fail",
        f"Companies House has no company with number {number}. Check the number "
        "on the certificate of incorporation.",
    )


def _read(
    client: CompaniesHouseClient, number: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    profile = client.get_profile(number)
    # No officers to read for a company that does not exist.
    return profile, client.get_officers(number) if profile is not None else None


def _store_snapshots(
    *,
    number: str,
    profile: dict[str, Any] | None,
    officers: dict[str, Any] | None,
    source: str,
) -> datetime:
    fetched_at = timezone.now()
    kind = CompaniesHouseSnapshot.Kind
    snapshots = [
        CompaniesHouseSnapshot(
            company_number=number,
            kind=kind.PROFILE,
            found=profile is not None,
            data=profile or {},
            source=source,
            fetched_at=fetched_at,
        )
    ]
    if officers is not None:
        snapshots.append(
            CompaniesHouseSnapshot(
                company_number=number,
                kind=kind.OFFICERS,
                data=officers,
                source=source,
                fetched_at=fetched_at,
            )
        )
    CompaniesHouseSnapshot.objects.bulk_create(snapshots)
    return fetched_at


def company_fetch(
    *, company_number: str, client: CompaniesHouseClient | None = None
) -> CompanyFacts:
    """Read a company's profile and current officers from Companies House, store
    them as snapshots, and say what they show.

    Raises ValidationError for an invalid number and CompaniesHouseUnavailable when
    Companies House cannot answer; stores nothing in either case."""
    number = _checked_number(company_number)
    if client is None:
        client = CompaniesHouseClient()
        try:
            profile, officers = _read(client, number)
        finally:
            client.close()
    else:
        profile, officers = _read(client, number)
    found = profile is not None
    fetched_at = _store_snapshots(
        number=number, profile=profile, officers=officers, source=client.source
    )
    logger.info(
        "companies_house_fetched", extra={"company_number": number, "found": found}
    )
    profile = profile or {}
    return CompanyFacts(
        company_number=number,
        found=found,
        company_name=str(profile.get("company_name") or ""),
        company_status=str(profile.get("company_status") or ""),
        company_status_detail=str(profile.get("company_status_detail") or ""),
        profile=profile,
        directors=current_directors(officers or {}),
        findings=going_concern_findings(profile) if found else [_not_found(number)],
        fetched_at=fetched_at,
        source=client.source,
    )
