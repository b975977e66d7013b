"""The month box of a GOV.UK date input: a number, or the month's name.

GOV.UK's date pattern accepts a month written as a word ("May", "march") or
abbreviated ("Sept", "Dec") as well as a number, as people write dates. The
Welsh names ("Mai", "Rhagfyr") and their short forms ("Ion", "Chwef") are
accepted on every page, whichever language it is in (decision 34): a Welsh
speaker may read the English page, and no English name is a Welsh one.
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
_WELSH_NAMES = [
    "ionawr",
    "chwefror",
    "mawrth",
    "ebrill",
    "mai",
    "mehefin",
    "gorffennaf",
    "awst",
    "medi",
    "hydref",
    "tachwedd",
    "rhagfyr",
]
# The short forms Welsh writes (Django's own Welsh abbreviations among them).
_WELSH_SHORT = {
    "ion": 1,
    "chwe": 2,
    "chwef": 2,
    "maw": 3,
    "ebr": 4,
    "meh": 6,
    "gor": 7,
    "gorff": 7,
    "aws": 8,
    "med": 9,
    "hyd": 10,
    "tach": 11,
    "rhag": 12,
}
# Full names, three-letter abbreviations and "sept", as people write them.
_MONTHS: dict[str, int] = {
    **{name: n for n, name in enumerate(_NAMES, start=1)},
    **{name[:3]: n for n, name in enumerate(_NAMES, start=1)},
    "sept": 9,
    **{name: n for n, name in enumerate(_WELSH_NAMES, start=1)},
    **_WELSH_SHORT,
}


def month_number(text: str) -> str:
    """The month as digits when ``text`` names one ("May" and "Mai" are "5",
    "sept." is "9", "Rhag" is "12");
    anything else unchanged, for the date check to judge."""
    word = text.strip().rstrip(".").lower()
    number = _MONTHS.get(word)
    return str(number) if number is not None else text
