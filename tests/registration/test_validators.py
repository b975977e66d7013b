import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registration.validators import (
    COMPANY_NUMBER_PREFIXES,
    FREE_EMAIL_DOMAINS,
    GENERIC_MAILBOXES,
    normalise_company_number,
    normalise_ico_number,
    normalise_ukprn,
    validate_company_number,
    validate_email_on_organisation_domain,
    validate_ico_number,
    validate_personal_mailbox,
    validate_ukprn,
    website_domain,
)

# The autouse settings fixture in tests/conftest.py is function-scoped; these tests
# touch no settings, so sharing it between examples is harmless.
property_test = settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Text a user might paste, including whitespace and other scripts' digits.
typed = st.text(
    alphabet=st.sampled_from("0123456789 \t\n\u00a0ZzCcRrSsOoEe-/.@٣１"), max_size=20
)


def message(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.messages)


def messages_from(validator, *args) -> list[str]:
    """The messages of the ValidationError raised, [] if none; any other exception
    fails the test."""
    try:
        validator(*args)
    except ValidationError as exc:
        return exc.messages
    return []


# --- totality: any string returns or raises ValidationError -------------------


@pytest.mark.parametrize(
    "validator",
    [
        validate_ukprn,
        validate_company_number,
        validate_ico_number,
        validate_personal_mailbox,
    ],
)
@property_test
@given(value=st.one_of(st.text(), typed, st.none()))
@example(value="x" * 1_000_000)
@example(value="")
def test_every_validator_either_accepts_or_raises_validation_error(validator, value):
    assert all(m.strip() for m in messages_from(validator, value))


@property_test
@given(email=st.one_of(st.text(), st.emails(), st.none()), website=st.text())
@example(email="a@b.c", website="http://[::1")
@example(email="a@" + "x." * 100_000 + "uk", website="x." * 100_000 + "uk")
def test_the_domain_check_either_accepts_or_raises_validation_error(email, website):
    messages = messages_from(validate_email_on_organisation_domain, email, website)
    assert all(m.strip() for m in messages)


@property_test
@given(value=st.one_of(st.text(), typed, st.none()))
def test_normalisers_always_return_a_string_without_whitespace(value):
    for normalise in (normalise_ukprn, normalise_company_number, normalise_ico_number):
        result = normalise(value)
        assert isinstance(result, str)
        assert not any(c.isspace() for c in result)


@property_test
@given(value=st.one_of(st.text(), typed))
def test_normalising_twice_changes_nothing(value):
    for normalise in (normalise_ukprn, normalise_company_number, normalise_ico_number):
        assert normalise(normalise(value)) == normalise(value)


@property_test
@given(value=st.text())
def test_website_domain_is_total(value):
    assert isinstance(website_domain(value), str)


# --- properties of the valid forms --------------------------------------------


@property_test
@given(number=st.integers(10_000_000, 99_999_999), spaces=st.sampled_from(["", " "]))
def test_it_accepts_every_ukprn_in_range(number, spaces):
    text = str(number)
    validate_ukprn(spaces + text[:4] + spaces + text[4:] + spaces)


@property_test
@given(number=st.integers(1, 9_999_999))
def test_it_pads_every_short_all_digit_company_number(number):
    assert normalise_company_number(str(number)) == f"{number:08d}"
    validate_company_number(str(number))


@property_test
@given(
    prefix=st.sampled_from(sorted(COMPANY_NUMBER_PREFIXES)),
    digits=st.from_regex(r"[0-9]{6}", fullmatch=True),
)
def test_it_accepts_every_prefix_with_six_digits_in_any_case(prefix, digits):
    validate_company_number(f" {prefix.lower()} {digits} ")


@property_test
@given(number=st.from_regex(r"Z[0-9]{7}|Z[A-Z][0-9]{6}|C[0-9]{7}", fullmatch=True))
def test_it_accepts_every_ico_number_of_the_known_forms(number):
    validate_ico_number(number.lower())


@property_test
@given(number=st.text(alphabet="0123456789ZCA ", max_size=10))
def test_every_ico_number_it_accepts_is_z_or_c_and_eight_characters(number):
    try:
        validate_ico_number(number)
    except ValidationError:
        return
    accepted = normalise_ico_number(number)
    assert len(accepted) == 8
    assert accepted[0] in "ZC"
    assert accepted[2:].isdigit()


# --- UKPRN --------------------------------------------------------------------


def test_it_strips_spaces_from_a_ukprn():
    assert normalise_ukprn(" 1001 2345 ") == "10012345"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "Enter a UKPRN"),
        ("   ", "Enter a UKPRN"),
        ("1001234X", "like 10012345: it must only include numbers 0 to 9"),
        ("١٠٠١٢٣٤٥", "it must only include numbers 0 to 9"),  # Arabic-Indic digits
        ("1001234", "like 10012345: it must be 8 digits"),
        ("100123456", "it must be 8 digits"),
        ("01234567", "Enter a UKPRN between 10000000 and 99999999"),
    ],
)
def test_it_refuses_a_bad_ukprn_saying_how_to_fix_it(value, expected):
    with pytest.raises(ValidationError) as excinfo:
        validate_ukprn(value)
    assert expected in message(excinfo)


@pytest.mark.parametrize("value", ["10000000", "99999999", "10012345"])
def test_it_accepts_the_ends_of_the_ukprn_range(value):
    validate_ukprn(value)


# --- company numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9876543", "09876543"),
        (" 0987 6543 ", "09876543"),
        ("sc612345", "SC612345"),
        ("SC 612 345", "SC612345"),
        ("r0012345", "R0012345"),
        ("oe001234", "OE001234"),
    ],
)
def test_it_normalises_company_numbers(value, expected):
    assert normalise_company_number(value) == expected
    validate_company_number(value)


def test_it_does_not_pad_a_prefixed_number():
    assert normalise_company_number("SC12345") == "SC12345"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "Enter a company registration number"),
        ("XX123456", "XX is not a Companies House register"),
        ("BR123456", "BR is not a Companies House register"),
        ("SC12345", "8 digits, or 2 letters and 6 digits, like 01234567 or SC123456"),
        ("123456789", "in the correct format"),
        ("R1123456", "in the correct format"),
        ("../../etc/passwd", "in the correct format"),
        ("\uff10\uff19\uff18\uff17\uff16\uff15\uff14\uff13", "correct format"),
    ],
)
def test_it_refuses_a_bad_company_number_saying_how_to_fix_it(value, expected):
    with pytest.raises(ValidationError) as excinfo:
        validate_company_number(value)
    assert expected in message(excinfo)


def test_every_documented_prefix_is_known():
    documented = (
        "SC NI OC SO NC LP SL NL FC SF NF GE GS GN SE ES EN AC SA NA ZC SZ NZ "
        "IP SP NP NO IC SI NV RC SR NR CE CS SG OE"
    )
    assert set(documented.split()) == COMPANY_NUMBER_PREFIXES


# --- ICO numbers --------------------------------------------------------------


@pytest.mark.parametrize("value", ["Z3121457", "za242346", " ZC 214743 ", "C1889388"])
def test_it_accepts_the_ico_number_forms_seen_on_the_register(value):
    validate_ico_number(value)
    assert normalise_ico_number(value) == value.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "Enter an ICO registration number"),
        ("Z123456", "like Z1234567 or ZA123456"),
        ("ZAB12345", "in the correct format"),
        ("A1234567", "in the correct format"),
        ("CA123456", "in the correct format"),
        ("Z1234567\n", None),  # whitespace is stripped: valid
    ],
)
def test_it_refuses_a_bad_ico_number_saying_how_to_fix_it(value, expected):
    if expected is None:
        validate_ico_number(value)
        return
    with pytest.raises(ValidationError) as excinfo:
        validate_ico_number(value)
    assert expected in message(excinfo)


# --- shared mailboxes ---------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "info@northfield-college.ac.uk",
        "INFO@northfield-college.ac.uk",
        "exams@northfield-college.ac.uk",
        "no-reply@northfield-college.ac.uk",
        "info+lrs@northfield-college.ac.uk",
        "exams.office@northfield-college.ac.uk",
        "mis_team@northfield-college.ac.uk",
        "lrs@northfield-college.ac.uk",
    ],
)
def test_it_refuses_a_shared_mailbox_saying_why(email):
    with pytest.raises(ValidationError) as excinfo:
        validate_personal_mailbox(email)
    assert message(excinfo) == (
        "Enter the email address of a named person, not a shared mailbox like "
        "info@: the LRS super user account must be used only by that person"
    )


@pytest.mark.parametrize(
    "email",
    [
        "grace.okafor@northfield-college.ac.uk",
        "g.okafor@northfield-college.ac.uk",
        "data.smith@northfield-college.ac.uk",  # a person named Data Smith is fine
        "priya@info.ac.uk",
    ],
)
def test_it_accepts_a_named_persons_mailbox(email):
    validate_personal_mailbox(email)


@pytest.mark.parametrize("email", ["", "info", "@college.ac.uk", "a b@college.ac.uk"])
def test_it_refuses_an_email_that_is_not_an_address(email):
    with pytest.raises(ValidationError) as excinfo:
        validate_personal_mailbox(email)
    assert "like name@example.com" in message(excinfo)


def test_the_generic_mailbox_list_covers_the_brief():
    brief = (
        "info admin administrator exams examinations office enquiries enquiry "
        "contact hello reception mail support help accounts finance hr sales team "
        "noreply no-reply postmaster webmaster lrs mis data registry admissions"
    )
    assert set(brief.split()) <= GENERIC_MAILBOXES


# --- organisation domain ------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "website"),
    [
        ("grace@northfield-college.ac.uk", "https://www.northfield-college.ac.uk/"),
        ("grace@northfield-college.ac.uk", "northfield-college.ac.uk"),
        ("grace@northfield-college.ac.uk", "WWW.Northfield-College.ac.uk"),
        ("grace@staff.northfield-college.ac.uk", "https://northfield-college.ac.uk"),
        ("Grace@Northfield-College.AC.UK", "https://northfield-college.ac.uk:443/x"),
    ],
)
def test_it_accepts_an_email_on_the_organisations_domain(email, website):
    validate_email_on_organisation_domain(email, website)


@pytest.mark.parametrize(
    "email",
    [
        "grace@northfield-college.com",
        "grace@evil-northfield-college.ac.uk",
        "grace@northfield-college.ac.uk.evil.com",
    ],
)
def test_it_refuses_an_email_on_another_domain_naming_the_right_one(email):
    with pytest.raises(ValidationError) as excinfo:
        validate_email_on_organisation_domain(email, "https://northfield-college.ac.uk")
    assert message(excinfo) == (
        "Enter an email address on your organisation's own domain "
        "(northfield-college.ac.uk)"
    )


@pytest.mark.parametrize(
    ("email", "website"),
    [
        ("grace.okafor@gmail.com", "https://northfield-college.ac.uk"),
        ("grace.okafor@hotmail.co.uk", "https://northfield-college.ac.uk"),
        # A provider whose "website" is on a free mail domain still cannot use it.
        ("grace.okafor@gmail.com", "https://gmail.com"),
        ("grace.okafor@mail.yahoo.co.uk", "yahoo.co.uk"),
    ],
)
def test_it_never_accepts_a_free_email_service(email, website):
    with pytest.raises(ValidationError) as excinfo:
        validate_email_on_organisation_domain(email, website)
    assert "not a personal email service like gmail.com" in message(excinfo)


@pytest.mark.parametrize(
    "website", ["", "   ", "https://", "ac.uk", "co.uk", "localhost"]
)
def test_it_asks_for_a_website_it_can_check_against(website):
    with pytest.raises(ValidationError) as excinfo:
        validate_email_on_organisation_domain("grace@college.ac.uk", website)
    assert "Enter your organisation's website address" in message(excinfo)


def test_the_free_domain_list_covers_the_brief():
    brief = (
        "gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com "
        "live.co.uk yahoo.com yahoo.co.uk icloud.com me.com aol.com protonmail.com "
        "proton.me gmx.com mail.com btinternet.com sky.com"
    )
    assert set(brief.split()) <= FREE_EMAIL_DOMAINS
