"""The nightly re-verification of registered organisations (issue 5)."""

import json
import threading
from collections import deque
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from unittest import mock

import pytest
import requests
import responses
from django.core.management import call_command
from django.utils import timezone

from lrs_portal.models import JobRun, Notification, system_user
from registration.companies_house import (
    CompaniesHouseClient,
    RateLimiter,
    rate_limiter_from_settings,
)
from registration.models import (
    CompaniesHouseSnapshot,
    IcoRegistration,
    Organisation,
    ReverificationCase,
)
from registration.services import reverification_resolve
from registration.services.reverification import reverify_organisations_run
from tests.factories import IcoRegistrationFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

API = "https://api.test.companieshouse"
KEY = "test-api-key"
Reason = ReverificationCase.Reason
DIRECTOR = ("SMITH, Jane Alice", "/company/00000001/appointments/abc")


class FakeClock:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def http():
    """Every Companies House request in this module is answered here."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def client(clock):
    limiter = RateLimiter(limit=600, period=300, clock=clock.clock, sleep=clock.sleep)
    return CompaniesHouseClient(api_key=KEY, base_url=API, rate_limiter=limiter)


def company(
    http,
    organisation: Organisation,
    *,
    name: str | None = None,
    status: str = "active",
    directors: tuple[tuple[str, str], ...] = (DIRECTOR,),
    status_detail: str = "",
) -> None:
    """Companies House's answer for the organisation's company."""
    number = organisation.companies_house_number
    profile = {
        "company_number": number,
        "company_name": (name or organisation.legal_name).upper(),
        "company_status": status,
    }
    if status_detail:
        profile["company_status_detail"] = status_detail
    http.get(f"{API}/company/{number}", json=profile)
    items = [
        {
            "name": director,
            "officer_role": "director",
            "appointed_on": "2020-01-01",
            "links": {"self": link},
        }
        for director, link in directors
    ]
    http.get(
        f"{API}/company/{number}/officers",
        json={"kind": "officer-list", "items": items, "total_results": len(items)},
    )


def registered(**kwargs) -> Organisation:
    """An organisation whose ICO registration is current."""
    organisation = OrganisationFactory.create(**kwargs)
    IcoRegistrationFactory.create(
        registration_number=organisation.ico_number,
        organisation_name=organisation.legal_name,
    )
    return organisation


def reasons(organisation: Organisation) -> set[str]:
    return set(
        organisation.reverification_cases.filter(
            status=ReverificationCase.Status.OPEN
        ).values_list("reason", flat=True)
    )


# --- what opens a case -------------------------------------------------------------


def test_an_unchanged_organisation_opens_no_case(http, client):
    organisation = registered()
    company(http, organisation)

    run = reverify_organisations_run(client=client)

    assert reasons(organisation) == set()
    organisation.refresh_from_db()
    assert organisation.flagged_for_review is False
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.counts["organisations_checked"] == 1
    assert run.counts["companies_house_requests"] == 2
    assert run.last_day == timezone.now().date()


def test_a_new_company_name_opens_a_case(http, client):
    organisation = registered(legal_name="Northfield College Limited")
    company(http, organisation, name="Gamble Check Ltd")

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.LEGAL_NAME_CHANGED}
    case = organisation.reverification_cases.get()
    assert "GAMBLE CHECK LTD" in case.details
    organisation.refresh_from_db()
    assert organisation.flagged_for_review is True


def test_the_same_name_written_differently_opens_no_case(http, client):
    organisation = registered(legal_name="St John's Training Ltd")
    company(http, organisation, name="ST JOHNS TRAINING LIMITED")

    reverify_organisations_run(client=client)

    assert reasons(organisation) == set()


@pytest.mark.parametrize("status", ["dissolved", "liquidation", "administration"])
def test_a_company_no_longer_active_opens_a_case(http, client, status):
    organisation = registered()
    company(http, organisation, status=status)

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.COMPANY_NOT_ACTIVE}


def test_a_company_gone_from_companies_house_opens_a_case(http, client):
    organisation = registered()
    number = organisation.companies_house_number
    http.get(f"{API}/company/{number}", status=404, json={"errors": []})

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.COMPANY_NOT_ACTIVE}
    assert "no longer has a company" in organisation.reverification_cases.get().details


def test_the_signing_director_leaving_office_opens_a_case(http, client):
    organisation = registered()
    company(
        http,
        organisation,
        directors=(("JONES, Peter", "/company/00000001/appointments/other"),),
    )

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.DIRECTOR_LEFT}


def test_without_a_recorded_appointment_the_director_is_found_by_name(http, client):
    organisation = registered(signing_director_appointment="")
    company(http, organisation, directors=(("SMITH, Jane Alice", "/elsewhere"),))

    reverify_organisations_run(client=client)

    assert reasons(organisation) == set()


@pytest.mark.parametrize("lapsed", ["yesterday", "missing"])
def test_a_lapsed_or_missing_ico_registration_opens_a_case(http, client, lapsed):
    organisation = OrganisationFactory.create()
    IcoRegistrationFactory.create()  # the register is imported
    if lapsed == "yesterday":
        IcoRegistrationFactory.create(
            registration_number=organisation.ico_number,
            end_date=timezone.now().date() - timedelta(days=1),
        )
    company(http, organisation)

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.ICO_LAPSED}


def test_no_ico_case_while_the_register_has_not_been_imported(http, client):
    organisation = OrganisationFactory.create()
    company(http, organisation)

    run = reverify_organisations_run(client=client)

    assert reasons(organisation) == set()
    assert run.counts["ico_register_not_imported"] == 1


def test_several_changes_open_a_case_each(http, client):
    organisation = OrganisationFactory.create()
    IcoRegistrationFactory.create()
    company(http, organisation, name="Other Name Ltd", status="dissolved", directors=())

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {
        Reason.LEGAL_NAME_CHANGED,
        Reason.COMPANY_NOT_ACTIVE,
        Reason.DIRECTOR_LEFT,
        Reason.ICO_LAPSED,
    }


def test_suspended_organisations_are_checked_and_deregistered_ones_are_not(
    http, client
):
    suspended = registered(status=Organisation.Status.SUSPENDED)
    gone = registered(status=Organisation.Status.DEREGISTERED)
    company(http, suspended, status="dissolved")
    company(http, gone, status="dissolved")

    run = reverify_organisations_run(client=client)

    assert reasons(suspended) == {Reason.COMPANY_NOT_ACTIVE}
    assert reasons(gone) == set()
    assert run.counts["organisations_checked"] == 1
    asked = {call.request.url for call in http.calls}
    assert not any(gone.companies_house_number in url for url in asked)


def test_each_case_and_flag_is_recorded_as_the_system_user_with_a_reason(http, client):
    organisation = registered()
    company(http, organisation, status="dissolved")

    reverify_organisations_run(client=client)

    case = organisation.reverification_cases.get()
    assert case.source == "nightly re-verification"
    opened = case.history.get()
    assert opened.history_user == system_user()
    assert "dissolved" in opened.history_change_reason
    flagged = organisation.history.latest()
    assert flagged.history_user == system_user()
    assert flagged.history_change_reason == (
        "Flagged for review: Company no longer active"
    )


def test_what_companies_house_said_is_kept_as_snapshots(http, client):
    organisation = registered()
    company(http, organisation, status="liquidation")

    reverify_organisations_run(client=client)

    latest = CompaniesHouseSnapshot.objects.filter(
        company_number=organisation.companies_house_number,
        kind=CompaniesHouseSnapshot.Kind.PROFILE,
    ).latest()
    assert latest.data["company_status"] == "liquidation"


# --- idempotent, and robust to Companies House failing ----------------------------


def test_a_second_run_opens_nothing_new(http, client):
    organisation = registered()
    company(http, organisation, name="Renamed Ltd", status="dissolved")

    first = reverify_organisations_run(client=client)
    second = reverify_organisations_run(client=client)

    assert organisation.reverification_cases.count() == 2
    assert first.counts["cases_opened"] == 2
    assert "cases_opened" not in second.counts
    assert second.counts["cases_already_open"] == 2
    assert ReverificationCase.history.count() == 2


def test_companies_house_down_for_one_organisation_skips_only_that_one(http, client):
    down = registered()
    dissolved = registered()
    http.get(
        f"{API}/company/{down.companies_house_number}",
        body=requests.ConnectionError("connection refused"),
    )
    company(http, dissolved, status="dissolved")
    # The ICO register still counts for the organisation Companies House skipped.
    IcoRegistration.objects.filter(registration_number=down.ico_number).update(
        end_date=timezone.now().date() - timedelta(days=3)
    )

    run = reverify_organisations_run(client=client)

    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.counts["companies_house_unavailable"] == 1
    assert run.counts["companies_read"] == 1
    assert run.counts["organisations_checked"] == 2
    assert reasons(dissolved) == {Reason.COMPANY_NOT_ACTIVE}
    assert reasons(down) == {Reason.ICO_LAPSED}


def test_the_command_reports_what_the_run_did(http, settings, monkeypatch):
    settings.COMPANIES_HOUSE_API_KEY = KEY
    settings.COMPANIES_HOUSE_API_URL = API
    down = registered()
    http.get(
        f"{API}/company/{down.companies_house_number}",
        body=requests.ConnectionError("connection refused"),
    )
    out = StringIO()

    call_command("reverify_organisations", stdout=out)

    text = out.getvalue()
    assert "companies_house_unavailable: 1" in text
    assert "did not answer for 1 organisation(s)" in text
    assert (
        JobRun.objects.get(job="reverify_organisations").counts["organisations_checked"]
        == 1
    )


def test_the_task_runs_the_job(http, settings):
    from registration.tasks import reverify_organisations_task

    settings.COMPANIES_HOUSE_API_KEY = KEY
    settings.COMPANIES_HOUSE_API_URL = API
    organisation = registered()
    company(http, organisation, status="dissolved")

    reverify_organisations_task()

    assert reasons(organisation) == {Reason.COMPANY_NOT_ACTIVE}


# --- Companies House's rate limit --------------------------------------------------


def _busiest_window(times: list[float], period: float) -> int:
    window: deque[float] = deque()
    busiest = 0
    for moment in sorted(times):
        window.append(moment)
        while window[0] <= moment - period:
            window.popleft()
        busiest = max(busiest, len(window))
    return busiest


def test_the_limiter_never_lets_more_than_600_through_in_300_seconds(clock):
    limiter = RateLimiter(limit=600, period=300, clock=clock.clock, sleep=clock.sleep)
    times = []

    for _ in range(2000):
        limiter.acquire()
        times.append(clock.now)

    assert _busiest_window(times, 300) == 600
    assert limiter.requests == 2000
    # The first 600 go at once; then it waits for the window to move on.
    assert times[599] == times[0]
    assert times[600] >= times[0] + 300
    assert clock.sleeps


def test_the_limiter_does_not_wait_when_requests_are_spread_out(clock):
    limiter = RateLimiter(limit=600, period=300, clock=clock.clock, sleep=clock.sleep)

    for _ in range(1500):
        limiter.acquire()
        clock.now += 0.5

    assert clock.sleeps == []


def test_the_limiter_follows_the_settings(settings):
    settings.COMPANIES_HOUSE_RATE_LIMIT = 500
    settings.COMPANIES_HOUSE_RATE_PERIOD_SECONDS = 300

    limiter = rate_limiter_from_settings()

    assert (limiter.limit, limiter.period) == (500, 300)


def test_a_run_keeps_every_request_within_the_limit(http, clock):
    limiter = RateLimiter(limit=3, period=10, clock=clock.clock, sleep=clock.sleep)
    client = CompaniesHouseClient(api_key=KEY, base_url=API, rate_limiter=limiter)
    sent: list[float] = []

    def answer(body):
        def callback(request):
            sent.append(clock.now)  # when, by the limiter's clock, it was sent
            return 200, {}, json.dumps(body)

        return callback

    organisations = [registered() for _ in range(4)]
    for organisation in organisations:
        number = organisation.companies_house_number
        profile = {
            "company_number": number,
            "company_name": organisation.legal_name,
            "company_status": "active",
        }
        for path, body in (
            (f"/company/{number}", profile),
            (f"/company/{number}/officers", {"items": [], "total_results": 0}),
        ):
            http.add_callback(responses.GET, API + path, callback=answer(body))

    run = reverify_organisations_run(client=client)

    assert len(sent) == 8
    assert _busiest_window(sent, 10) == 3
    assert run.counts["companies_house_requests"] == 8
    assert run.counts["rate_limit_waits_seconds"] == 20


class _BusyOnce(BaseHTTPRequestHandler):
    """503 for the first request, then a profile."""

    seen = 0

    def do_GET(self):
        type(self).seen += 1
        if type(self).seen == 1:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"company_number": "01234567"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_retry_waits_for_the_limiter_like_a_first_request(http, clock):
    # responses does its own retrying without urllib3's waits, so this test
    # uses a loopback server to see urllib3 retry through our Retry.
    http.add_passthru("http://127.0.0.1")
    _BusyOnce.seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BusyOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    limiter = RateLimiter(limit=600, period=300, clock=clock.clock, sleep=clock.sleep)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with mock.patch("urllib3.util.retry.time.sleep"):
            profile = CompaniesHouseClient(
                api_key=KEY, base_url=base, rate_limiter=limiter
            ).get_profile("01234567")
    finally:
        server.shutdown()
        server.server_close()

    assert profile == {"company_number": "01234567"}
    assert _BusyOnce.seen == 2
    assert limiter.requests == 2


def test_a_run_stops_at_its_time_budget_and_the_next_starts_with_those_left(
    http, clock, settings
):
    settings.REVERIFY_TIME_BUDGET_MINUTES = 1
    limiter = RateLimiter(limit=2, period=60, clock=clock.clock, sleep=clock.sleep)
    client = CompaniesHouseClient(api_key=KEY, base_url=API, rate_limiter=limiter)
    organisations = [registered() for _ in range(3)]
    for organisation in organisations:
        company(http, organisation)

    first = reverify_organisations_run(client=client, clock=clock.clock)
    asked_first = len(http.calls)
    second = reverify_organisations_run(client=client, clock=clock.clock)

    # Two requests an organisation, two a minute, a minute's budget: two done.
    assert first.counts["organisations_checked"] == 2
    assert first.counts["organisations_left_for_next_run"] == 1
    assert first.outcome == JobRun.Outcome.SUCCEEDED
    left = organisations[2].companies_house_number
    assert left in http.calls[asked_first].request.url
    assert second.counts["organisations_checked"] == 1


# --- issue 19: cases that resolve, strike-off proposals, the register, caseworkers ---


def test_a_resolved_rename_updates_the_name_and_does_not_reopen(
    http, client, caseworker
):
    organisation = registered(legal_name="Northfield College Limited")
    company(http, organisation, name="Northfield Learning Ltd")
    reverify_organisations_run(client=client)
    case = organisation.reverification_cases.get()
    assert case.new_value == "NORTHFIELD LEARNING LTD"

    reverification_resolve(
        case=case, acting_user=caseworker, resolution="Rename confirmed with them"
    )
    company(http, organisation, name="Northfield Learning Ltd")
    reverify_organisations_run(client=client)

    organisation.refresh_from_db()
    assert organisation.legal_name == "NORTHFIELD LEARNING LTD"
    assert organisation.flagged_for_review is False
    assert reasons(organisation) == set()
    latest = (
        organisation.history.filter(legal_name="NORTHFIELD LEARNING LTD")
        .order_by("history_date", "history_id")
        .first()
    )
    assert latest.history_user == caseworker
    assert "on resolving re-verification" in latest.history_change_reason


def test_a_second_rename_while_the_case_is_open_is_added_to_it(http, client):
    organisation = registered(legal_name="Northfield College Limited")
    company(http, organisation, name="Northfield Learning Ltd")
    reverify_organisations_run(client=client)
    company(http, organisation, name="Gamble Check Ltd")

    reverify_organisations_run(client=client)

    case = organisation.reverification_cases.get()
    assert "NORTHFIELD LEARNING LTD" in case.details
    assert "Then, on" in case.details
    assert "GAMBLE CHECK LTD" in case.details
    assert case.new_value == "GAMBLE CHECK LTD"


def test_a_proposal_to_strike_off_opens_a_case_once(http, client):
    organisation = registered()
    company(http, organisation, status_detail="active-proposal-to-strike-off")
    reverify_organisations_run(client=client)
    company(http, organisation, status_detail="active-proposal-to-strike-off")

    run = reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.STRIKE_OFF_PROPOSED}
    assert "strike the company off" in organisation.reverification_cases.get().details
    assert run.counts["cases_already_open"] == 1


def test_a_registration_removed_from_the_register_opens_a_case(http, client):
    organisation = registered()
    IcoRegistration.objects.filter(registration_number=organisation.ico_number).update(
        removed_at=timezone.now() - timedelta(days=1)
    )
    company(http, organisation)

    reverify_organisations_run(client=client)

    assert reasons(organisation) == {Reason.ICO_LAPSED}
    assert "left the register file" in organisation.reverification_cases.get().details


def test_caseworkers_are_told_once_about_the_cases_a_night_opens(
    http, client, caseworker
):
    organisation = registered(legal_name="Northfield College Limited")
    registered_quiet = registered()
    company(http, organisation, name="Gamble Check Ltd")
    company(http, registered_quiet)

    reverify_organisations_run(client=client)
    company(http, organisation, name="Gamble Check Ltd")
    company(http, registered_quiet)
    reverify_organisations_run(client=client)

    [email] = Notification.objects.filter(
        to=caseworker.email, reference__endswith="cases_opened"
    )
    assert email.subject == "Re-verification opened 1 re-verification case"
    assert "- Northfield College Limited: Legal name changed" in email.body
    assert "/admin/registration/reverificationcase/" in email.body
