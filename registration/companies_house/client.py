"""The Companies House API client: rate limit, retries, timeouts, paging the
officers, and the offline fixtures read when no API key is set.
"""

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from registration.validators import normalise_company_number, validate_company_number

# One logger for the three modules, by the name their lines have always had.
logger = logging.getLogger("registration.companies_house")

TIMEOUT = (3.05, 10)  # (connect, read) seconds
OFFICERS_PAGE_SIZE = 100
# 5,000 current officers: far beyond any real company, and a stop for a looping API.
MAX_OFFICER_PAGES = 50


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


def checked_number(company_number: str) -> str:
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
        number = checked_number(company_number)
        if self.offline:
            return self._read_fixture(Path("company") / f"{number}.json")
        return self._get(f"/company/{number}")

    def get_officers(self, company_number: str) -> dict[str, Any]:
        number = checked_number(company_number)
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
