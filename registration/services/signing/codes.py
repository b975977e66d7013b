"""The letter and its one-time code: posted to the director's correspondence
address at Companies House, kept only as a hash, and tried at signing."""

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.services import letter_send
from lrs_portal.transitions import save_with_history
from registration.models import SigningCode, SigningRequest
from registration.services.signing.directors import Officer
from registration.services.signing.refusals import CodeLocked

# Second-class post takes up to five working days after printing.
CODE_LIFETIME = timedelta(days=14)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _code_shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def code_normalise(entered: str) -> str:
    return "".join(c for c in entered.upper() if c.isalnum())


LETTER_BODY = """Dear ((director_name))

Sign the Learning Records Service agreement for ((organisation_name))

You have been named as the director of ((organisation_name)) who signs the \
Learning Records Service (LRS) agreement. We have emailed you a link to the \
agreement. To sign it you also need this code:

((code))

Type it on the signing page with your name. The code works until ((expires_on)). \
We sent it to your correspondence address at Companies House so that only you \
can sign.

If you were not expecting this letter, do not use the code. Tell the Department \
for Education: someone may be trying to sign in your name.

Department for Education, Learning Records Service"""


def signing_code_post(
    *, signing_request: SigningRequest, officer: Officer, acting_user: User
) -> SigningCode:
    """Post the director a one-time code for their link (kept only as a hash)."""
    code = _new_code()
    # The code lasts as long as its link (a re-signing link may last until the
    # version's deadline), and never less than CODE_LIFETIME for the post.
    expires_at = max(timezone.now() + CODE_LIFETIME, signing_request.expires_at)
    subject = signing_request.organisation or signing_request.application
    organisation_name = subject.legal_name if subject is not None else ""
    letter = letter_send(
        address=[_letter_name(officer.name), *officer.address],
        subject=f"Sign the LRS agreement for {organisation_name}",
        body=LETTER_BODY,
        personalisation={
            "director_name": _letter_name(officer.name),
            "organisation_name": organisation_name,
            "code": _code_shown(code),
            "expires_on": f"{timezone.localtime(expires_at):%d %B %Y}",
        },
        reference="agreement.signing_code",
    )
    signing_code = SigningCode(
        signing_request=signing_request,
        code_hash=make_password(code),
        letter=letter,
        postcode=officer.postcode,
        expires_at=expires_at,
    )
    return save_with_history(
        signing_code,
        acting_user=acting_user,
        reason="Letter with a signing code posted to the director's correspondence "
        "address at Companies House",
    )


def _letter_name(ch_name: str) -> str:
    """ "SMITH, Jane Alice" as a letter addresses them: "Jane Alice Smith"."""
    surname, _, forenames = ch_name.partition(",")
    if not forenames:
        return ch_name.strip()
    return f"{forenames.strip()} {surname.strip().title()}"


def signing_code_try(*, signing_code: SigningCode, entered: str, by: str) -> str:
    """Count one try of the letter's code; "" when right, else what to tell them.

    The try is saved whatever the answer, so the caller commits it before refusing.
    """
    if not signing_code.is_usable:  # the caller refuses it first; never "right"
        raise CodeLocked(_("The code in your letter can no longer be used"))
    if check_password(code_normalise(entered), signing_code.code_hash):
        signing_code.used_at = timezone.now()
        save_with_history(
            signing_code,
            acting_user=None,
            reason=f"Signing code used by {by}",
            fields=["used_at"],
        )
        return ""
    signing_code.attempts += 1
    save_with_history(
        signing_code,
        acting_user=None,
        reason=f"Wrong signing code entered through {by}'s link",
        fields=["attempts"],
    )
    left = signing_code.attempts_left
    if left == 0:
        return "locked"
    plural = "try" if left == 1 else "tries"
    return (
        f"The code does not match the one in the letter we posted to you. You have "
        f"{left} {plural} left"
    )
