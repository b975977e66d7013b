"""Dates and times as GOV.UK writes them, in every page and in the admin.

Django's own en-GB formats abbreviate months and use "p.m." (``6 Dec 2026, 6:52
p.m.``); the GOV.UK style guide writes the month in full, and caseworkers compare
times to the minute, so: ``6 December 2026`` and ``6 December 2026, 18:52``. Only
the display formats change; what a form accepts is Django's en-GB input formats.
"""

from django.conf.locale.en_GB.formats import (  # type: ignore[import-untyped]
    DATE_INPUT_FORMATS,
    DATETIME_INPUT_FORMATS,
    FIRST_DAY_OF_WEEK,
)

__all__ = [
    "DATETIME_FORMAT",
    "DATETIME_INPUT_FORMATS",
    "DATE_FORMAT",
    "DATE_INPUT_FORMATS",
    "FIRST_DAY_OF_WEEK",
    "MONTH_DAY_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
]

DATE_FORMAT = "j F Y"  # 6 December 2026
TIME_FORMAT = "H:i"  # 18:52
DATETIME_FORMAT = "j F Y, H:i"  # 6 December 2026, 18:52
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j M Y"  # 6 Dec 2026, where a table column is narrow
SHORT_DATETIME_FORMAT = "j M Y, H:i"
