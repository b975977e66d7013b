import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from lrs_portal.csv_cells import csv_cell
from records.models import LearnerView
from records.services import organisation_daily_cap
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = pytest.mark.django_db
ACTION = LearnerView.Action
OUTCOME = LearnerView.Outcome
USAGE = reverse("records:usage")
CSV = reverse("records:usage-csv")


@pytest.fixture
def organisation():
    version = AgreementVersionFactory.create()
    return OrganisationFactory.create(
        last_signed_version=version, estimated_learners_per_year=2000
    )


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def member(organisation):
    return member_of(organisation)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def super_client(super_user):
    return signed_in(super_user)


def today():
    return datetime.now(UTC).date()


def at(day, hour=12, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def log(user, when, *, action=ACTION.SEARCH_ULN, outcome=OUTCOME.NO_MATCH, **kw):
    return LearnerView.objects.create(
        user=user,
        organisation=user.membership.organisation,
        viewed_at=when,
        action=action,
        outcome=outcome,
        **kw,
    )


def body(response):
    return unescape(response.content.decode())


def table_row(html, day):
    """The figures in the usage table's row for ``day``."""
    label = f"{day.day} {day:%B %Y}"
    row = re.search(rf"<th[^>]*>{label}</th>(.*?)</tr>", html, re.S)[1]
    return [int(n) for n in re.findall(r">(\d+)</td>", row)]


def bar_title(html, day):
    label = f"{day.day} {day:%B %Y}"
    return re.search(rf"<title>{label}: (\d+) search", html)[1]


def read_csv(response):
    assert response.status_code == HTTPStatus.OK
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


# --- who sees the usage page ------------------------------------------------------


def test_the_super_user_sees_their_organisations_usage(super_client, organisation):
    response = super_client.get(USAGE)

    html = body(response)
    assert response.status_code == HTTPStatus.OK
    assert html.count("<h1") == 1
    assert organisation.legal_name in html
    assert f"up to {organisation_daily_cap(organisation)} searches a day" in html
    assert CSV in html
    assert "Download your organisation's log (CSV)" in html


@pytest.mark.parametrize("url", [USAGE, CSV])
def test_an_ordinary_member_is_told_only_the_super_user_sees_it(member, url):
    response = signed_in(member).get(url)

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = body(response)
    assert "Only your organisation's super user can see its usage" in html
    assert "Download your organisation" not in html
    assert reverse("lrs_portal:account") in html


@pytest.mark.parametrize("url", [USAGE, CSV])
def test_someone_outside_any_organisation_cannot_see_it(outsider, url):
    assert signed_in(outsider).get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("url", [USAGE, CSV])
def test_someone_signed_out_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("two_factor:login"))


def test_another_organisations_super_user_sees_only_their_own(super_user, member):
    log(member, at(today()))
    log(member, at(today()))
    other = member_of(
        OrganisationFactory.create(legal_name="Other College Limited"),
        super_user=True,
    )
    log(other, at(today()))

    html = body(signed_in(other).get(USAGE))

    assert "Other College Limited" in html
    assert table_row(html, today())[0] == 1
    assert super_user.membership.organisation.legal_name not in html


# --- the figures -----------------------------------------------------------------


def test_the_chart_and_table_count_each_days_searches(super_user, member):
    day = today()
    five_days_ago = day - timedelta(days=5)
    for _ in range(3):
        log(member, at(day, 0, 1))
    log(super_user, at(day, 23, 59), action=ACTION.SEARCH_DEMOGRAPHICS)
    log(member, at(day), action=ACTION.VIEW_RECORD, outcome=OUTCOME.SHOWN)
    log(member, at(day), outcome=OUTCOME.REFUSED)
    log(member, at(five_days_ago), outcome=OUTCOME.EXACT_MATCH)
    log(member, at(five_days_ago), outcome=OUTCOME.EXACT_MATCH)
    log(member, at(day - timedelta(days=30)))  # outside the 30 days
    stranger = member_of(OrganisationFactory.create())
    log(stranger, at(day))

    html = body(signed_in(super_user).get(USAGE))

    cap = organisation_daily_cap(super_user.membership.organisation)
    assert table_row(html, day) == [4, cap, 1, 1]
    assert table_row(html, five_days_ago) == [2, cap, 0, 0]
    assert table_row(html, day - timedelta(days=1)) == [0, cap, 0, 0]
    assert bar_title(html, day) == "4"
    assert bar_title(html, five_days_ago) == "2"
    assert html.count('class="app-usage-chart__bar') == 30
    assert html.count('<tr class="govuk-table__row">') == 31  # heading + 30 days
    month_ago = day - timedelta(days=30)
    assert f">{month_ago.day} {month_ago:%B %Y}</th>" not in html
    assert "Today so far: 4 searches" in html


def test_days_are_counted_in_utc(super_user):
    day = today()
    log(super_user, at(day, 0, 0))
    log(super_user, at(day - timedelta(days=1), 23, 59))

    html = body(signed_in(super_user).get(USAGE))

    assert table_row(html, day)[0] == 1
    assert table_row(html, day - timedelta(days=1))[0] == 1


def test_a_day_at_the_cap_is_marked_and_the_cap_line_drawn(super_user, settings):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 2
    settings.LOOKUP_ORG_DAILY_MULTIPLIER = 1
    organisation = super_user.membership.organisation
    organisation.estimated_learners_per_year = 10
    organisation.save()
    log(super_user, at(today()))
    log(super_user, at(today()))

    html = body(signed_in(super_user).get(USAGE))

    assert html.count("app-usage-chart__bar--reached") == 1
    assert 'class="app-usage-chart__cap"' in html
    assert "Daily limit: 2" in html


def test_the_chart_uses_no_inline_styles_or_scripts(super_client, super_user):
    log(super_user, at(today()))

    html = body(super_client.get(USAGE))

    svg = re.search(r"<svg class=\"app-usage-chart\".*?</svg>", html, re.S)[0]
    assert "style" not in svg
    assert "<script" not in svg
    assert "<title" in svg
    assert "<style" not in html
    assert " style=" not in html
    # base.html's scripts only: the two nonce'd ones and the timeout warning's file
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 3
    assert all("nonce=" in tag for tag in scripts)


@pytest.mark.parametrize("audited", [False, True])
def test_the_usage_page_makes_the_same_few_queries_for_30_days_of_rows(
    super_user, member, django_assert_max_num_queries, audited
):
    for days_ago in range(30):
        for minute in range(3):
            log(member, at(today() - timedelta(days=days_ago), 9, minute))
    if audited:
        audit([today() - timedelta(days=n) for n in range(1, 30)])
    client = signed_in(super_user)

    # The session, the user, the membership and its organisation; the audited
    # days, their counts (only when there are any) and the log's.
    with django_assert_max_num_queries(7):
        response = client.get(USAGE)

    assert response.status_code == HTTPStatus.OK
    assert table_row(body(response), today() - timedelta(days=29))[0] == 3


# --- past days from the nightly audit's counts -------------------------------------


def figures(html):
    """Every figure of the usage table, day by day, and today's line."""
    days = [today() - timedelta(days=n) for n in range(30)]
    today_line = re.search(r"Today so far: (\d+) search", html)[1]
    return {day: table_row(html, day) for day in days}, today_line


def busy_month(super_user, member):
    """Rows of every kind over the 30 days and either side of them: searches of
    both kinds, record views, refused searches and refused record views, either
    side of midnight, today among them; and another organisation's."""
    day = today()
    stranger = member_of(OrganisationFactory.create())
    for back in (0, 1, 2, 5, 17, 29, 30):
        on = day - timedelta(days=back)
        log(member, at(on, 0, 0))
        log(member, at(on, 0, 30), action=ACTION.SEARCH_DEMOGRAPHICS)
        log(super_user, at(on, 12), outcome=OUTCOME.EXACT_MATCH)
        log(member, at(on, 13), action=ACTION.VIEW_RECORD, outcome=OUTCOME.SHOWN)
        log(member, at(on, 14), action=ACTION.VIEW_RECORD, outcome=OUTCOME.REFUSED)
        log(member, at(on, 15), outcome=OUTCOME.REFUSED)
        for minute in range(back % 4):
            log(super_user, at(on, 23, 30 + minute), outcome=OUTCOME.POSSIBLE_MATCHES)
        log(stranger, at(on, 16))
    return [day - timedelta(days=back) for back in (1, 2, 5, 17, 29, 30)]


def audit(days):
    from records.jobs import audit_usage_run

    for day in days:
        audit_usage_run(day=day)


def log_queries(captured):
    return [q["sql"] for q in captured if "records_learnerview" in q["sql"]]


def test_audited_days_come_from_the_audits_counts_with_the_same_figures(
    super_user, member
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    past = busy_month(super_user, member)
    client = signed_in(super_user)
    from_the_log = figures(body(client.get(USAGE)))

    audit(past)
    with CaptureQueriesContext(connection) as captured:
        from_the_audit = figures(body(client.get(USAGE)))

    assert from_the_audit == from_the_log
    days, today_line = from_the_audit
    cap = organisation_daily_cap(super_user.membership.organisation)
    assert days[today()] == [3, cap, 2, 2]
    assert days[today() - timedelta(days=1)] == [4, cap, 2, 2]
    assert days[today() - timedelta(days=3)] == [0, cap, 0, 0]
    assert today_line == "3"
    # The log is read for today alone.
    [query] = log_queries(captured)
    assert f"{today():%Y-%m-%d}" in query
    assert f"{today() - timedelta(days=1):%Y-%m-%d}" not in query


def test_an_organisation_with_no_lookups_shows_nothing_either_way(super_user, member):
    past = busy_month(super_user, member)
    quiet = member_of(OrganisationFactory.create(), super_user=True)
    client = signed_in(quiet)
    from_the_log = figures(body(client.get(USAGE)))

    audit(past)
    from_the_audit = figures(body(client.get(USAGE)))

    assert from_the_audit == from_the_log
    days, today_line = from_the_audit
    assert {tuple(row[:1] + row[2:]) for row in days.values()} == {(0, 0, 0)}
    assert today_line == "0"


def test_a_day_audited_before_it_was_over_is_counted_from_the_log(super_user):
    from records.models import AuditedDay

    yesterday = today() - timedelta(days=1)
    log(super_user, at(yesterday, 10))
    audit([yesterday])
    # As if audited by hand at 22:00 (audit_usage --date), then searched again.
    AuditedDay.objects.filter(day=yesterday).update(audited_at=at(yesterday, 22))
    log(super_user, at(yesterday, 23, 59))

    html = body(signed_in(super_user).get(USAGE))

    assert table_row(html, yesterday)[0] == 2


def test_a_day_audited_before_refused_views_were_counted_is_read_from_the_log(
    super_user, member
):
    from records.models import UsageDay

    past = busy_month(super_user, member)
    client = signed_in(super_user)
    from_the_log = figures(body(client.get(USAGE)))
    audit(past)
    five_days_ago = today() - timedelta(days=5)
    UsageDay.objects.filter(day=five_days_ago, user=member).update(refused_views=None)

    assert figures(body(client.get(USAGE))) == from_the_log


def test_a_summer_days_uk_midnight_counts_on_its_utc_day_either_way(super_user):
    """In British Summer Time 23:30 UTC is half past midnight in London: the
    page's days are UTC days, from the log and from the audit alike."""
    from records.usage_days import _usage_days

    last = datetime(2026, 7, 15, tzinfo=UTC).date()
    before = last - timedelta(days=1)
    log(super_user, at(before, 23, 30))  # 00:30 on the 15th in London
    log(super_user, at(before, 22, 59))
    log(super_user, at(last, 0, 30))
    organisation = super_user.membership.organisation
    rows = LearnerView.objects.filter(organisation=organisation)
    from_the_log = _usage_days(rows, organisation.pk, last)

    audit([before])
    from_the_audit = _usage_days(rows, organisation.pk, last)

    assert from_the_audit == from_the_log
    assert [day.searches for day in from_the_audit[-2:]] == [2, 1]


@pytest.mark.postgres
def test_the_page_reads_todays_rows_through_the_organisation_index(super_user, member):
    """The audit's counts by their organisation index, and the log for today
    only: one partition, by an index, never the month."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    busy_month(super_user, member)
    audit([today() - timedelta(days=n) for n in range(1, 30)])
    with CaptureQueriesContext(connection) as captured:
        signed_in(super_user).get(USAGE)
    [query] = log_queries(captured)
    [counts] = [q["sql"] for q in captured if '"records_usageday"' in q["sql"]]

    def plan(sql):
        with transaction.atomic(), connection.cursor() as cursor:
            # The test's tables are tiny; the month is not: a scan never wins.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            return [line for (line,) in cursor.fetchall()]

    log_plan = plan(query)
    scans = [line for line in log_plan if " on records_learnerview" in line]
    assert len(scans) == 1, log_plan  # today's partition alone
    assert "Index" in scans[0], log_plan  # through an index, never a scan
    # Which of the partition's indexes (the organisation's or viewed_at's) is
    # the planner's choice on the test's tiny tables; both bound the rows to
    # today's, and the organisation is a condition either way.
    assert "organisation_id =" in "\n".join(log_plan)
    conditions = "\n".join(line for line in log_plan if "Index Cond" in line)
    assert "viewed_at >=" in conditions
    counts_plan = "\n".join(plan(counts))
    assert "usage_day_org_idx" in counts_plan


# --- the log download ------------------------------------------------------------


def test_the_log_lists_the_organisations_rows_newest_first(super_client, member):
    log(member, at(today(), 9), request_id="req-old")
    log(
        member,
        at(today(), 10, 30),
        action=ACTION.SEARCH_DEMOGRAPHICS,
        outcome=OUTCOME.POSSIBLE_MATCHES,
        match_count=3,
        request_id="req-new",
    )
    log(
        member,
        at(today(), 10),
        action=ACTION.VIEW_RECORD,
        outcome=OUTCOME.SHOWN,
        match_count=1,
        learner_uln="9276308686",
        request_id="req-mid",
    )

    response = super_client.get(CSV)

    rows = read_csv(response)
    assert rows[0] == [
        "Time (UTC)",
        "User email",
        "Action",
        "Outcome",
        "Matches",
        "Learner ULN",
        "Request ID",
        "Channel",
        "API client",
    ]
    assert rows[1] == [
        f"{today():%Y-%m-%d} 10:30:00",
        member.email,
        "Search by demographics",
        "Possible matches",
        "3",
        "",
        "req-new",
        "Portal page",
        "",
    ]
    assert rows[2][2:7] == [
        "View record",
        "Record shown",
        "1",
        "9276308686",
        "req-mid",
    ]
    assert rows[3][6] == "req-old"
    assert len(rows) == 4


def test_the_log_is_a_dated_never_cached_download(super_client, organisation):
    response = super_client.get(CSV)

    end = today()
    start = end - timedelta(days=89)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="lrs-log-{organisation.ukprn}-'
        f'{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv"'
    )
    assert "no-store" in response["Cache-Control"]


def test_the_log_never_includes_another_organisations_rows(super_client, member):
    log(member, at(today()), request_id="ours")
    stranger = member_of(OrganisationFactory.create())
    log(stranger, at(today()), request_id="theirs")

    rows = read_csv(super_client.get(CSV))

    assert [row[6] for row in rows[1:]] == ["ours"]


def test_the_log_covers_the_last_90_days_by_default(super_client, member):
    log(member, at(today() - timedelta(days=89), 0, 0), request_id="day-90")
    log(member, at(today() - timedelta(days=90), 23, 59), request_id="day-91")

    rows = read_csv(super_client.get(CSV))

    assert [row[6] for row in rows[1:]] == ["day-90"]


def test_the_log_can_be_limited_to_chosen_dates(super_client, member):
    start, end = today() - timedelta(days=40), today() - timedelta(days=10)
    for day in (start - timedelta(days=1), start, end, end + timedelta(days=1)):
        log(member, at(day, 0, 0), request_id=f"{day}-start")
        log(member, at(day, 23, 59), request_id=f"{day}-end")

    response = super_client.get(CSV, {"from": f"{start}", "to": f"{end}"})

    assert [row[6] for row in read_csv(response)[1:]] == [
        f"{end}-end",
        f"{end}-start",
        f"{start}-end",
        f"{start}-start",
    ]
    assert f"{start}-to-{end}.csv" in response["Content-Disposition"]


def test_only_a_start_date_runs_to_today(super_client, member):
    log(member, at(today()), request_id="today")
    log(member, at(today() - timedelta(days=200)), request_id="long-ago")

    start = today() - timedelta(days=300)
    response = super_client.get(CSV, {"from": f"{start:%Y-%m-%d}"})

    assert [row[6] for row in read_csv(response)[1:]] == ["today", "long-ago"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter the start date as year-month-day"),
        ({"from": "1/2/2026"}, "from", "Enter the start date as year-month-day"),
        ({"to": "yesterday"}, "to", "Enter the end date as year-month-day"),
        (
            {"from": "2026-02-02", "to": "2026-02-01"},
            "from",
            "The start date must be the same as or before the end date",
        ),
        ({"to": "2999-01-01"}, "to", "The end date must be today or in the past"),
        ({"from": "1999-12-31"}, "from", "The start date must be in 2000 or later"),
        # 90 days before 1 January 1 overflowed (issue 16)
        ({"to": "0001-01-01"}, "to", "The end date must be in 2000 or later"),
        ({"to": "1999-12-31"}, "to", "The end date must be in 2000 or later"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "to", "in 2000 or later"),
        ({"from": "9999-12-31"}, "from", "the same as or before the end date"),
        ({"to": "9999-12-31"}, "to", "The end date must be today or in the past"),
    ],
)
def test_bad_dates_show_the_usage_page_with_an_error(
    super_client, member, query, field, message
):
    log(member, at(today()), request_id="never-sent")

    response = super_client.get(CSV, query)

    html = body(response)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")
    assert 'class="govuk-error-summary"' in html
    assert f'href="#id_{field}"' in html
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert "never-sent" not in html


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain-value", "plain-value"),
    ],
)
def test_cells_that_start_a_formula_are_escaped(super_client, member, value, cell):
    log(member, at(today()), request_id=value)

    rows = read_csv(super_client.get(CSV))

    assert rows[1][6] == cell


def test_an_email_address_starting_a_formula_is_escaped(super_client, organisation):
    sneaky = member_of(organisation)
    sneaky.email = "=cmd@college.example.com"
    sneaky.save()
    log(sneaky, at(today()))

    rows = read_csv(super_client.get(CSV))

    assert rows[1][1] == "'=cmd@college.example.com"


def test_numbers_are_never_escaped():
    assert csv_cell(3) == "3"


# --- issue 16: while the organisation is suspended, counts but not ULNs ------------


@pytest.mark.parametrize("status", ["suspended", "revoked", "deregistered"])
def test_a_suspended_organisations_log_leaves_out_the_ulns(
    super_client, organisation, member, status
):
    log(member, at(today()), outcome=OUTCOME.EXACT_MATCH, match_count=1,
        learner_uln="9276308686", request_id="the-row")  # fmt: skip
    organisation.status = status
    organisation.save()

    rows = read_csv(super_client.get(CSV))
    page = body(super_client.get(USAGE))

    assert "Learner ULN" not in rows[0]
    assert rows[1][rows[0].index("Request ID")] == "the-row"
    assert "9276308686" not in "".join(",".join(row) for row in rows)
    assert "does not show learners' ULNs" in page
    assert table_row(page, today())[0] == 1


def test_a_registered_organisations_log_has_the_ulns(super_client, member):
    log(member, at(today()), outcome=OUTCOME.EXACT_MATCH, match_count=1,
        learner_uln="9276308686")  # fmt: skip

    rows = read_csv(super_client.get(CSV))

    assert rows[0][5] == "Learner ULN"
    assert rows[1][5] == "9276308686"
