"""The purpose rules against what an organisation declared in its application
(the ages it serves, the distance its learners come from), with the history
comparison kept for organisations that declared nothing (decision 25)."""

from decimal import Decimal

import pytest

from records.models import AuditRule
from records.purpose_profile import Declared, Profile, outside_ages, outside_distance
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.test_purpose import (
    FAR,
    NEAR,
    Run,
    alerts,
    day_ago,
    found,
    learners,
)

pytestmark = pytest.mark.django_db
Code = AuditRule.Code


def _provider(**declared):
    """A Leeds provider (LS2 9JT) declaring 20,000 a year, so that no volume
    rule is near, and what else it declared; a member who searches."""
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create(),
        estimated_learners_per_year=20_000,
        **declared,
    )
    member_of(organisation, super_user=True)
    return organisation, member_of(organisation)


YOUNG = {"learner_ages": ["14_16", "17_19"], "learner_reach": "local"}


def test_a_declared_young_provider_finding_adults_is_alerted_naming_its_declaration():
    college, searcher = _provider(**YOUNG, learner_reach_km=30)
    on = day_ago(1)
    # Half adults: under the 0.8 share of adults the history rule needs, but
    # half of what it finds is outside what it declared.
    found(searcher, on, learners(60, age=16, areas=NEAR, on=on))
    found(searcher, on, learners(60, age=30, areas=NEAR, on=on))
    Run().day(on)
    age = alerts(college, Code.AGE_PROFILE).get()
    assert age.value == Decimal("0.50")
    assert age.threshold == Decimal("0.30")
    assert "Declared in its application: learners aged 14 to 16, 17 to 19" in (
        age.details
    )
    assert "50% of the 120 learners found were outside those ages" in age.details
    assert "50% of the 120 learners found in 5 days were aged 20 or over" in (
        age.details
    )
    assert "Too little history" not in age.details
    # The same finds from a provider that declared nothing are not an alert.
    before, other = _provider()
    found(other, on, learners(60, age=16, areas=NEAR, on=on))
    found(other, on, learners(60, age=30, areas=NEAR, on=on))
    Run().day(on)
    assert not alerts(before, Code.AGE_PROFILE).exists()


def test_a_provider_whose_finds_match_its_declaration_is_not_alerted():
    """An adult provider with no history: declared nothing, its adults alert
    (the threshold alone); declared adults, they do not."""
    adults = {"learner_ages": ["20_24", "25_over"], "learner_reach": "local"}
    declared, searcher = _provider(**adults, learner_reach_km=40)
    undeclared, other = _provider()
    on = day_ago(1)
    found(searcher, on, learners(120, age=45, areas=NEAR, on=on))
    found(other, on, learners(120, age=45, areas=NEAR, on=on))
    Run().day(on)
    assert not alerts(declared, Code.AGE_PROFILE).exists()
    assert not alerts(declared, Code.GEOGRAPHIC_SPREAD).exists()
    assert alerts(undeclared, Code.AGE_PROFILE).exists()


def test_a_few_outside_the_declared_ages_are_not_an_alert():
    college, searcher = _provider(**YOUNG, learner_reach_km=30)
    on = day_ago(1)
    found(searcher, on, learners(90, age=17, areas=NEAR, on=on))
    found(searcher, on, learners(30, age=21, areas=NEAR, on=on))  # 25%: under 30
    Run().day(on)
    assert not alerts(college, Code.AGE_PROFILE).exists()


def test_below_the_minimum_volume_a_declaration_is_not_judged():
    college, searcher = _provider(**YOUNG, learner_reach_km=30)
    on = day_ago(1)
    found(searcher, on, learners(59, age=40, areas=FAR, on=on))
    Run().day(on)
    assert not alerts(college).exists()


def test_a_declaration_of_every_age_says_nothing_so_history_judges():
    every = ["under_14", "14_16", "17_19", "20_24", "25_over"]
    firm, searcher = _provider(learner_ages=every, learner_reach="england")
    on = day_ago(1)
    found(searcher, on, learners(120, age=45, areas=FAR, on=on))
    Run().day(on)
    raised = {alert.rule: alert for alert in alerts(firm)}
    assert raised[Code.AGE_PROFILE].threshold == Decimal("0.80")
    assert "Too little history" in raised[Code.AGE_PROFILE].details
    # Across England declares no distance: the history comparison judges it.
    assert "Declared" not in raised[Code.GEOGRAPHIC_SPREAD].details


def test_learners_from_beyond_the_declared_distance_are_alerted_naming_it():
    college, searcher = _provider(**YOUNG, learner_reach_km=20)
    on = day_ago(1)
    found(searcher, on, learners(60, age=16, areas=NEAR, on=on))
    found(searcher, on, learners(60, age=16, areas=FAR, on=on))
    Run().day(on)
    spread = alerts(college, Code.GEOGRAPHIC_SPREAD).get()
    assert spread.value == Decimal("0.50")
    assert spread.threshold == Decimal("0.30")
    assert (
        "Declared in its application: most learners live within 20 km "
        "(judged at 50 km); 50% of the 120 found with a known area lived further "
        "than 50 km."
    ) in spread.details
    assert not alerts(college, Code.AGE_PROFILE).exists()


def test_a_wide_declared_distance_accepts_learners_within_it():
    """Declared 110 km: learners from York, Sheffield, Manchester, Hull,
    Liverpool (35-101 km from Leeds) are within it; with no declaration the
    history rule (within 50 km) alerts on them."""
    wide, searcher = _provider(
        learner_ages=["17_19"], learner_reach="local", learner_reach_km=110
    )
    undeclared, other = _provider()
    middle = ("S", "M", "HU", "L", "DN")
    on = day_ago(1)
    found(searcher, on, learners(120, age=18, areas=middle, on=on))
    found(other, on, learners(120, age=18, areas=middle, on=on))
    Run().day(on)
    assert not alerts(wide, Code.GEOGRAPHIC_SPREAD).exists()
    assert alerts(undeclared, Code.GEOGRAPHIC_SPREAD).exists()


def test_outside_ages_and_distance_count_from_the_bands_and_areas():
    declared = Declared(("17_19",), frozenset({2}), 70)
    profile = Profile(found=10, age_bands=[0, 1, 6, 3, 0, 0, 0])
    assert outside_ages(profile, declared) == (4, 10)
    profile.areas = {"LS": 5, "M": 2, "E": 3, "?": 4}
    assert outside_distance(profile, declared, "LS") == (3, 10, 70)
    assert outside_distance(profile, declared, None) == (0, 0, 70)
    narrow = Declared(("17_19",), frozenset({2}), 5)
    assert outside_distance(profile, narrow, "LS")[2] == 50  # widened
