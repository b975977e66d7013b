"""Validators for what providers type: UKPRN, company and ICO numbers, email addresses.

Pure functions, no database. Every validator is total: for any string it returns or
raises ValidationError, never anything else (tests/registration/test_validators.py
proves it with hypothesis). Messages follow the GOV.UK pattern: say what is wrong
and how to put it right. Digits are matched with [0-9], never \\d, which would also
accept other scripts' digits.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# --- UKPRN (domain.md 2) ------------------------------------------------------

UKPRN_EXAMPLE = "10012345"


def normalise_ukprn(value: str | None) -> str:
    return "".join((value or "").split())


def validate_ukprn(value: str | None) -> None:
    ukprn = normalise_ukprn(value)
    if not ukprn:
        raise ValidationError(_("Enter a UKPRN"), code="required")
    if not re.fullmatch(r"[0-9]+", ukprn):
        raise ValidationError(
            _(
                "Enter a UKPRN in the correct format, like %(example)s: "
                "it must only include numbers 0 to 9"
            )
            % {"example": UKPRN_EXAMPLE},
            code="invalid_ukprn",
        )
    if len(ukprn) != 8:
        raise ValidationError(
            _(
                "Enter a UKPRN in the correct format, like %(example)s: "
                "it must be 8 digits"
            )
            % {"example": UKPRN_EXAMPLE},
            code="invalid_ukprn",
        )
    if ukprn.startswith("0"):
        # ILR rule: "a value in the range 10000000 to 99999999".
        raise ValidationError(
            _("Enter a UKPRN between 10000000 and 99999999"), code="invalid_ukprn"
        )


# --- Companies House company numbers (domain.md 4.1) --------------------------

COMPANY_NUMBER_EXAMPLE = gettext_lazy("01234567 or SC123456")
# Register prefixes, each followed by 6 digits. R0 (NI pre-partition) is a letter and
# a digit, so it is matched separately.
COMPANY_NUMBER_PREFIXES = frozenset(
    {
        "SC", "NI",  # Scotland, Northern Ireland
        "OC", "SO", "NC",  # LLPs
        "LP", "SL", "NL",  # limited partnerships
        "FC", "SF", "NF",  # overseas companies
        "GE", "GS", "GN",  # EEIGs
        "SE", "ES", "EN",  # Societas Europaea
        "AC", "SA", "NA",  # assurance companies
        "ZC", "SZ", "NZ",  # unregistered companies
        "IP", "SP", "NP", "NO",  # industrial and provident societies, credit unions
        "IC", "SI", "NV",  # ICVCs
        "RC", "SR", "NR",  # Royal Charter
        "CE", "CS",  # CIOs
        "SG",  # Scottish qualifying partnerships
        "OE",  # overseas entities
    }
)  # fmt: skip


def normalise_company_number(value: str | None) -> str:
    number = "".join((value or "").upper().split())
    if re.fullmatch(r"[0-9]{1,7}", number):
        number = number.zfill(8)  # England and Wales numbers are zero-padded
    return number


def validate_company_number(value: str | None) -> None:
    number = normalise_company_number(value)
    if not number:
        raise ValidationError(_("Enter a company registration number"), code="required")
    if re.fullmatch(r"[0-9]{8}|R0[0-9]{6}", number):
        return
    prefixed = re.fullmatch(r"([A-Z]{2})[0-9]{6}", number)
    if prefixed and prefixed[1] in COMPANY_NUMBER_PREFIXES:
        return
    if prefixed:
        raise ValidationError(
            _(
                "%(prefix)s is not a Companies House register. Enter the company "
                "registration number shown on the certificate of incorporation, "
                "like %(example)s"
            )
            % {"prefix": prefixed[1], "example": COMPANY_NUMBER_EXAMPLE},
            code="unknown_prefix",
        )
    raise ValidationError(
        _(
            "Enter a company registration number in the correct format: 8 digits, "
            "or 2 letters and 6 digits, like %(example)s"
        )
        % {"example": COMPANY_NUMBER_EXAMPLE},
        code="invalid_company_number",
    )


# --- ICO registration numbers (domain.md 3) -----------------------------------

ICO_NUMBER_PATTERN = re.compile(r"Z[0-9]{7}|Z[A-Z][0-9]{6}|C[0-9]{7}")


def normalise_ico_number(value: str | None) -> str:
    return "".join((value or "").upper().split())


def validate_ico_number(value: str | None) -> None:
    number = normalise_ico_number(value)
    if not number:
        raise ValidationError(_("Enter an ICO registration number"), code="required")
    if not ICO_NUMBER_PATTERN.fullmatch(number):
        raise ValidationError(
            _(
                "Enter an ICO registration number in the correct format, like "
                "Z1234567 or ZA123456: it is on your data protection fee certificate"
            ),
            code="invalid_ico_number",
        )


# --- Email addresses ----------------------------------------------------------

# Local parts of shared mailboxes. A local part made only of these words (joined by
# dots, hyphens or underscores, like exams.office) is refused too.
GENERIC_MAILBOXES = frozenset(
    {
        "info", "information", "admin", "administrator", "administration",
        "exams", "exam", "examinations", "examination", "office", "enquiries",
        "enquiry", "contact", "contactus", "hello", "reception", "mail", "email",
        "support", "help", "helpdesk", "accounts", "finance", "hr", "sales",
        "team", "staff", "noreply", "no-reply", "donotreply", "do-not-reply",
        "postmaster", "webmaster", "hostmaster", "abuse", "lrs", "mis", "data",
        "registry", "admissions", "enrolment", "enrolments", "enrollment",
        "records", "it", "ict", "general", "main", "school", "college", "us",
        "all", "careers", "bursar", "business", "marketing", "dpo", "gdpr",
        "privacy", "compliance", "quality", "training", "learning", "students",
        "student", "apprenticeships", "apprentices", "principal", "head",
        "headteacher", "ceo", "director", "directors", "manager", "management",
        "operations", "ops", "service", "services", "customerservice",
        "customerservices", "bookings", "centre", "center",
    }
)  # fmt: skip

# Services anyone can sign up to: an address there proves nothing about the employer.
FREE_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "outlook.co.uk",
        "hotmail.com", "hotmail.co.uk", "live.com", "live.co.uk", "msn.com",
        "windowslive.com", "yahoo.com", "yahoo.co.uk", "ymail.com",
        "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com",
        "aol.co.uk", "aim.com", "protonmail.com", "protonmail.ch", "proton.me",
        "pm.me", "gmx.com", "gmx.co.uk", "gmx.net", "mail.com", "email.com",
        "btinternet.com", "btopenworld.com", "sky.com", "talktalk.net",
        "tiscali.co.uk", "virginmedia.com", "ntlworld.com", "blueyonder.co.uk",
        "zoho.com", "zohomail.eu", "yandex.com", "yandex.ru", "mail.ru",
        "tutanota.com", "tuta.io", "fastmail.com", "fastmail.fm", "hushmail.com",
        "qq.com", "163.com", "126.com", "inbox.com", "lycos.com", "mailinator.com",
    }
)  # fmt: skip

# Registries under which anyone can register a name: a website "on" one of these
# would let every address under it pass the domain check.
_PUBLIC_SUFFIXES = frozenset(
    {
        "uk", "co.uk", "org.uk", "ac.uk", "gov.uk", "sch.uk", "nhs.uk",
        "ltd.uk", "plc.uk", "me.uk", "net.uk", "police.uk", "com", "org", "net",
        "edu", "gov", "io", "co", "info", "biz", "eu",
    }
)  # fmt: skip

EMAIL_FORMAT_MESSAGE = gettext_lazy(
    "Enter an email address in the correct format, like name@example.com"
)


def _email_parts(email: str | None) -> tuple[str, str]:
    """The email's lower-cased local part and domain, or a ValidationError."""
    text = (email or "").strip()
    local, at, domain = text.rpartition("@")
    domain = domain.lower().rstrip(".")
    if not at or not local or not domain or any(c.isspace() for c in text):
        raise ValidationError(EMAIL_FORMAT_MESSAGE, code="invalid_email")
    return local.lower(), domain


def _is_generic_local_part(local: str) -> bool:
    base = local.split("+", 1)[0]  # info+lrs@ is still info@
    if base in GENERIC_MAILBOXES:
        return True
    words = [word for word in re.split(r"[._-]+", base) if word]
    return bool(words) and all(word in GENERIC_MAILBOXES for word in words)


def validate_personal_mailbox(email: str | None) -> None:
    local, _domain = _email_parts(email)
    if _is_generic_local_part(local):
        raise ValidationError(
            _(
                "Enter the email address of a named person, not a shared mailbox "
                "like info@: the LRS super user account must be used only by that "
                "person"
            ),
            code="shared_mailbox",
        )


def website_domain(website: str | None) -> str:
    """The website's host, lower-cased and without a leading www. ("" if none)."""
    text = (website or "").strip()
    if "://" not in text:
        text = "//" + text  # a bare "college.ac.uk" is a host, not a path
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return ""
    host = host.rstrip(".")
    return host.removeprefix("www.")


def _is_free_email_domain(domain: str) -> bool:
    # The service's own domain or a subdomain of it; services are named by their
    # last two or three labels (gmail.com, yahoo.co.uk).
    labels = domain.split(".")
    return any(".".join(labels[-n:]) in FREE_EMAIL_DOMAINS for n in (2, 3))


def validate_work_email(email: str | None, *, director: bool = False) -> None:
    """A work address, not a personal email service (gmail.com and the like):
    checked as soon as a page asks for the address, before the organisation's
    domain is known. ``director``: the address is the signing director's, not the
    person's own (a whole sentence each, as Welsh words it differently)."""
    _local, domain = _email_parts(email)
    if _is_free_email_domain(domain):
        message = (
            _(
                "Enter the director's work email address, not a personal email "
                "service like %(domain)s"
            )
            if director
            else _(
                "Enter your work email address, not a personal email service "
                "like %(domain)s"
            )
        )
        raise ValidationError(message % {"domain": domain}, code="free_email_domain")


def validate_email_on_organisation_domain(
    email: str | None, website: str | None, *, director: bool = False
) -> None:
    """An address on the organisation's website domain. ``director``: the address
    is the signing director's, and the message says so."""
    _local, domain = _email_parts(email)
    host = website_domain(website)
    if not host or "." not in host or host in _PUBLIC_SUFFIXES:
        raise ValidationError(
            _(
                "Enter your organisation's website address, like "
                "https://www.northfield-college.ac.uk, so that we can check email "
                "addresses are on its domain"
            ),
            code="no_website",
        )
    if _is_free_email_domain(domain) or _is_free_email_domain(host):
        message = (
            _(
                "Enter the director's email address on your organisation's own "
                "domain (%(host)s), not a personal email service like gmail.com"
            )
            if director
            else _(
                "Enter an email address on your organisation's own domain "
                "(%(host)s), not a personal email service like gmail.com"
            )
        )
        raise ValidationError(message % {"host": host}, code="free_email_domain")
    if domain != host and not domain.endswith("." + host):
        message = (
            _(
                "Enter the director's email address on your organisation's own "
                "domain (%(host)s)"
            )
            if director
            else _(
                "Enter an email address on your organisation's own domain (%(host)s)"
            )
        )
        raise ValidationError(message % {"host": host}, code="wrong_domain")
