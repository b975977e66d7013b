"""Dates and times in one format throughout: "6 December 2026, 18:52"."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.utils import formats, translation

LONDON = ZoneInfo("Europe/London")


def test_a_date_and_a_time_read_as_gov_uk_writes_them():
    when = datetime(2026, 12, 6, 18, 52, tzinfo=LONDON)

    rendered = Template("{{ when }} | {{ day }} | {{ when|time }}").render(
        Context({"when": when, "day": date(2026, 5, 1)})
    )

    assert rendered == "6 December 2026, 18:52 | 1 May 2026 | 18:52"


def test_the_admin_short_formats_keep_the_day_first():
    with translation.override("en-gb"):
        short = formats.date_format(date(2026, 12, 6), "SHORT_DATE_FORMAT")

    assert short == "6 Dec 2026"


def test_forms_still_accept_the_day_first_dates_of_en_gb():
    assert "%d/%m/%Y" in formats.get_format("DATE_INPUT_FORMATS")
