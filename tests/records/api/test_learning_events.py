from datetime import date
from http import HTTPStatus

import pytest

from records.models import Learner, LearnerView
from tests.records.api.conftest import make_learner, post
from tests.records.factories import AchievementFactory

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome
ASK = {"uln": "9276308686", "given_name": "Amelia", "family_name": "Hughes"}


def events(api, body):
    return post(api, "learning-events", body)


def test_a_learner_who_may_share_has_their_learning_events(api, member):
    learner = make_learner()
    AchievementFactory.create(
        learner=learner,
        qualification_title="GCSE (9-1) in Mathematics",
        award_date=date(2023, 8, 24),
    )

    response = events(api, {**ASK, "given_name": "AMELIA"})

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["uln"], body["code"]) == ("9276308686", "WSRC0004")
    assert body["learning_events"] == [
        {
            "qualification_title": "GCSE (9-1) in Mathematics",
            "qualification_type": "GCSE",
            "level": "2",
            "subject": "Mathematics",
            "grade": "7",
            "award_date": "2023-08-24",
            "awarding_organisation": "AQA",
            "awarding_provider_ukprn": "",
        }
    ]
    row = LearnerView.objects.get()
    assert (row.action, row.outcome, row.channel) == ("view_record", "shown", "api")
    assert row.user == member


@pytest.mark.parametrize(
    "ability",
    [Learner.AbilityToShare.NOTICE_NOT_SEEN, Learner.AbilityToShare.NOT_PROVIDED],
)
def test_a_learner_who_has_not_agreed_to_share_is_wsec0206_with_no_events(api, ability):
    learner = make_learner(ability_to_share=ability)
    AchievementFactory.create(learner=learner)

    body = events(api, ASK).json()

    assert body == {"uln": "9276308686", "code": "WSEC0206", "learning_events": []}
    # The same rule and the same log row as the record page (learner_view).
    assert LearnerView.objects.get().outcome == OUTCOME.NOT_SHARED


@pytest.mark.parametrize(
    "ask",
    [
        {**ASK, "family_name": "Hughs"},
        {**ASK, "given_name": "Amy"},
        {**ASK, "uln": "1964986809"},  # nobody's
    ],
)
def test_names_that_do_not_match_the_uln_are_wsec0208_logged_as_no_match(api, ask):
    AchievementFactory.create(learner=make_learner())

    body = events(api, ask).json()

    assert body == {"uln": ask["uln"], "code": "WSEC0208", "learning_events": []}
    row = LearnerView.objects.get()
    assert (row.action, row.outcome) == ("view_record", "no_match")
    assert row.learner_uln == ask["uln"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {**ASK, "uln": "1234567890"},
            "uln",
            "This ULN is not valid: check for a mistyped digit",
        ),
        (
            {"uln": "9276308686", "given_name": "Amelia"},
            "family_name",
            "Enter the learner's family name",
        ),
        (
            {**ASK, "date_of_birth": "2007-05-14"},
            "date_of_birth",
            "This field is not part of the request",
        ),
    ],
)
def test_a_bad_request_is_400_and_logs_nothing(api, body, field, words):
    response = events(api, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert [(e["field"], e["detail"]) for e in response.json()["errors"]] == [
        (field, words)
    ]
    assert not LearnerView.objects.exists()


@pytest.mark.parametrize("names", [ASK, {**ASK, "family_name": "Someone"}])
def test_learning_events_count_against_the_caps_as_searches_do(api, settings, names):
    # They find a learner by ULN and names with no search before them: uncounted,
    # an MIS could check thousands of identities a day past its caps.
    settings.LOOKUP_USER_HOURLY_CAP = 2
    make_learner()
    answers = [events(api, names).status_code for _ in range(3)]

    assert answers == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    outcomes = list(
        LearnerView.objects.order_by("pk").values_list("outcome", flat=True)
    )
    assert len(outcomes) == 3
    assert outcomes[2] == OUTCOME.REFUSED
    # A search after them is refused too: one allowance for both.
    searched = post(api, "learner-searches", {"uln": ASK["uln"]})
    assert searched.status_code == HTTPStatus.TOO_MANY_REQUESTS
