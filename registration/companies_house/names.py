"""Whether two names are the same organisation's or person's, as Companies House
and an applicant write them (legal forms, titles, accents and word order aside).
"""

import re
import unicodedata

# --- Name matching ------------------------------------------------------------

_LEGAL_FORMS = (
    ("public", "limited", "company"),
    ("limited", "liability", "partnership"),
    ("community", "interest", "company"),
    ("limited",),
    ("ltd",),
    ("plc",),
    ("llp",),
    ("cic",),
    ("cio",),
)
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame"}
    | {"lord", "lady", "rev", "revd"}
)


def _words(name: str) -> list[str]:
    """Lower-case words without accents or punctuation; "&" is "and"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    # St John's and St Johns are the same name (U+2019 is the typographic apostrophe).
    text = re.sub("['\u2019`]", "", text.replace("&", " and "))
    return re.sub(r"[\W_]+", " ", text).split()


def _organisation_words(name: str) -> list[str]:
    words = _words(name)
    if words[:1] == ["the"]:
        words = words[1:]
    stripped = True
    while stripped:  # "X Limited", "X Ltd" and "X" are the same organisation name
        stripped = False
        for form in _LEGAL_FORMS:
            if len(words) > len(form) and tuple(words[-len(form) :]) == form:
                words, stripped = words[: -len(form)], True
    return words


def name_matches(a: str, b: str) -> bool:
    """Whether two organisation names are the same, ignoring case, punctuation,
    accents, a leading "The", "&"/"and" and a legal form (Limited, Ltd, PLC, LLP)."""
    words = _organisation_words(a)
    return bool(words) and words == _organisation_words(b)


def _person_parts(name: str) -> tuple[list[str], list[str]]:
    """(surname words, forename words) of "SURNAME, Forenames" or "Forenames
    Surname"."""
    surname, comma, rest = name.partition(",")
    if comma:
        # A second comma starts honours or a title: "SMITH, John, Dr".
        forenames = [w for w in _words(rest.split(",")[0]) if w not in _TITLES]
        return _words(surname), forenames
    words = [w for w in _words(name) if w not in _TITLES]
    return words[-1:], words[:-1]


def person_name_matches(typed_name: str, ch_name: str) -> bool:
    """Whether a typed name is the Companies House officer: the surname and the
    first forename agree, ignoring case and accents."""
    surname, forenames = _person_parts(ch_name)
    if not surname or not forenames:
        return False
    if "," in typed_name:
        typed_surname, typed_forenames = _person_parts(typed_name)
        return typed_surname == surname and typed_forenames[:1] == forenames[:1]
    typed = [w for w in _words(typed_name) if w not in _TITLES]
    # Compare the end with every word of the surname: "Anna van der Berg".
    return (
        len(typed) > len(surname)
        and typed[-len(surname) :] == surname
        and typed[0] == forenames[0]
    )
