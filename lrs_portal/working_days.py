"""Working days in England and Wales: Monday to Friday, less bank holidays.

Caseworkers' service levels (lrs_portal.service_levels, decision 0032) count in
working days. The bank holidays are settings.BANK_HOLIDAYS: by default the list
below, from https://www.gov.uk/bank-holidays (England and Wales), which GOV.UK
publishes about two years ahead; the later years follow the usual rules (Easter,
the first and last Mondays of May, the last Monday of August, and Christmas with
its substitute days). A special bank holiday, or a year beyond the list, is added
with the BANK_HOLIDAYS environment variable (every date, comma separated, replaces
the list); ``check --deploy`` warns when the list holds nothing for next year
(lrs_portal.W008).

This module imports nothing from Django at module level: settings reads it.
"""

from datetime import date, timedelta

ENGLAND_AND_WALES_BANK_HOLIDAYS: tuple[date, ...] = (
    # 2025
    date(2025, 1, 1),
    date(2025, 4, 18),
    date(2025, 4, 21),
    date(2025, 5, 5),
    date(2025, 5, 26),
    date(2025, 8, 25),
    date(2025, 12, 25),
    date(2025, 12, 26),
    # 2026
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),  # Boxing Day is a Saturday
    # 2027
    date(2027, 1, 1),
    date(2027, 3, 26),
    date(2027, 3, 29),
    date(2027, 5, 3),
    date(2027, 5, 31),
    date(2027, 8, 30),
    date(2027, 12, 27),  # Christmas Day is a Saturday
    date(2027, 12, 28),  # Boxing Day is a Sunday
    # 2028
    date(2028, 1, 3),  # New Year's Day is a Saturday
    date(2028, 4, 14),
    date(2028, 4, 17),
    date(2028, 5, 1),
    date(2028, 5, 29),
    date(2028, 8, 28),
    date(2028, 12, 25),
    date(2028, 12, 26),
)


def parse_holidays(text: str) -> tuple[date, ...]:
    """Comma-separated ISO dates ("2029-01-01, 2029-03-30"); ValueError if any is
    not a date."""
    return tuple(
        sorted(
            date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()
        )
    )


def _holidays() -> frozenset[date]:
    from django.conf import settings

    return frozenset(settings.BANK_HOLIDAYS)


def is_working_day(day: date, holidays: frozenset[date] | None = None) -> bool:
    holidays = _holidays() if holidays is None else holidays
    return day.weekday() < 5 and day not in holidays


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to and including ``end``: an item
    received on a Monday is 1 working day old on the Tuesday, 0 on the Monday
    (and on the Saturday after a Friday)."""
    if end <= start:
        return 0
    holidays = _holidays()
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    count -= sum(1 for day in holidays if start < day <= end and day.weekday() < 5)
    return count


def working_day_back(end: date, count: int) -> date:
    """The ``count``-th working day counting back from ``end`` (``end`` itself
    the first if it is one): an item received before that day is more than
    ``count - 1`` working days old on ``end``."""
    holidays = _holidays()
    day = end
    found = 0
    while True:
        if is_working_day(day, holidays):
            found += 1
            if found == count:
                return day
        day -= timedelta(days=1)
