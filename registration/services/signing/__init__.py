"""Whose signature it is (issue 19, decision 0014).

A signature counts only when the person signing is, at that moment, a director at
Companies House (asked again when the link is sent and when it is used, from a
snapshot no older than a day), the link went to the director's own address (not
the applicant's, not a member's, on the organisation's domain unless a caseworker
recorded an exception), and they typed the one-time code that came by letter to
their correspondence address at Companies House. One function cancels pending links.

One module per part: refusals (SigningRefused and its kinds), directors
(Companies House asked again), addresses (the director's own address), codes
(the letter and its code) and cancelling (pending links). Every name is
importable from here as before.
"""

from registration.services.signing.addresses import (
    Subject,
    director_email_check,
    director_email_excepted,
    director_email_exception_record,
)
from registration.services.signing.cancelling import signing_requests_cancel
from registration.services.signing.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_LIFETIME,
    LETTER_BODY,
    code_normalise,
    signing_code_post,
    signing_code_try,
)
from registration.services.signing.directors import (
    SNAPSHOT_MAX_AGE,
    Officer,
    company_officers_recent,
    director_verify,
)
from registration.services.signing.refusals import (
    CodeLocked,
    CompaniesHouseNotAnswering,
    DirectorNotCurrent,
    SigningRefused,
    WrongCode,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_LIFETIME",
    "LETTER_BODY",
    "SNAPSHOT_MAX_AGE",
    "CodeLocked",
    "CompaniesHouseNotAnswering",
    "DirectorNotCurrent",
    "Officer",
    "SigningRefused",
    "Subject",
    "WrongCode",
    "code_normalise",
    "company_officers_recent",
    "director_email_check",
    "director_email_excepted",
    "director_email_exception_record",
    "director_verify",
    "signing_code_post",
    "signing_code_try",
    "signing_requests_cancel",
]
