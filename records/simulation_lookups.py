"""A day of the misuse simulation's lookups (issue 13): an ordinary
provider's searches, drawn from the pool as its kind looks learners up and
stamped as the lookups stamp them, and each misuser's day. The rows are
returned, not written: records.simulation writes each day's in bulk and audits
it that night.
"""

import random
from datetime import UTC, date, datetime, time, timedelta

from lrs_portal.models import User
from records.models import LearnerView
from records.purpose_profile import learner_stamp
from records.simulation_population import (
    ADULTS_ANYWHERE,
    MISUSERS,
    ORDINARY,
    STAFF_COLLEGE_DAILY,
    THIRD_PARTY_DAILY,
    Kind,
    Pool,
    Provider,
)
from records.uln import uln_check_digit

A = LearnerView.Action
OUT = LearnerView.Outcome


def _lookups(
    rng: random.Random,
    pool: Pool,
    provider: Provider,
    day: date,
    count: int,
    ages: tuple[float, ...],
    near: float,
    details: float,
    *,
    users: list[User] | None = None,
) -> list[LearnerView]:
    """count searches in working hours, 95 in 100 finding the learner, shared
    among the users (the provider's, if not given)."""
    users = users or provider.users
    rows = []
    for i in range(count):
        by_details = rng.random() < details
        found = rng.random() < 0.95
        uln = pool.draw(provider.home, ages, near) if found else ""
        if not found and not by_details:
            uln = f"{rng.randint(100_000_000, 999_999_999)}0"
        moment = datetime.combine(day, time(8 + (i * 7) % 10), tzinfo=UTC)
        band, area = learner_stamp(pool.learners[uln], day) if found else (None, "")
        rows.append(
            LearnerView(
                user=users[i % len(users)],
                organisation=provider.organisation,
                action=A.SEARCH_DEMOGRAPHICS if by_details else A.SEARCH_ULN,
                outcome=OUT.EXACT_MATCH if found else OUT.NO_MATCH,
                viewed_at=moment + timedelta(seconds=rng.randint(0, 3000)),
                learner_uln=uln,
                channel=rng.choice(LearnerView.Channel.values),
                learner_age_band=band,
                learner_area=area,
            )
        )
    return rows


def _misuse(
    rng: random.Random,
    pool: Pool,
    misuser: Provider,
    kinds: dict[str, Kind],
    day: date,
    month_day: int,
    enumerated: list[int],
) -> list[LearnerView]:
    """A misuser's day: before it starts, nothing (the reseller: its own)."""
    started = month_day >= misuser.starts
    if misuser.kind == MISUSERS[0]:
        if not started:
            return []
        return _lookups(rng, pool, misuser, day, 40, ADULTS_ANYWHERE, 0, 1.0)
    if misuser.kind == MISUSERS[1]:
        college = kinds[ORDINARY[0].name]
        rows = _lookups(rng, pool, misuser, day, 20, college.ages, college.near, 0.4)
        if started:  # as many again, for its client
            rows += _lookups(rng, pool, misuser, day, 20, ADULTS_ANYWHERE, 0, 1.0)
        return rows
    if misuser.kind == MISUSERS[3]:
        college = kinds[ORDINARY[0].name]
        rows = _lookups(
            rng, pool, misuser, day, STAFF_COLLEGE_DAILY, college.ages, college.near,
            college.details,
        )  # fmt: skip
        if started:  # one member, for a client of their own
            rows += _lookups(
                rng, pool, misuser, day, THIRD_PARTY_DAILY, ADULTS_ANYWHERE, 0, 1.0,
                users=misuser.users[:1],
            )  # fmt: skip
        return rows
    if not started:
        return []
    rows = []
    for i in range(60):  # the next 60 ULNs of the register, one by one
        stem = enumerated[0]
        while uln_check_digit(str(stem)) is None:
            stem += 1
        enumerated[0] = stem + 1
        rows.append(
            LearnerView(
                user=misuser.users[0],
                organisation=misuser.organisation,
                action=A.SEARCH_ULN,
                outcome=OUT.NO_MATCH,
                viewed_at=datetime.combine(day, time(10), tzinfo=UTC)
                + timedelta(seconds=i * 20),
                learner_uln=f"{stem}{uln_check_digit(str(stem))}",
                channel=LearnerView.Channel.API,
            )
        )
    return rows
