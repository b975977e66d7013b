"""What the web service accepts and answers. Input is checked by the same rules,
in the same words, as the portal's search forms (records.forms, records.uln):
only the JSON types are checked here, strictly (a ULN is a string, a gender a
number), and a body with a field no operation knows is refused."""

import re
from datetime import date
from typing import Any

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from records.forms import NAME_MAX, learner_name, learner_postcode, real_past_date
from records.models import Learner
from records.uln import uln_problem

GENDERS = [g.value for g in Learner.Gender]
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DATE_SHAPE = "Date of birth must be written as year-month-day, like 2007-05-14"
GENDER_WORDS = "Gender must be 0 (not known), 1 (male), 2 (female) or 9 (not specified)"
DEMOGRAPHICS = ("given_name", "family_name", "date_of_birth", "gender", "postcode")


def _refuse(error: forms.ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(error.messages[0], code=error.code)


class StrictCharField(serializers.CharField):
    """A JSON string, and only a string (DRF would take 9276308686 as "9276308686")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class ClosedSerializer(serializers.Serializer[Any]):
    """A request body: a JSON object holding these fields and no others."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unexpected = sorted(set(data) - set(self.fields))
            if unexpected:
                raise serializers.ValidationError(
                    {
                        key: [
                            serializers.ErrorDetail(
                                "This field is not part of the request",
                                code="unexpected_field",
                            )
                        ]
                        for key in unexpected
                    }
                )
        return super().to_internal_value(data)


ULN_WORDS = "A ULN is 10 digits, like 9276308686"
ULN_ERRORS = {
    "required": "Enter a ULN",
    "blank": "Enter a ULN",
    "null": "Enter a ULN",
    "invalid": ULN_WORDS,
    "max_length": ULN_WORDS,
}


def _name_errors(label: str) -> dict[str, str]:
    missing = f"Enter the learner's {label.lower()}"
    too_long = f"{label} must be {NAME_MAX} characters or less"
    return {
        "required": missing,
        "blank": missing,
        "null": missing,
        "invalid": f"Enter the learner's {label.lower()} as text",
        "max_length": too_long,
    }


class StrictGenderField(serializers.ChoiceField):
    """0, 1, 2 or 9 as a JSON number (not "1", 1.0 or true)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=GENDERS,
            error_messages={
                "required": "Select the learner's gender",
                "null": "Select the learner's gender",
                "invalid_choice": GENDER_WORDS,
            },
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int) or data not in GENDERS:
            self.fail("invalid_choice", input="")
        return int(data)


class UlnField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=20,
            trim_whitespace=False,
            help_text="The learner's 10-digit ULN, for example 9276308686.",
            error_messages=ULN_ERRORS,
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        uln = super().to_internal_value(data)
        problem = uln_problem(uln)
        if problem:
            raise serializers.ValidationError(problem, code="invalid_uln")
        return uln.strip()


class LearnerNameField(StrictCharField):
    def __init__(self, label: str, **kwargs: Any) -> None:
        self.label_words = label
        # Longer than NAME_MAX so that spaces collapsed later do not count; the
        # message is the page's either way.
        super().__init__(
            max_length=NAME_MAX * 4,
            help_text=f"{label}, up to {NAME_MAX} characters: letters, spaces, "
            "hyphens, apostrophes and full stops.",
            error_messages=_name_errors(label),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        try:
            return learner_name(self.label_words, super().to_internal_value(data))
        except forms.ValidationError as error:
            raise _refuse(error) from None


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "description": "YYYY-MM-DD, a real date in the past, 1900 or later.",
    }
)
class DateOfBirthField(StrictCharField):
    # No max_length: its validator would run on the date this returns; the
    # pattern allows 10 characters only.
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            error_messages={
                "required": "Enter the learner's date of birth",
                "blank": "Enter the learner's date of birth",
                "null": "Enter the learner's date of birth",
                "invalid": DATE_SHAPE,
            },
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> date:  # type: ignore[override]
        found = _ISO_DATE.fullmatch(super().to_internal_value(data))
        if found is None:
            self.fail("invalid")
            raise AssertionError  # unreachable
        year, month, day = found.groups()
        try:
            return real_past_date("Date of birth", (day, month, year))
        except forms.ValidationError as error:
            raise _refuse(error) from None


class PostcodeField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=16,
            help_text="The learner's last known postcode, for example LS2 9JT.",
            error_messages={
                "required": "Enter the learner's postcode",
                "blank": "Enter the learner's postcode",
                "null": "Enter the learner's postcode",
                "invalid": "Enter a real postcode",
                "max_length": "Enter a real postcode",
            },
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        try:
            return learner_postcode(super().to_internal_value(data))
        except forms.ValidationError as error:
            raise _refuse(error) from None


class UlnSearchSerializer(ClosedSerializer):
    """A search by ULN (the LRS's learnerByULN)."""

    uln = UlnField()


class DemographicsSearchSerializer(ClosedSerializer):
    """A search by the five demographics (the LRS's learnerByDemographics)."""

    given_name = LearnerNameField("Given name")
    family_name = LearnerNameField("Family name")
    date_of_birth = DateOfBirthField()
    gender = StrictGenderField(
        help_text="0 not known, 1 male, 2 female, 9 not specified."
    )
    postcode = PostcodeField()


def learner_search(data: Any) -> dict[str, Any]:
    """The search a body asks for: ``uln``, or the five demographics, never both."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            "Send a JSON object: a ULN, or the five demographics", code="invalid"
        )
    named = [key for key in DEMOGRAPHICS if key in data]
    if "uln" in data and named:
        raise serializers.ValidationError(
            "Search by ULN or by the five demographics, not both", code="both"
        )
    if "uln" not in data and not named:
        raise serializers.ValidationError(
            "Send a ULN, or the five demographics: given_name, family_name, "
            "date_of_birth, gender and postcode",
            code="neither",
        )
    kind = UlnSearchSerializer if "uln" in data else DemographicsSearchSerializer
    serializer = kind(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class LearningEventsLookupSerializer(ClosedSerializer):
    """A ULN with the learner's names, which must match it (the LRS asks for both)."""

    uln = UlnField()
    given_name = LearnerNameField("Given name")
    family_name = LearnerNameField("Family name")


# --- answers -------------------------------------------------------------------


class LearnerSerializer(serializers.Serializer[Learner]):
    uln = serializers.CharField(help_text="The learner's ULN.")
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    gender = serializers.ChoiceField(choices=GENDERS)
    postcode = serializers.CharField(help_text="The learner's last known postcode.")


SEARCH_OUTCOMES = [
    ("exact_match", "WSRC0004"),
    ("possible_matches", "WSRC0003"),
    ("too_many_matches", "WSRC0002"),
    ("no_match", "WSRC0001"),
    ("linked_learner_match", "WSRC0022"),
]
SEARCH_CODE = dict(SEARCH_OUTCOMES)
SEARCH_CODES = [code for _, code in SEARCH_OUTCOMES]


class LearnerSearchResultSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(
        choices=[outcome for outcome, _ in SEARCH_OUTCOMES],
        help_text="linked_learner_match: the ULN searched for was merged into "
        "another; the learner answered is the master record.",
    )
    code = serializers.ChoiceField(
        choices=SEARCH_CODES,
        help_text="The LRS's response code: WSRC0004 exact match, WSRC0003 "
        "possible matches (up to 10), WSRC0002 too many matches, WSRC0001 no "
        "match, WSRC0022 linked learner match.",
    )
    learners = LearnerSerializer(many=True)


class LearningEventSerializer(serializers.Serializer[Any]):
    qualification_title = serializers.CharField()
    qualification_type = serializers.CharField()
    level = serializers.CharField()
    subject = serializers.CharField()
    grade = serializers.CharField(allow_blank=True)
    award_date = serializers.DateField()
    awarding_organisation = serializers.CharField()
    awarding_provider_ukprn = serializers.CharField(allow_blank=True)


LEARNING_EVENT_CODES = ["WSRC0004", "WSEC0206", "WSEC0208"]


class LearningEventsResultSerializer(serializers.Serializer[Any]):
    uln = serializers.CharField()
    code = serializers.ChoiceField(
        choices=LEARNING_EVENT_CODES,
        help_text="WSRC0004: the learner, verified, with their learning events. "
        "WSEC0206: the learner has not agreed to share them, so none are given. "
        "WSEC0208: no learner has this ULN with these names.",
    )
    learning_events = LearningEventSerializer(many=True)


class OrganisationSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="The organisation's legal name.")
    ukprn = serializers.CharField()


class MemberSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(
        help_text="The member every call is logged as: the client's responsible member."
    )


class AllowanceSerializer(serializers.Serializer[Any]):
    user_remaining = serializers.IntegerField(
        min_value=0, help_text="Searches the member may still make in this hour."
    )
    organisation_remaining = serializers.IntegerField(
        min_value=0,
        help_text="Searches the organisation may still make today (UTC).",
    )
    searches = serializers.IntegerField(
        min_value=0, help_text="The smaller of the two: what the next calls may use."
    )


class MeSerializer(serializers.Serializer[Any]):
    organisation = OrganisationSerializer()
    member = MemberSerializer()
    allowance = AllowanceSerializer()
