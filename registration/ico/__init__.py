"""The ICO register of data protection fee payers (domain.md 3): import its CSV into
IcoRegistration rows (register.py), and check an organisation's registration
against them (verification.py). Both re-exported here.
"""

from registration.ico.register import (
    ADDRESS_COLUMNS,
    END,
    FIELDS,
    MAX_LISTED_REJECTIONS,
    NAME,
    NUMBER,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    START,
    IcoImportProgress,
    IcoImportSummary,
    IcoRegisterFormatError,
    RejectedRow,
    ico_register_import,
)
from registration.ico.verification import (
    IcoVerification,
    ico_verify,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "END",
    "FIELDS",
    "MAX_LISTED_REJECTIONS",
    "NAME",
    "NUMBER",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "START",
    "IcoImportProgress",
    "IcoImportSummary",
    "IcoRegisterFormatError",
    "IcoVerification",
    "RejectedRow",
    "ico_register_import",
    "ico_verify",
]
