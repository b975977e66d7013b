"""The real-time caps hold when many members of one organisation search at the
same instant: real PostgreSQL connections, one a thread, released together by a
barrier (issue 15, decision 26)."""

import threading
from collections import Counter

import pytest
from django.db import connections

from lrs_portal.models import User
from records.models import Learner, LearnerView
from records.services import LookupRefused, learner_search_by_uln
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20
ROUNDS = 3
RUNS = 3
ULN = "9276308686"


@pytest.fixture
def learner(log_truncate_allowed) -> Learner:
    return Learner.objects.create(
        uln=ULN,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth="2007-05-14",
        gender=2,
        postcode="LS2 9JT",
    )


def search_together(user_ids: list[int], rounds: int) -> Counter[int]:
    """Each user id is one thread; every round, all threads search at the same
    instant. Returns the searches allowed per user."""
    barrier = threading.Barrier(len(user_ids))
    allowed: Counter[int] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(user_id: int) -> None:
        try:
            user = User.objects.get(pk=user_id)  # this thread's own connection
            for _ in range(rounds):
                barrier.wait(timeout=120)
                try:
                    learner_search_by_uln(user=user, uln=ULN, request_id="race")
                except LookupRefused:
                    continue
                with lock:
                    allowed[user_id] += 1
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return allowed


def logged(organisation_id: int) -> Counter[int]:
    """Searches the log says were let through, per user."""
    rows = (
        LearnerView.objects.filter(organisation_id=organisation_id)
        .exclude(outcome=LearnerView.Outcome.REFUSED)
        .values_list("user_id", flat=True)
    )
    return Counter(rows)


def test_twenty_members_at_once_never_pass_the_organisations_daily_cap(
    learner, settings
):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 25
    settings.LOOKUP_ORG_DAILY_MULTIPLIER = 1
    settings.LOOKUP_USER_HOURLY_CAP = 60
    version = AgreementVersionFactory.create()
    for run in range(RUNS):
        organisation = OrganisationFactory.create(
            last_signed_version=version, estimated_learners_per_year=10
        )
        members = [member_of(organisation).pk for _ in range(THREADS)]

        allowed = search_together(members, ROUNDS)  # 60 searches, a cap of 25

        assert sum(allowed.values()) == 25, f"run {run}: {allowed}"
        assert sum(logged(organisation.pk).values()) == 25
        refused = LearnerView.objects.filter(
            organisation=organisation, outcome=LearnerView.Outcome.REFUSED
        )
        assert refused.count() == THREADS * ROUNDS - 25


def test_five_searches_at_once_by_one_member_never_pass_their_own_cap(
    learner, settings
):
    settings.LOOKUP_USER_HOURLY_CAP = 3
    settings.LOOKUP_ORG_DAILY_MINIMUM = 1000
    version = AgreementVersionFactory.create()
    for run in range(RUNS):
        organisation = OrganisationFactory.create(last_signed_version=version)
        members = [member_of(organisation).pk for _ in range(THREADS // 5)]

        # Four members, five threads each, all twenty released at once, twice.
        allowed = search_together(members * 5, rounds=2)

        assert allowed == dict.fromkeys(members, 3), f"run {run}: {allowed}"
        assert logged(organisation.pk) == allowed
