"""The month box of a GOV.UK date input: a number, or the month's name.

GOV.UK's date pattern accepts a month written as a word ("May", "march") or
abbreviated ("Sept", "Dec") as well as a number, as people write dates.
"""

# Written out, not from the calendar module, whose names follow the process's
# locale.
_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
# Full names, three-letter abbreviations and "sept", as people write them.
_MONTHS: dict[str, int] = {
    **{name: n for n, name in enumerate(_NAMES, start=1)},
    **{name[:3]: n for n, name in enumerate(_NAMES, start=1)},
    "sept": 9,
}


def month_number(text: str) -> str:
    """The month as digits when ``text`` names one ("May" is "5", "sept." is "9");
    anything else unchanged, for the date check to judge."""
    word = text.strip().rstrip(".").lower()
    number = _MONTHS.get(word)
    return str(number) if number is not None else text
