import base64
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from registration.companies_house import (
    CompaniesHouseClient,
    CompaniesHouseUnavailable,
    Director,
    Finding,
    company_fetch,
    current_directors,
    findings_result,
    going_concern_findings,
    name_matches,
    person_name_matches,
    status_finding,
)
from registration.models import CompaniesHouseSnapshot

FIXTURES = Path(__file__).parent / "fixtures" / "companies_house"
API = "https://api.test.companieshouse"
KEY = "test-api-key"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def officers_page(start: int, count: int, total: int) -> dict[str, Any]:
    items = [
        {
            "name": f"DIRECTOR{n}, Alex",
            "officer_role": "director",
            "appointed_on": "2020-01-01",
            "links": {"self": f"/company/01234567/appointments/a{n}"},
        }
        for n in range(start, start + count)
    ]
    return {"kind": "officer-list", "items": items, "total_results": total}


@pytest.fixture(autouse=True)
def http():
    """Every request in this module is answered here: none reaches the network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru("http://127.0.0.1")  # the loopback server below only
        yield mocked


@pytest.fixture
def client():
    return CompaniesHouseClient(api_key=KEY, base_url=API)


@pytest.fixture
def api_settings(settings):
    settings.COMPANIES_HOUSE_API_KEY = KEY
    settings.COMPANIES_HOUSE_API_URL = API
    return settings


# --- the HTTP client ----------------------------------------------------------


def test_it_sends_the_key_as_the_basic_auth_username_with_no_password(http, client):
    http.get(f"{API}/company/01234567", json=recorded("profile_active.json"))

    client.get_profile("01234567")

    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert http.calls[0].request.headers["Authorization"] == expected


def test_it_normalises_the_number_before_asking(http, client):
    http.get(f"{API}/company/SC456789", json=recorded("profile_strike_off.json"))

    profile = client.get_profile(" sc 456789 ")

    assert profile is not None
    assert profile["company_name"] == "GLEN TRAINING LIMITED"


def test_it_refuses_an_invalid_number_without_asking(http, client):
    with pytest.raises(ValidationError):
        client.get_profile("../../search")
    assert len(http.calls) == 0


def test_a_404_means_not_found(http, client):
    http.get(f"{API}/company/09999999", status=404, json=recorded("not_found.json"))

    assert client.get_profile("9999999") is None


def test_it_retries_a_429_and_returns_the_answer(http, client):
    http.get(f"{API}/company/01234567", status=429)
    http.get(f"{API}/company/01234567", json=recorded("profile_active.json"))

    profile = client.get_profile("01234567")

    assert profile["company_name"] == "MARKET STREET TRAINING LIMITED"
    assert len(http.calls) == 2


def test_it_retries_a_429_with_a_short_retry_after(http, client):
    http.get(f"{API}/company/01234567", status=429, headers={"Retry-After": "2"})
    http.get(f"{API}/company/01234567", json=recorded("profile_active.json"))

    assert client.get_profile("01234567") is not None
    assert len(http.calls) == 2


def test_it_gives_up_at_once_when_retry_after_is_too_long(http, settings):
    settings.COMPANIES_HOUSE_MAX_RETRY_AFTER = 10
    client = CompaniesHouseClient(api_key=KEY, base_url=API)
    http.get(f"{API}/company/01234567", status=429, headers={"Retry-After": "300"})

    with pytest.raises(CompaniesHouseUnavailable, match="asked to wait 300 seconds"):
        client.get_profile("01234567")
    assert len(http.calls) == 1


class _RateLimitedOnce(BaseHTTPRequestHandler):
    """429 with Retry-After: 3 for the first request, then the profile."""

    requests_seen: list[str] = []

    def do_GET(self):
        self.requests_seen.append(self.headers["Authorization"])
        if len(self.requests_seen) == 1:
            self.send_response(429)
            self.send_header("Retry-After", "3")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(recorded("profile_active.json")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_real_adapter_waits_as_long_as_retry_after_says():
    # responses replaces the adapter's sending, and with it the waiting, so this
    # one test uses a loopback server to see urllib3 itself honour Retry-After.
    _RateLimitedOnce.requests_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RateLimitedOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with mock.patch("urllib3.util.retry.time.sleep") as sleep:
            profile = CompaniesHouseClient(api_key=KEY, base_url=base).get_profile(
                "01234567"
            )
    finally:
        server.shutdown()
        server.server_close()

    assert profile is not None
    assert profile["company_number"] == "01234567"
    sleep.assert_called_once_with(3)
    assert len(_RateLimitedOnce.requests_seen) == 2


def test_500s_that_outlast_the_retries_make_it_unavailable(http, client):
    http.get(f"{API}/company/01234567", status=500)

    with pytest.raises(CompaniesHouseUnavailable, match="kept failing"):
        client.get_profile("01234567")
    assert len(http.calls) == 4  # the request and 3 retries


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.exceptions.ConnectTimeout(), "did not answer in time"),
        (requests.exceptions.ReadTimeout(), "did not answer in time"),
        (requests.exceptions.ConnectionError(), "Could not connect"),
    ],
)
def test_timeouts_and_connection_errors_make_it_unavailable(
    http, client, error, reason
):
    http.get(f"{API}/company/01234567", body=error)

    with pytest.raises(CompaniesHouseUnavailable, match=reason):
        client.get_profile("01234567")


def test_a_refused_key_makes_it_unavailable_naming_the_setting(http, client):
    http.get(f"{API}/company/01234567", status=401)

    with pytest.raises(CompaniesHouseUnavailable, match="COMPANIES_HOUSE_API_KEY"):
        client.get_profile("01234567")


def test_a_body_that_is_not_json_makes_it_unavailable(http, client):
    http.get(f"{API}/company/01234567", body="<html>Service unavailable</html>")

    with pytest.raises(CompaniesHouseUnavailable, match="not valid JSON"):
        client.get_profile("01234567")


def test_it_asks_only_for_active_officers_and_reads_every_page(http, client):
    url = f"{API}/company/01234567/officers"
    for start, count in ((0, 100), (100, 100), (200, 30)):
        http.get(
            url,
            json=officers_page(start, count, total=230),
            match=[
                responses.matchers.query_param_matcher(
                    {"filter": "active", "items_per_page": "100", "start_index": start}
                )
            ],
        )

    officers = client.get_officers("01234567")

    assert len(officers["items"]) == 230
    assert officers["items"][-1]["name"] == "DIRECTOR229, Alex"
    assert len(http.calls) == 3


def test_it_continues_from_what_was_read_when_pages_are_smaller(http, client):
    # The API may cap items_per_page below what was asked for.
    for start in (0, 35):
        http.get(
            f"{API}/company/01234567/officers",
            json=officers_page(start, 35, total=70),
            match=[
                responses.matchers.query_param_matcher(
                    {"start_index": start}, strict_match=False
                )
            ],
        )

    assert len(client.get_officers("01234567")["items"]) == 70


def test_it_stops_at_an_empty_page_whatever_the_total_says(http, client):
    http.get(f"{API}/company/01234567/officers", json=officers_page(0, 2, total=50))
    http.get(f"{API}/company/01234567/officers", json=officers_page(2, 0, total=50))

    assert len(client.get_officers("01234567")["items"]) == 2
    starts = [
        parse_qs(urlsplit(c.request.url).query)["start_index"] for c in http.calls
    ]
    assert starts == [["0"], ["2"]]


def test_no_officers_list_means_no_officers(http, client):
    http.get(f"{API}/company/01234567/officers", status=404)

    assert client.get_officers("01234567")["items"] == []


# --- offline fixtures ---------------------------------------------------------


@pytest.fixture
def offline(settings, tmp_path):
    settings.COMPANIES_HOUSE_API_KEY = ""
    settings.COMPANIES_HOUSE_FIXTURES = str(tmp_path)
    (tmp_path / "company" / "01234567").mkdir(parents=True)
    (tmp_path / "company" / "01234567.json").write_text(
        json.dumps(recorded("profile_active.json"))
    )
    return tmp_path


def test_without_a_key_it_reads_fixtures_and_makes_no_request(http, offline):
    client = CompaniesHouseClient()
    (offline / "company" / "01234567" / "officers.json").write_text(
        json.dumps(recorded("officers.json"))
    )

    profile = client.get_profile("1234567")

    assert client.source == "fixture"
    assert profile is not None
    assert profile["company_number"] == "01234567"
    assert len(client.get_officers("01234567")["items"]) == 5
    assert len(http.calls) == 0


def test_offline_a_missing_profile_is_not_found_and_missing_officers_are_none(
    offline,
):
    client = CompaniesHouseClient()

    assert client.get_profile("07777777") is None
    assert client.get_officers("01234567")["items"] == []


def test_offline_it_never_reads_outside_the_fixture_folder(offline, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.json"
    outside.write_text('{"company_name": "SECRET"}')
    (offline / "company" / "02222222.json").symlink_to(outside)
    client = CompaniesHouseClient()

    assert client.get_profile("02222222") is None
    with pytest.raises(ValidationError):
        client.get_profile("../../secret")


def test_offline_without_a_fixture_folder_it_is_unavailable(settings, tmp_path):
    settings.COMPANIES_HOUSE_API_KEY = ""
    settings.COMPANIES_HOUSE_FIXTURES = str(tmp_path / "missing")

    with pytest.raises(CompaniesHouseUnavailable, match="no fixtures folder"):
        CompaniesHouseClient().get_profile("01234567")


# --- company_fetch ------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_profile_and_officers_snapshots_with_the_time_fetched(
    http, api_settings
):
    http.get(f"{API}/company/01234567", json=recorded("profile_active.json"))
    http.get(f"{API}/company/01234567/officers", json=recorded("officers.json"))
    before = timezone.now()

    facts = company_fetch(company_number="1234567")

    assert before <= facts.fetched_at <= timezone.now()
    snapshots = CompaniesHouseSnapshot.objects.filter(company_number="01234567")
    by_kind = {s.kind: s for s in snapshots}
    assert set(by_kind) == {"profile", "officers"}
    assert all(s.fetched_at == facts.fetched_at for s in snapshots)
    assert all(s.found and s.source == "api" for s in snapshots)
    assert by_kind["profile"].data == recorded("profile_active.json")
    assert len(by_kind["officers"].data["items"]) == 5


@pytest.mark.django_db
def test_it_returns_the_companys_facts(http, api_settings):
    http.get(f"{API}/company/01234567", json=recorded("profile_active.json"))
    http.get(f"{API}/company/01234567/officers", json=recorded("officers.json"))

    facts = company_fetch(company_number="01234567")

    assert facts.found
    assert facts.company_name == "MARKET STREET TRAINING LIMITED"
    assert facts.company_status == "active"
    assert facts.company_status_detail == ""
    assert [d.name for d in facts.directors] == [
        "ZIELINSKA-BROWN, Amelia Rose",
        "O'NEILL, Thomas",
    ]
    assert facts.findings == []
    assert facts.result == "pass"


@pytest.mark.django_db
def test_an_unknown_company_is_a_fail_stored_as_not_found(http, api_settings):
    http.get(f"{API}/company/09999999", status=404)

    facts = company_fetch(company_number="09999999")

    assert not facts.found
    assert [f.code for f in facts.findings] == ["company_not_found"]
    assert facts.result == "fail"
    snapshot = CompaniesHouseSnapshot.objects.get()
    assert (snapshot.kind, snapshot.found, snapshot.data) == ("profile", False, {})
    assert len(http.calls) == 1  # no officers asked for


@pytest.mark.django_db
def test_nothing_is_stored_when_companies_house_is_unavailable(http, api_settings):
    http.get(f"{API}/company/01234567", body=requests.exceptions.ConnectTimeout())

    with pytest.raises(CompaniesHouseUnavailable):
        company_fetch(company_number="01234567")
    assert not CompaniesHouseSnapshot.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "name", "result", "directors"),
    [
        ("09876543", "NORTHFIELD COLLEGE LIMITED", "pass", 2),
        ("07654321", "RIVERSIDE TRAINING LTD", "pass", 1),
        ("SC612345", "HIGHLAND SKILLS LIMITED", "needs_review", 1),
        ("04567890", "TRUSTOPIA SCREENING LTD", "fail", 0),
    ],
)
def test_the_demo_fixtures_tell_their_stories(
    settings, number, name, result, directors
):
    settings.COMPANIES_HOUSE_API_KEY = ""  # the default folder: the demo's fixtures

    facts = company_fetch(company_number=number)

    assert (facts.company_name, facts.result, len(facts.directors)) == (
        name,
        result,
        directors,
    )
    assert facts.source == "fixture"
    assert CompaniesHouseSnapshot.objects.filter(source="fixture").count() == 2


@pytest.mark.django_db
def test_the_demo_signing_directors_are_current_directors(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""

    facts = company_fetch(company_number="09876543")

    appointments = {d.appointment for d in facts.directors}
    assert "/company/09876543/appointments/grace-okafor" in appointments
    assert "/company/09876543/appointments/jane-smith" in appointments
    assert "/company/09876543/appointments/michael-pearson" not in appointments


# --- going concern ------------------------------------------------------------


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.severity) for f in findings]


def test_an_active_company_in_good_standing_raises_no_concern():
    assert going_concern_findings(recorded("profile_active.json")) == []


def test_a_dissolved_company_fails():
    findings = going_concern_findings(recorded("profile_dissolved.json"))

    assert codes(findings) == [("status", "fail")]
    assert findings[0].message == (
        "Companies House lists the company as dissolved. A dissolved company cannot "
        "hold LRS access."
    )


def test_a_company_in_liquidation_fails_and_shows_its_history():
    findings = going_concern_findings(recorded("profile_liquidation.json"))

    assert codes(findings) == [
        ("status", "fail"),
        ("has_been_liquidated", "needs_review"),
        ("insolvency_history", "needs_review"),
    ]
    assert "in liquidation" in findings[0].message
    assert findings_result(findings) == "fail"


def test_a_proposal_to_strike_off_needs_review():
    findings = going_concern_findings(recorded("profile_strike_off.json"))

    assert codes(findings) == [("proposal_to_strike_off", "needs_review")]
    assert "do not approve while the proposal stands" in findings[0].message


def test_overdue_accounts_and_confirmation_statement_need_review_with_due_dates():
    findings = going_concern_findings(recorded("profile_accounts_overdue.json"))

    assert codes(findings) == [
        ("accounts_overdue", "needs_review"),
        ("confirmation_statement_overdue", "needs_review"),
    ]
    assert "(due 31 January 2026)" in findings[0].message
    assert "(due 14 June 2026)" in findings[1].message


def test_insolvency_history_needs_review():
    findings = going_concern_findings(recorded("profile_insolvency_history.json"))

    assert codes(findings) == [("insolvency_history", "needs_review")]
    assert findings_result(findings) == "needs_review"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("administration", "in administration"),
        ("receivership", "in receivership"),
        ("voluntary-arrangement", "voluntary arrangement"),
        ("converted-closed", "converted or closed"),
        ("some-new-status", "status as “some-new-status”"),
        (None, "status as “not given”"),
    ],
)
def test_any_status_but_active_open_or_registered_fails(status, message):
    finding = status_finding({"company_status": status})

    assert finding is not None
    assert finding.severity == "fail"
    assert message in finding.message


@pytest.mark.parametrize("status", ["active", "open", "registered"])
def test_active_open_and_registered_are_in_good_standing(status):
    assert status_finding({"company_status": status}) is None


def test_a_profile_without_accounts_or_flags_is_read_without_error():
    assert going_concern_findings({"company_status": "active"}) == []


# --- directors and names ------------------------------------------------------


def test_only_unresigned_people_with_the_director_role_are_current_directors():
    directors = current_directors(recorded("officers.json"))

    assert [d.name for d in directors] == [
        "ZIELINSKA-BROWN, Amelia Rose",
        "O'NEILL, Thomas",
    ]  # not the resigned director, the secretary or the corporate director
    first = directors[0]
    assert first == Director(
        name="ZIELINSKA-BROWN, Amelia Rose",
        appointment=recorded("officers.json")["items"][0]["links"]["self"],
        appointed_on=date(2008, 5, 12),
        officer_role="director",
    )


def test_current_directors_tolerates_odd_items():
    officers = {"items": [None, "x", {"officer_role": "director"}, {"name": "A, B"}]}

    assert current_directors(officers) == []
    assert current_directors({}) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NORTHFIELD COLLEGE LIMITED", "Northfield College Ltd"),
        ("Northfield College Ltd.", "northfield college"),
        ("The Smith & Jones Academy", "SMITH AND JONES ACADEMY LIMITED"),
        ("St John's Training", "ST JOHNS TRAINING LTD"),
        ("Café Skills LLP", "CAFE SKILLS"),
        ("Market Street Training Public Limited Company", "Market Street Training PLC"),
    ],
)
def test_organisation_names_match_loosely(a, b):
    assert name_matches(a, b)
    assert name_matches(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Northfield College", "Northfield Colleges"),
        ("Northfield College", "Southfield College"),
        ("Limited", "Ltd"),  # nothing left to compare is not a match
        ("", ""),
        ("The", "the"),
    ],
)
def test_different_organisation_names_do_not_match(a, b):
    assert not name_matches(a, b)


@pytest.mark.parametrize(
    ("typed", "ch_name"),
    [
        ("Grace Okafor", "OKAFOR, Grace Adaeze"),
        ("grace adaeze okafor", "OKAFOR, Grace Adaeze"),
        ("Dr Grace Okafor", "OKAFOR, Grace Adaeze"),
        ("Okafor, Grace", "OKAFOR, Grace Adaeze"),
        ("Amelia Zielinska-Brown", "ZIELINSKA-BROWN, Amelia Rose"),
        ("Thomas O\u2019Neill", "O'NEILL, Thomas"),  # a typographic apostrophe
        ("Anna van der Berg", "VAN DER BERG, Anna"),
        ("José Núñez", "NUNEZ, Jose"),
        ("John Smith", "SMITH, John, Dr"),
    ],
)
def test_a_person_matches_on_surname_and_first_forename(typed, ch_name):
    assert person_name_matches(typed, ch_name)


@pytest.mark.parametrize(
    ("typed", "ch_name"),
    [
        ("Adaeze Okafor", "OKAFOR, Grace Adaeze"),  # a middle name, not the first
        ("Grace Okafo", "OKAFOR, Grace Adaeze"),
        ("Grace", "OKAFOR, Grace Adaeze"),
        ("Okafor", "OKAFOR, Grace Adaeze"),
        ("Anna Berg", "VAN DER BERG, Anna"),
        ("", "OKAFOR, Grace"),
        ("Grace Okafor", ""),
        ("Market Street Holdings", "MARKET STREET HOLDINGS LIMITED"),
    ],
)
def test_a_person_does_not_match_otherwise(typed, ch_name):
    assert not person_name_matches(typed, ch_name)


# --- check_company ------------------------------------------------------------


@pytest.mark.django_db
def test_check_company_prints_status_concerns_and_directors(settings, capsys):
    settings.COMPANIES_HOUSE_API_KEY = ""

    call_command("check_company", "9876543")

    out = capsys.readouterr().out
    assert "NORTHFIELD COLLEGE LIMITED (09876543)" in out
    assert "Status: active" in out
    assert "No going-concern concerns found" in out
    assert "Current directors (2):" in out
    assert "OKAFOR, Grace Adaeze, appointed 2 November 2015" in out
    assert "PEARSON" not in out  # resigned


@pytest.mark.django_db
def test_check_company_prints_each_concern(settings, capsys):
    settings.COMPANIES_HOUSE_API_KEY = ""

    call_command("check_company", "SC612345")

    out = capsys.readouterr().out
    assert "Status: active (active-proposal-to-strike-off)" in out
    assert "Needs review: Companies House has published a proposal" in out
    assert "Needs review: The company's accounts are overdue" in out


@pytest.mark.django_db
def test_check_company_of_a_dissolved_company_says_nobody_can_sign(settings, capsys):
    settings.COMPANIES_HOUSE_API_KEY = ""

    call_command("check_company", "04567890")

    out = capsys.readouterr().out
    assert "Fail: Companies House lists the company as dissolved." in out
    assert "None: nobody can sign the LRS agreement" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("XY123456", "XY is not a Companies House register"),
        ("12345", None),  # valid: padded, but not in the fixtures
    ],
)
def test_check_company_stops_with_one_line_for_a_bad_or_unknown_number(
    settings, number, message
):
    settings.COMPANIES_HOUSE_API_KEY = ""

    with pytest.raises(CommandError) as excinfo:
        call_command("check_company", number)

    text = str(excinfo.value)
    assert "\n" not in text
    assert (message or "Companies House has no company with number 00012345") in text


@pytest.mark.django_db
def test_check_company_stops_when_companies_house_is_unavailable(http, api_settings):
    http.get(f"{API}/company/01234567", status=503)

    with pytest.raises(CommandError, match=r"kept failing .* Try again later"):
        call_command("check_company", "01234567")
