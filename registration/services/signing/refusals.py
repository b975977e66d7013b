"""Why a link cannot be sent or used, or a signature is refused: SigningRefused
and its kinds."""


class SigningRefused(Exception):
    """The link cannot be used, or the signature does not match the director."""


class DirectorNotCurrent(SigningRefused):
    """Companies House does not list the person as a director who can sign."""


class CompaniesHouseNotAnswering(SigningRefused):
    """Companies House could not be asked now; the same request may work later."""


class WrongCode(SigningRefused):
    """The code typed is not the letter's; tries are left."""


class CodeLocked(SigningRefused):
    """The letter's code can no longer be used (too many tries, or expired)."""
