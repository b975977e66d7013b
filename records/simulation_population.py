"""The misuse simulation's population (issue 13; records.simulation runs it):
the five kinds of ordinary provider, each with its own volume, ages, spread,
share of searches by details and enrolment peak; the four misusers; a provider
made as an organisation with its members (Provider); and the pool of learners,
by postcode area and age group, that every provider's lookups draw from.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password

from lrs_portal.models import User
from records.models import Learner
from records.postcodes import area_centres, distance_km
from records.uln import uln_check_digit
from registration.models import Membership, Organisation

AGE_GROUPS = ((14, 15), (16, 18), (19, 19), (20, 24), (25, 39), (40, 64), (65, 80))


@dataclass(frozen=True)
class Kind:
    """How one kind of provider looks learners up."""

    name: str
    daily: int  # searches a working day, on average
    ages: tuple[float, ...]  # the share of its learners in each AGE_GROUPS group
    near: float  # the share from within 50 km of it; the rest from anywhere
    details: float  # the share of searches by details
    peak: float = 1.0  # volume in the enrolment peak, as a multiple
    peak_details: float = 0.0  # more by details in the peak (new students)


ORDINARY = (
    Kind(
        "further education college",
        20,
        (0.02, 0.75, 0.08, 0.05, 0.06, 0.04, 0),
        0.93,
        0.4,
        3,
        0.15,
    ),
    Kind("school sixth form", 8, (0.05, 0.93, 0.02, 0, 0, 0, 0), 0.97, 0.15, 2, 0.1),
    Kind(
        "adult community learning", 12, (0, 0, 0.03, 0.12, 0.35, 0.38, 0.12), 0.9, 0.5
    ),
    Kind(
        "national apprenticeship provider",
        15,
        (0, 0.45, 0.15, 0.25, 0.13, 0.02, 0),
        0.3,
        0.4,
        1.5,
    ),
    Kind(
        "university admissions",
        25,
        (0, 0.05, 0.75, 0.1, 0.08, 0.02, 0),
        0.15,
        0.3,
        2.5,
        0.1,
    ),
)
ADULTS_ANYWHERE = (0, 0, 0.02, 0.18, 0.4, 0.33, 0.07)
ADULTS_NEARBY = (0, 0, 0.05, 0.2, 0.4, 0.3, 0.05)  # a college's adult courses
MISUSERS = (
    "screening firm",
    "provider turned reseller",
    "ULN enumerator",
    "staff member turned reseller",
)
# The staff member's college: three members sharing a college's ordinary
# lookups, 60 a day; from the start, one of them adds THIRD_PARTY_DAILY a day
# for a third party (adults from anywhere, by details): too few to move the
# whole college's shares past its own rules, all of that member's own.
STAFF_COLLEGE_DAILY = 60
THIRD_PARTY_DAILY = 25
PEAK_DAYS = 5


@dataclass
class Provider:
    kind: str
    organisation: Organisation
    users: list[User]
    home: str
    starts: int = 0  # the misuse's first day (of the month), for a misuser


class Pool:
    """Learners by area and age group, drawn from at random (made in bulk)."""

    def __init__(self, rng: random.Random, on: date, per_cell: int) -> None:
        self.rng = rng
        self.areas = sorted(area_centres())
        self.cells: dict[tuple[str, int], list[str]] = {}
        rows = []
        stem = 300_000_000
        for area in self.areas:
            for group, (low, high) in enumerate(AGE_GROUPS):
                ulns = []
                for _ in range(per_cell):
                    while uln_check_digit(str(stem)) is None:
                        stem += 1
                    uln = f"{stem}{uln_check_digit(str(stem))}"
                    stem += 1
                    age = rng.randint(low, high)
                    born = on.replace(year=on.year - age) - timedelta(
                        days=rng.randint(40, 360)
                    )
                    rows.append(
                        Learner(
                            uln=uln,
                            given_name="Sam",
                            family_name="Taylor",
                            date_of_birth=born,
                            gender=Learner.Gender.NOT_KNOWN,
                            postcode=f"{area}1 1AA",
                        )
                    )
                    ulns.append(uln)
                self.cells[(area, group)] = ulns
        Learner.objects.bulk_create(rows, batch_size=2000)
        # Each learner, by ULN: a search's log row is stamped from the record
        # it found, as the lookups stamp it (records.purpose_profile.learner_stamp).
        self.learners = {row.uln: row for row in rows}
        self.nearby: dict[str, list[str]] = {
            home: [area for area in self.areas if (distance_km(home, area) or 999) < 50]
            for home in self.areas
        }

    def draw(self, home: str, ages: tuple[float, ...], near: float) -> str:
        group = self.rng.choices(range(len(AGE_GROUPS)), weights=ages)[0]
        if self.rng.random() < near:
            area = self.rng.choice(self.nearby[home] or [home])
        else:
            area = self.rng.choice(self.areas)
        return self.rng.choice(self.cells[(area, group)])


def _provider(n: int, kind: str, home: str, daily: float, users: int) -> Provider:
    organisation = Organisation.objects.create(
        ukprn=f"{20_000_000 + n}",
        legal_name=f"SIMULATED {kind.upper()} {n} LIMITED",
        companies_house_number=f"S{n:07d}",
        ico_number=f"Z{n:07d}",
        registered_address=f"{n} Simulation Road\n{home}1 2AB",
        website=f"https://provider{n}.example.com",
        # Twice its usual volume a year: the peak stays within the volume rule.
        estimated_learners_per_year=max(int(daily * 2 * 200), 2000),
        purpose="own_students",
        status=Organisation.Status.REGISTERED,
    )
    members = User.objects.bulk_create(
        User(
            email=f"sim{n}.{m}@simulation.example.com",
            full_name=f"User {m}",
            password=make_password(None),
        )
        for m in range(users)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organisation=organisation, is_super_user=m == 0)
        for m, user in enumerate(members)
    )
    return Provider(kind, organisation, members, home)
