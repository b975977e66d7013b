import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from records.loading_checks import uln_valid
from records.uln import TEMPORARY_ULN, uln_check_digit, uln_problem, validate_uln

# domain.md 1.2: the HESA worked example and valid ULNs from LRS fixtures.
VALID = ("9276308686", "1964986809", "8383558804", "1026922983", "6936002314")


@pytest.mark.parametrize("uln", VALID)
def test_a_uln_with_the_right_check_digit_is_valid(uln):
    assert uln_problem(uln) is None
    validate_uln(uln)


def test_surrounding_spaces_are_ignored():
    assert uln_problem(" 9276308686 ") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "Enter a ULN"),
        ("", "Enter a ULN"),
        ("   ", "Enter a ULN"),
        ("927630868", "A ULN is 10 digits"),
        ("92763086861", "A ULN is 10 digits"),
        ("92763O8686", "A ULN is 10 digits"),
        ("٩٢٧٦٣٠٨٦٨٦", "A ULN is 10 digits"),  # Arabic-Indic digits are not ASCII
        (TEMPORARY_ULN, "temporary ULN"),
        ("0000000042", "cannot start with 0"),  # passes the checksum (domain.md)
        ("9276308687", "check for a mistyped digit"),
        ("1234567890", "check for a mistyped digit"),
    ],
)
def test_it_says_why_a_value_is_not_a_uln(value, problem):
    assert problem in (uln_problem(value) or "")


def test_validate_uln_raises_with_the_reason():
    with pytest.raises(ValidationError, match="mistyped digit") as excinfo:
        validate_uln("9276308687")

    assert excinfo.value.code == "invalid_uln"


def test_the_check_digit_completes_a_stem():
    assert uln_check_digit("927630868") == 6
    assert uln_check_digit("123456789") == 9


def test_a_stem_whose_remainder_is_zero_cannot_carry_a_check_digit():
    # About 1 stem in 11 has a weighted sum divisible by 11 (domain.md 1.1).
    stem = next(
        str(s)
        for s in range(100_000_000, 100_000_100)
        if sum(int(d) * w for d, w in zip(str(s), range(10, 1, -1), strict=True)) % 11
        == 0
    )

    assert uln_check_digit(stem) is None


@given(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True))
def test_every_stem_with_a_check_digit_makes_a_valid_uln(stem):
    check = uln_check_digit(stem)
    if check is not None:
        assert uln_problem(f"{stem}{check}") is None


# The import's quick check must agree with uln_problem exactly.


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_the_imports_quick_check_agrees_on_ten_digit_strings(value):
    assert uln_valid(value) is (uln_problem(value) is None)


@given(st.text(max_size=12))
def test_the_imports_quick_check_agrees_on_any_text(value):
    assert uln_valid(value.strip()) is (uln_problem(value) is None)


@pytest.mark.parametrize("uln", [*VALID, TEMPORARY_ULN, "0000000042", "9276308687"])
def test_the_imports_quick_check_agrees_on_the_examples(uln):
    assert uln_valid(uln) is (uln_problem(uln) is None)
