"""The purpose profile's vocabulary (issue 13; decision 25): the age bands, the
distance bands, what a search's log row keeps of the learner it found
(learner_stamp), a subject's Profile over some days, and what an organisation
declared about its learners (declarations). No name, date of birth or postcode:
bands, areas and counts only. The day's profile is written by
records.purpose_days and judged by records.purpose.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings

from records.models import Learner, PurposeDay
from records.postcodes import address_area, distance_km
from registration.models import LearnerAge, LearnerReach, Organisation

# Ages on the day of the lookup: each band starts at its age and runs to the
# next one's. An adult, for the rules, is 20 or over: past the 16-19 funding
# age that most school and college enrolments fall in.
AGE_STARTS = (0, 14, 17, 20, 25, 40, 65)
AGE_BANDS = ("under 14", "14-16", "17-19", "20-24", "25-39", "40-64", "65 or over")
ADULT_FROM_BAND = AGE_STARTS.index(20)
# Distance between the centres of the learner's and the registered address's
# postcode areas, in km; the last band is an unknown area on either side.
DISTANCE_STARTS = (0, 10, 25, 50, 100, 200)
DISTANCE_BANDS = (
    "under 10 km",
    "10-25 km",
    "25-50 km",
    "50-100 km",
    "100-200 km",
    "200 km or more",
    "unknown",
)
UNKNOWN = "?"
# The ages an application declares (registration.models.LearnerAge) as the
# measured bands each covers: the declared bands start where these do.
DECLARED_AGE_BANDS: dict[str, tuple[int, ...]] = {
    LearnerAge.UNDER_14: (0,),
    LearnerAge.AGE_14_16: (1,),
    LearnerAge.AGE_17_19: (2,),
    LearnerAge.AGE_20_24: (3,),
    LearnerAge.AGE_25_OVER: (4, 5, 6),
}


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February: the birthday is kept on 1 March
        return day.replace(year=day.year - years, month=3, day=1)


def age_band(date_of_birth: date, on: date) -> int:
    """The AGE_BANDS index of someone born on date_of_birth, on the day."""
    band = 0
    for index, age in enumerate(AGE_STARTS[1:], start=1):
        if date_of_birth <= years_before(on, age):
            band = index
    return band


def leading_letters(postcode: str) -> str:
    """A postcode's leading letters (its area if the file knows it), as the
    audit's SQL takes them: two if the second character is a letter, else one."""
    text = postcode.strip().upper()
    if len(text) >= 2 and "A" <= text[1] <= "Z":
        return text[:2]
    return text[:1]


def learner_stamp(learner: Learner, on: date) -> tuple[int, str]:
    """What a search's log row keeps of the one learner it found (the age band
    on the day, the postcode area), so that the nightly audit measures the
    profile in its one scan of the day, with no join to the register. Neither a
    date of birth nor a postcode: a band and one or two letters."""
    return age_band(learner.date_of_birth, on), leading_letters(learner.postcode)


def distance_band_of(km: float | None) -> int:
    if km is None:
        return len(DISTANCE_STARTS)
    return max(i for i, start in enumerate(DISTANCE_STARTS) if km >= start)


@dataclass
class Profile:
    """What one subject's lookups found over some days (sums of PurposeDay)."""

    searches: int = 0
    detail_searches: int = 0
    found: int = 0
    adults: int = 0
    near: int = 0
    known: int = 0
    age_bands: list[int] = field(default_factory=lambda: [0] * len(AGE_BANDS))
    distance_bands: list[int] = field(default_factory=lambda: [0] * len(DISTANCE_BANDS))
    areas: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Profile") -> None:
        for name in ("searches", "detail_searches", "found", "adults", "near", "known"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.age_bands = [
            a + b for a, b in zip(self.age_bands, other.age_bands, strict=True)
        ]
        self.distance_bands = [
            a + b
            for a, b in zip(self.distance_bands, other.distance_bands, strict=True)
        ]
        for area, count in other.areas.items():
            self.areas[area] = self.areas.get(area, 0) + count

    @property
    def adult_share(self) -> Decimal | None:
        return share_of(self.adults, self.found)

    @property
    def near_share(self) -> Decimal | None:
        return share_of(self.near, self.known)

    @property
    def detail_share(self) -> Decimal | None:
        return share_of(self.detail_searches, self.searches)

    @property
    def area_count(self) -> int:
        return sum(1 for area in self.areas if area != UNKNOWN)

    @classmethod
    def of(cls, row: PurposeDay) -> "Profile":
        return cls(
            row.searches,
            row.detail_searches,
            row.found,
            row.adults,
            row.near,
            row.known,
            list(row.age_bands) or [0] * len(AGE_BANDS),
            list(row.distance_bands) or [0] * len(DISTANCE_BANDS),
            dict(row.areas),
        )


def share_of(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def registered_areas(organisation_ids: Any) -> dict[int, str | None]:
    """Each organisation's registered address's postcode area (None if unknown)."""
    addresses = Organisation.objects.filter(pk__in=organisation_ids).values_list(
        "pk", "registered_address"
    )
    return {pk: address_area(address) for pk, address in addresses}


@dataclass(frozen=True)
class Declared:
    """What an organisation declared in its application about its learners:
    the measured age bands its declared ages cover (empty: none declared, or
    every age, which says nothing), and the distance most live within (None:
    none declared, or across England)."""

    ages: tuple[str, ...] = ()
    bands: frozenset[int] = frozenset()
    km: int | None = None


def declarations(organisation_ids: Any) -> dict[int, Declared]:
    """The declarations of those organisations that made one (organisations
    registered before the application asked have none)."""
    rows = (
        Organisation.objects.filter(pk__in=organisation_ids)
        .exclude(learner_ages__isnull=True, learner_reach="")
        .values_list("pk", "learner_ages", "learner_reach", "learner_reach_km")
    )
    every = set(range(len(AGE_BANDS)))
    result: dict[int, Declared] = {}
    for pk, ages, reach, km in rows:
        ages = tuple(a for a in LearnerAge.values if a in (ages or []))
        bands = {band for a in ages for band in DECLARED_AGE_BANDS[a]}
        result[pk] = Declared(
            ages if bands != every else (),
            frozenset(bands) if bands != every else frozenset(),
            int(km) if reach == LearnerReach.LOCAL and km else None,
        )
    return result


def outside_ages(profile: Profile, declared: Declared) -> tuple[int, int]:
    """Of the learners found, how many were outside the declared ages; and of
    all found."""
    inside = sum(
        count for band, count in enumerate(profile.age_bands) if band in declared.bands
    )
    return profile.found - inside, profile.found


def outside_distance(
    profile: Profile, declared: Declared, home: str | None
) -> tuple[int, int, int]:
    """Of the learners found with a known area, how many lived further than the
    declared distance from the registered address; of all known; and the
    distance judged, in km. Areas are measured centre to centre, so no
    distance under AUDIT_NEAR_KM is judged (the declared one is widened to it)."""
    radius = max(declared.km or 0, settings.AUDIT_NEAR_KM)
    outside = known = 0
    if home is None:
        return 0, 0, radius
    for area, count in profile.areas.items():
        km = distance_km(home, area)
        if km is None:
            continue
        known += count
        if km > radius:
            outside += count
    return outside, known, radius
