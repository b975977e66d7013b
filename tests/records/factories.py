from datetime import date

import factory
from factory.django import DjangoModelFactory

from records.models import Achievement, Learner
from records.uln import uln_check_digit


def nth_uln(n: int) -> str:
    """A valid ULN for each n, distinct for distinct n: the stem 2n or 2n + 1 (past
    100000000), as adding 1 to an even stem moves its remainder by 2, so at most
    one of the two cannot carry a check digit."""
    stem = str(100_000_000 + 2 * n)
    check = uln_check_digit(stem)
    if check is None:
        stem = str(int(stem) + 1)
        check = uln_check_digit(stem)
    return f"{stem}{check}"


class LearnerFactory(DjangoModelFactory[Learner]):
    class Meta:
        model = Learner

    uln = factory.Sequence(nth_uln)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = date(2007, 5, 14)
    gender = Learner.Gender.FEMALE
    postcode = "LS2 9JT"


class AchievementFactory(DjangoModelFactory[Achievement]):
    class Meta:
        model = Achievement

    learner = factory.SubFactory(LearnerFactory)
    awarding_organisation = "AQA"
    qualification_title = factory.Sequence(lambda n: f"GCSE (9-1) in Subject {n}")
    qualification_type = "GCSE"
    level = "2"
    subject = "Mathematics"
    grade = "7"
    award_date = date(2023, 8, 24)
