"""Dates and times on the Welsh pages, written as the English pages write them
(lrs_portal/formats/en_GB): ``6 Rhagfyr 2026`` and ``6 Rhagfyr 2026, 18:52``.

Django's own Welsh formats write the time with "y.b."/"y.h." (``2:30 y.b.``) and
short dates as ``25/10/2006``; the English pages use the 24-hour clock and the
month's name, so the Welsh pages do too (decision 34). The month names are
Django's own Welsh ones (its catalogue). What a form accepts is Django's Welsh
input formats.
"""

from django.conf.locale.cy.formats import (  # type: ignore[import-untyped]
    DATE_INPUT_FORMATS,
    DATETIME_INPUT_FORMATS,
    DECIMAL_SEPARATOR,
    FIRST_DAY_OF_WEEK,
    NUMBER_GROUPING,
    THOUSAND_SEPARATOR,
)

__all__ = [
    "DATETIME_FORMAT",
    "DATETIME_INPUT_FORMATS",
    "DATE_FORMAT",
    "DATE_INPUT_FORMATS",
    "DECIMAL_SEPARATOR",
    "FIRST_DAY_OF_WEEK",
    "MONTH_DAY_FORMAT",
    "NUMBER_GROUPING",
    "SHORT_DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "THOUSAND_SEPARATOR",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
]

DATE_FORMAT = "j F Y"  # 6 Rhagfyr 2026
TIME_FORMAT = "H:i"  # 18:52
DATETIME_FORMAT = "j F Y, H:i"  # 6 Rhagfyr 2026, 18:52
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = (
    "j M Y"  # as en_GB: the month's short name, where a column is narrow
)
SHORT_DATETIME_FORMAT = "j M Y, H:i"
