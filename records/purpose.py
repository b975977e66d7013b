"""What lookups are for: the purpose profile and the purpose rules (issue 13).

The 2020 misuse stayed within its declared volume and found the people it
searched for, so no volume rule saw it. What gave it away is who it found:
adults of every age, from all over the country, searched for by details. Each
night the audit joins the day's searches that found one learner to the
learners, and keeps, per organisation and per user, how many of them fell in
each age band (their age on the day), each postcode area, and each band of
distance from the organisation's registered address (``PurposeDay``). No name,
date of birth or postcode leaves the query: only bands, areas and counts.

The rules judge each organisation over the last ``AUDIT_PURPOSE_WINDOW_DAYS``
days against what it is: the ages it serves and the distance its learners come
from, where its application declared them (``declarations``); otherwise its own
earlier pattern, else nothing (the rule's threshold alone). Organisations
registered before the application asked have no declaration and are judged by
their history (decision 25). A pattern a caseworker marked a false positive is
accepted at the figure it had, until it moves ``AUDIT_ACCEPTED_CHANGE_PERCENT``
points further. Decision 25 gives the reasoning and the thresholds.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User
from records.models import (
    AuditedDay,
    AuditRule,
    Learner,
    LearnerView,
    PurposeDay,
    UsageAlert,
    UsageDay,
)
from records.postcodes import address_area, area_centres, distance_km
from registration.models import (
    LearnerAge,
    LearnerReach,
    Organisation,
    learner_ages_words,
)

Code = AuditRule.Code
PURPOSE_RULES = (
    Code.AGE_PROFILE,
    Code.GEOGRAPHIC_SPREAD,
    Code.DETAIL_SHARE,
    Code.PURPOSE_CHANGE,
    Code.USER_PURPOSE,
)
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

# Each rule's defaults (see records.audit.DEFAULT_RULES): threshold, minimum
# volume, whether a hit suspends, and what it means.
DEFAULT_PURPOSE_RULES: tuple[tuple[str, Decimal, int, bool, str], ...] = (
    (
        "age_profile",
        Decimal("0.8"),
        60,
        False,
        "More than this share (0 to 1) of the learners the organisation found "
        "over the purpose window (AUDIT_PURPOSE_WINDOW_DAYS days) were aged 20 or "
        "over on the day, and that share is at least AUDIT_PURPOSE_MARGIN_PERCENT "
        "points above its own share in the 28 days before the window (with no such "
        "history, the threshold alone). An organisation that declared the ages it "
        "serves in its application (not every age) is judged against that instead: "
        "at least AUDIT_PURPOSE_MARGIN_PERCENT% of the learners found in the window "
        "were outside the declared ages. The minimum "
        "volume is learners found in the window.",
    ),
    (
        "geographic_spread",
        Decimal("0.2"),
        60,
        False,
        "Less than this share (0 to 1) of the learners the organisation found over "
        "the purpose window lived within AUDIT_NEAR_KM km of its registered "
        "address (by postcode area; unknown areas left out), and that share is at "
        "least AUDIT_PURPOSE_MARGIN_PERCENT points below its own share in the 28 "
        "days before the window (with no such history, the threshold alone). An "
        "organisation that declared most of its learners live within a distance "
        "is judged against that instead: at least AUDIT_PURPOSE_MARGIN_PERCENT% "
        "of the learners found with a known area lived further than that distance "
        "(or AUDIT_NEAR_KM km, if more: areas are measured centre to centre). The "
        "minimum volume is learners found with a known area.",
    ),
    (
        "detail_share",
        Decimal("0.9"),
        60,
        False,
        "More than this share (0 to 1) of the organisation's searches over the "
        "purpose window were by details rather than by ULN, and that share is at "
        "least AUDIT_PURPOSE_MARGIN_PERCENT points above its own share in the 28 "
        "days before. The minimum volume is searches in the window.",
    ),
    (
        "purpose_change",
        Decimal("0.3"),
        30,
        False,
        "One day's share of adults found, of learners found far away, or of "
        "searches by details moved more than this much (0 to 1: 0.3 is 30 points) "
        "from the organisation's own share over the 28 days before (days with an "
        "open purpose alert left out; at least AUDIT_BASELINE_MINIMUM_DAYS active "
        "days and the minimum volume of learners found in them). The minimum "
        "volume is learners found that day.",
    ),
)


# The per-user rule (a member searching for a third party inside an ordinary
# organisation): its own row, added by migration 0020 and audit_rules_ensure.
DEFAULT_USER_PURPOSE_RULES: tuple[tuple[str, Decimal, int, bool, str], ...] = (
    (
        "user_purpose",
        Decimal("0.3"),
        30,
        False,
        "One user's lookups fit the screening pattern while their organisation's "
        "other users' do not: on the day, or over the purpose window, the user's "
        "share of learners found aged 20 or over, of learners found further than "
        "AUDIT_NEAR_KM km from the registered address (known areas; left out when "
        "the registered area is unknown) and of searches by details are each more "
        "than this much (0 to 1: 0.3 is 30 points) above the same share of the "
        "organisation's other users over the window, and above the user's own "
        "share over the 28 days before the window when they have that history "
        "(days with an open alert of this rule left out). Judged only where the "
        "other users found at least the minimum volume in the window (else the "
        "organisation's own rules judge). The minimum volume is learners found by "
        "the user, that day or in the window.",
    ),
)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February: the birthday is kept on 1 March
        return day.replace(year=day.year - years, month=3, day=1)


def age_band(date_of_birth: date, on: date) -> int:
    """The AGE_BANDS index of someone born on date_of_birth, on the day."""
    band = 0
    for index, age in enumerate(AGE_STARTS[1:], start=1):
        if date_of_birth <= _years_before(on, age):
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


def _found_sql(day: date, *, stamped: bool = True) -> tuple[str, list[Any]]:
    """The day's searches that found one learner, counted per user,
    organisation, age band and postcode area, in SQL either database runs.

    The rows logged before searches were stamped with the learner's band and
    area (records.models.LearnerView.learner_age_band) are joined to the
    learners by ULN; with stamped, the stamped rows are counted too, from their
    own columns (the nightly audit counts those in its scan of the day)."""
    from records.audit import _day_bounds  # audit imports this module

    start, end = _day_bounds(day)
    quote = connection.ops.quote_name
    log = quote(LearnerView._meta.db_table)
    bands = " ".join(
        f"WHEN l.date_of_birth > %s THEN {index - 1}"
        for index in range(1, len(AGE_STARTS))
    )
    cutoffs = [_years_before(day, age) for age in AGE_STARTS[1:]]
    area = (
        "CASE WHEN SUBSTR(UPPER(l.postcode), 2, 1) BETWEEN 'A' AND 'Z' "
        "THEN SUBSTR(UPPER(l.postcode), 1, 2) ELSE SUBSTR(UPPER(l.postcode), 1, 1) END"
    )
    found = (
        "v.viewed_at >= %s AND v.viewed_at < %s AND v.action IN (%s, %s) "
        "AND v.outcome = %s AND v.learner_uln <> '' "
    )
    found_params = [
        start,
        end,
        LearnerView.Action.SEARCH_ULN,
        LearnerView.Action.SEARCH_DEMOGRAPHICS,
        LearnerView.Outcome.EXACT_MATCH,
    ]
    sql = (
        f"SELECT v.user_id, v.organisation_id, "  # noqa: S608 # nosec B608 (quoted names, bound values)
        f"CASE {bands} ELSE {len(AGE_STARTS) - 1} END AS band, {area} AS area, "
        f"COUNT(1) FROM {log} v "
        f"JOIN {quote(Learner._meta.db_table)} l ON l.uln = v.learner_uln "
        f"WHERE {found}AND v.learner_age_band IS NULL "
        "GROUP BY v.user_id, v.organisation_id, band, area"
    )
    params: list[Any] = [*cutoffs, *found_params]
    if stamped:
        sql += (
            " UNION ALL SELECT v.user_id, v.organisation_id, v.learner_age_band, "  # noqa: S608 # nosec B608 (quoted names, bound values)
            f"v.learner_area, COUNT(1) FROM {log} v "
            f"WHERE {found}AND v.learner_age_band IS NOT NULL "
            "GROUP BY v.user_id, v.organisation_id, v.learner_age_band, v.learner_area"
        )
        params += found_params
    return sql, params


# The day's exact matches join the register by probing its ULN unique index, one
# probe a match, rather than by hashing (or sorting) every learner each night:
# the register is 28M learners and a day finds a few hundred thousand of them.
# Only for the purpose statement; set off and on again in the audit's transaction.
_PROBE_LEARNERS = ("enable_hashjoin", "enable_mergejoin", "enable_memoize")


def _found_joined(day: date, *, stamped: bool) -> list[Any]:
    """_found_sql's rows, its join by the ULN index (see _PROBE_LEARNERS)."""
    sql, params = _found_sql(day, stamped=stamped)
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            for setting in _PROBE_LEARNERS:
                cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(sql, params)
        found: list[Any] = cursor.fetchall()
        if postgres:  # the rest of the audit's transaction plans as usual
            for setting in _PROBE_LEARNERS:
                cursor.execute(f"SET LOCAL {setting} = on")
    return found


def _distance_band(km: float | None) -> int:
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
        return _share(self.adults, self.found)

    @property
    def near_share(self) -> Decimal | None:
        return _share(self.near, self.known)

    @property
    def detail_share(self) -> Decimal | None:
        return _share(self.detail_searches, self.searches)

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


def _share(part: int, whole: int) -> Decimal | None:
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


def purpose_days_write(
    day: date,
    counted: list[Any],
    scanned: list[tuple[int, int, int, str, int]] | None = None,
    unstamped: int = 0,
) -> "DayProfiles":
    """Replace the day's PurposeDay rows with the profile of what each user and
    organisation found, and return the profiles.

    counted are the day's UsageDay counts (records.audit.DayCounts): the
    searches and searches by details come from them, so every channel counts
    alike. scanned are the learners found, as the audit's scan of the day
    counted them from the stamped log rows (user, organisation, age band, area,
    count); unstamped, how many of the day's exact matches had no stamp (logged
    before searches were stamped), which one more statement joins to the
    learners. With no scan (a day profiled later, or a test), that statement
    counts every exact match of the day, stamped or not."""
    searched: dict[tuple[int, int], tuple[int, int]] = {}
    organisations: dict[int, Profile] = {}
    for row in counted:
        key = (row.user_id, row.organisation_id)
        searches, detail = searched.get(key, (0, 0))
        searched[key] = (searches + row.searches, detail + row.detail_searches)
        whole = organisations.get(row.organisation_id)
        if whole is None:
            whole = organisations[row.organisation_id] = Profile()
        whole.searches += row.searches
        whole.detail_searches += row.detail_searches
    # The day's organisations (its UsageDay rows, written just before) as a
    # subquery, not thousands of bound ids.
    homes = registered_areas(
        UsageDay.objects.filter(day=day).values("organisation_id") if counted else set()
    )
    near_km = settings.AUDIT_NEAR_KM
    centres = area_centres()
    # (home, area): the distance band, and whether known and near; measured once.
    distances: dict[tuple[str | None, str], tuple[int, bool, bool]] = {}
    found: list[Any] = list(scanned or [])
    if scanned is None or unstamped:
        found += _found_joined(day, stamped=scanned is None)
    # Each user's profile from their (band, area) rows; an organisation's is
    # the sum of its users' (so each row is counted once, in Python).
    users: dict[tuple[int, int], Profile] = {}
    for user_id, organisation_id, band, area, count in found:
        area = area if area in centres else UNKNOWN
        home = homes.get(organisation_id)
        place = (home, area)
        if place not in distances:
            km = None if home is None else distance_km(home, area)
            distances[place] = (
                _distance_band(km),
                km is not None,
                km is not None and km < near_km,
            )
        distance_band, known, near = distances[place]
        key = (user_id, organisation_id)
        profile = users.get(key)
        if profile is None:
            profile = users[key] = Profile()
            profile.searches, profile.detail_searches = searched.get(key, (0, 0))
        profile.found += count
        profile.age_bands[band] += count
        if band >= ADULT_FROM_BAND:
            profile.adults += count
        profile.distance_bands[distance_band] += count
        if known:
            profile.known += count
            if near:
                profile.near += count
        profile.areas[area] = profile.areas.get(area, 0) + count
    for (_, organisation_id), profile in users.items():
        whole = organisations.get(organisation_id)
        if whole is None:  # found, but no counts row (cannot happen: defensive)
            whole = organisations[organisation_id] = Profile()
        searches, detail = whole.searches, whole.detail_searches
        whole.add(profile)
        whole.searches, whole.detail_searches = searches, detail
    rows: list[tuple[int, int | None, Profile]] = [
        (organisation_id, None, p) for organisation_id, p in organisations.items()
    ]
    rows += [(o, u, p) for (u, o), p in users.items() if p.found]
    _write(day, rows)
    return DayProfiles(organisations, users)


class DayProfiles(NamedTuple):
    """A day's profiles: each organisation's, and each (user, organisation)'s."""

    organisations: dict[int, Profile]
    users: dict[tuple[int, int], Profile]


_COLUMNS = (
    "organisation_id",
    "user_id",
    "day",
    "searches",
    "detail_searches",
    "found",
    "adults",
    "near",
    "known",
    "age_bands",
    "distance_bands",
    "areas",
)


def _write(day: date, rows: list[tuple[int, int | None, Profile]]) -> None:
    """One statement for the day's rows (PostgreSQL: a COPY), after deleting
    any the day had."""
    PurposeDay.objects.filter(day=day).delete()
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(PurposeDay._meta.db_table)
    columns = ", ".join(quote(name) for name in _COLUMNS)
    if connection.vendor == "postgresql":
        # COPY's text format written whole: the values are whole numbers, a
        # date and JSON of numbers and postcode areas (letters, or "?"), none of
        # which COPY needs escaped; \N is a user of none.
        null, when = "\\N", day.isoformat()
        text = "".join(
            f"{org}\t{null if user is None else user}\t{when}\t"
            f"{p.searches}\t{p.detail_searches}\t{p.found}\t{p.adults}\t"
            f"{p.near}\t{p.known}\t[{', '.join(map(str, p.age_bands))}]\t"
            f"[{', '.join(map(str, p.distance_bands))}]\t"
            f"{json.dumps(p.areas, sort_keys=True)}\n"
            for org, user, p in rows
        )
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            copy.write(text)
        return
    values = [
        (
            organisation_id,
            user_id,
            day,
            p.searches,
            p.detail_searches,
            p.found,
            p.adults,
            p.near,
            p.known,
            json.dumps(p.age_bands),
            json.dumps(p.distance_bands),
            json.dumps(p.areas, sort_keys=True),
        )
        for organisation_id, user_id, p in rows
    ]
    marks = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 # nosec B608 (quoted names, bound values)
            values,
        )


# --- the rules -------------------------------------------------------------------

_SCALARS = ("searches", "detail_searches", "found", "adults", "near", "known")


@dataclass(frozen=True)
class Span:
    """A run of days the rules read, with the organisation-days left out."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _sums(
    span: Span, organisation_ids: Any, *, leave_out_suspect: bool
) -> dict[int, tuple[Profile, int]]:
    """Each organisation's totals over the span (and its active days): one
    aggregate of the organisations' PurposeDay rows. With leave_out_suspect,
    the organisation-days with a purpose alert not found to be a false positive
    are skipped (so a misuse that goes on is not learnt as its usual pattern),
    by a subquery in the same statement, however many there are."""
    rows = PurposeDay.objects.filter(
        user__isnull=True, day__gte=span.first, day__lte=span.last
    )
    if organisation_ids is not None:
        rows = rows.filter(organisation_id__in=organisation_ids)
    if leave_out_suspect:
        rows = rows.exclude(
            Exists(
                UsageAlert.objects.filter(
                    rule__in=PURPOSE_RULES,
                    subject_type=UsageAlert.Subject.ORGANISATION,
                    false_positive=False,
                    organisation_id=OuterRef("organisation_id"),
                    day=OuterRef("day"),
                )
            )
        )
    totals = (
        rows.order_by()
        .values("organisation_id")
        .annotate(**{f"t_{name}": Sum(name) for name in _SCALARS}, t_days=Count("pk"))
    )
    result: dict[int, tuple[Profile, int]] = {}
    for row in totals:
        profile = Profile()
        for name in _SCALARS:
            setattr(profile, name, int(row[f"t_{name}"] or 0))
        result[row["organisation_id"]] = (profile, int(row["t_days"] or 0))
    return result


def profile_over(organisation_id: int, first: date, last: date) -> Profile:
    """The organisation's whole profile (bands and areas too) over some days."""
    return profiles_over({organisation_id}, first, last).get(organisation_id, Profile())


def profiles_over(
    organisation_ids: set[int], first: date, last: date
) -> dict[int, Profile]:
    """Each organisation's whole profile over some days, for all of them in one
    query (an organisation with no rows is left out)."""
    totals: dict[int, Profile] = defaultdict(Profile)
    if not organisation_ids:
        return {}
    for row in PurposeDay.objects.filter(
        organisation_id__in=organisation_ids,
        user__isnull=True,
        day__gte=first,
        day__lte=last,
    ):
        totals[row.organisation_id].add(Profile.of(row))
    return dict(totals)


def _pct(share: Decimal | None) -> str:
    if share is None:
        return "-"
    return f"{(share * 100).quantize(Decimal(1))}%"


def profile_words(profile: Profile, days: int, home: str | None) -> str:
    """The profile in words and figures a caseworker can check."""
    near_km = settings.AUDIT_NEAR_KM
    adult_bands = ", ".join(
        f"{name}: {_pct(_share(count, profile.found))}"
        for name, count in list(zip(AGE_BANDS, profile.age_bands, strict=True))[
            ADULT_FROM_BAND:
        ]
    )
    span = "1 day" if days == 1 else f"{days} days"
    words = (
        f"{_pct(profile.adult_share)} of the {profile.found:,} learners found in "
        f"{span} were aged 20 or over ({adult_bands})"
    )
    if home is None:
        words += (
            "; the registered address has no postcode area we know, so no distances"
        )
    else:
        words += (
            f"; {_pct(profile.near_share)} of the {profile.known:,} with a known area "
            f"lived within {near_km} km of the registered address ({home})"
        )
    words += f"; {profile.area_count} postcode areas"
    if profile.searches:
        words += (
            f"; {_pct(profile.detail_share)} of {profile.searches:,} searches were by "
            "details"
        )
    return words + "."


def purpose_hits(
    day: date,
    today: dict[int, Profile],
    progress: JobProgress | None = None,
    *,
    users: dict[tuple[int, int], Profile] | None = None,
) -> list[Any]:
    """Every purpose rule's hit on the day, by organisation and rule, then the
    users' (user_purpose; users are the day's (user, organisation) profiles). A
    hit on a pattern accepted as a false positive is counted in progress, not
    returned."""
    from records.audit import Hit, _q  # audit imports this module

    rules = {
        rule.code: rule
        for rule in AuditRule.objects.filter(enabled=True, code__in=PURPOSE_RULES)
    }
    if not rules or not today:
        return []
    ids = set(today)
    # The day's organisations are nearly all there are: the sums below read
    # every organisation's rows of their days (one range of the day index, the
    # others' rows ignored) rather than bind thousands of ids or join a
    # subquery, which at night meets a PurposeDay whose statistics are a day
    # old (a nested loop of one index scan per organisation: 3 s for 2,500).
    # The declarations and addresses are read for the day's organisations by
    # a subquery of their PurposeDay rows of the day, written just before.
    active: Any = PurposeDay.objects.filter(day=day, user__isnull=True).values(
        "organisation_id"
    )
    width = settings.AUDIT_PURPOSE_WINDOW_DAYS
    history_days = settings.AUDIT_BASELINE_DAYS
    minimum_days = settings.AUDIT_BASELINE_MINIMUM_DAYS
    window = Span(day - timedelta(days=width - 1), day)
    before = Span(
        window.first - timedelta(days=history_days), window.first - timedelta(days=1)
    )
    previous = Span(day - timedelta(days=history_days), day - timedelta(days=1))
    windows = _sums(window, None, leave_out_suspect=False)
    expected = _sums(before, None, leave_out_suspect=True)
    history = (
        _sums(previous, None, leave_out_suspect=True)
        if Code.PURPOSE_CHANGE in rules
        else {}
    )
    accepted = _accepted()
    homes = registered_areas(active)
    declared = declarations(active)
    # A declared organisation's rules need its window's bands and areas before
    # any hit: read for all of them in one query, as the alerts' words are.
    declared_wholes = profiles_over(
        {org for org, said in declared.items() if said.bands or said.km is not None},
        window.first,
        window.last,
    )
    margin = Decimal(settings.AUDIT_PURPOSE_MARGIN_PERCENT) / 100
    hits: list[Any] = []

    def base(
        totals: dict[int, tuple[Profile, int]], org: int, rule: AuditRule
    ) -> Profile | None:
        profile, active = totals.get(org, (Profile(), 0))
        if active < minimum_days or profile.found < max(rule.minimum_volume, 1):
            return None
        return profile

    later: list[tuple[int, _Later]] = []

    def hit(
        org: int,
        rule: AuditRule,
        value: Decimal,
        details: "str | _Later",
        *,
        below: bool = False,
        threshold: Decimal | None = None,
    ) -> None:
        taken = accepted.get((org, rule.code))
        change = Decimal(settings.AUDIT_ACCEPTED_CHANGE_PERCENT) / 100
        if taken is not None and (
            value >= taken - change if below else value <= taken + change
        ):
            if progress is not None:  # accepted as a false positive, not moved enough
                progress.add("hits_accepted")
            return
        limit = rule.threshold if threshold is None else threshold
        if isinstance(details, _Later):  # the window's words, read for all at once
            later.append((len(hits), details))
            details = ""
        hits.append(Hit(rule, org, None, _q(value), _q(limit), details))

    near_km = settings.AUDIT_NEAR_KM
    for org in sorted(ids):
        seen, _ = windows.get(org, (today[org], 1))
        home = homes.get(org)
        words = _Words(org)
        said = declared.get(org, Declared())
        whole = declared_wholes.get(org, Profile())
        rule = rules.get(Code.AGE_PROFILE)
        than = base(expected, org, rule) if rule else None
        if rule and said.bands:
            if seen.found >= max(rule.minimum_volume, 1):
                outside, found = outside_ages(whole, said)
                share = _share(outside, found) or Decimal(0)
                if share >= margin:
                    hit(org, rule, share, words.window(
                        f" Declared in its application: learners aged "
                        f"{learner_ages_words(list(said.ages))}; {_pct(share)} of "
                        f"the {found:,} learners found were outside those ages."
                    ), threshold=margin)  # fmt: skip
        elif rule and _beyond(
            rule,
            seen.adult_share,
            seen.found,
            than.adult_share if than else None,
            margin,
        ):
            usual = (
                f"{_pct(than.adult_share)} of {than.found:,} learners " if than else ""
            )
            hit(org, rule, seen.adult_share or Decimal(0), words.window(
                _then(usual and usual + "found were aged 20 or over", before.days)
            ))  # fmt: skip
        rule = rules.get(Code.GEOGRAPHIC_SPREAD)
        than = base(expected, org, rule) if rule else None
        usual_near = than.near_share if than else None
        if rule and said.km is not None:
            if home is not None and seen.known >= max(rule.minimum_volume, 1):
                outside, known, radius = outside_distance(whole, said, home)
                far = _share(outside, known)
                if far is not None and far >= margin:
                    widened = "" if radius == said.km else f" (judged at {radius} km)"
                    hit(org, rule, far, words.window(
                        f" Declared in its application: most learners live within "
                        f"{said.km} km{widened}; {_pct(far)} of the {known:,} found "
                        f"with a known area lived further than {radius} km."
                    ), threshold=margin)  # fmt: skip
        elif rule and _beyond(
            rule, seen.near_share, seen.known, usual_near, margin, below=True
        ):
            usual = f"{_pct(than.near_share)} of {than.known:,} lived " if than else ""
            hit(org, rule, seen.near_share or Decimal(0), words.window(
                _then(usual and usual + f"within {near_km} km", before.days)
            ), below=True)  # fmt: skip
        rule = rules.get(Code.DETAIL_SHARE)
        than = base(expected, org, rule) if rule else None
        if rule and _beyond(
            rule,
            seen.detail_share,
            seen.searches,
            than.detail_share if than else None,
            margin,
        ):
            usual = f"{_pct(than.detail_share)} of {than.searches:,} " if than else ""
            hit(org, rule, seen.detail_share or Decimal(0), words.window(
                _then(usual and usual + "searches were by details", before.days)
            ))  # fmt: skip
        rule = rules.get(Code.PURPOSE_CHANGE)
        than = base(history, org, rule) if rule else None
        if rule and than and today[org].found >= max(rule.minimum_volume, 1):
            moved = _biggest_change(today[org], than, rule.minimum_volume)
            if moved is not None and moved[0] > rule.threshold:
                hit(org, rule, moved[0], (
                    f"Today {moved[1]}, against {moved[2]} over its "
                    f"{previous.days} days before ({than.found:,} learners found). "
                    f"Today's profile: {profile_words(today[org], 1, home)}"
                ))  # fmt: skip
    if later:
        wholes = profiles_over(
            {one.organisation_id for _, one in later}, window.first, window.last
        )
        in_words: dict[int, str] = {}
        for index, one in later:
            org = one.organisation_id
            if org not in in_words:
                in_words[org] = profile_words(
                    wholes.get(org, Profile()), window.days, homes.get(org)
                )
            hits[index] = replace(hits[index], details=in_words[org] + one.then)
    rule = rules.get(Code.USER_PURPOSE)
    if rule is not None and users:
        hits += _user_hits(day, rule, users, windows, homes, window, progress)
    return hits


# --- the per-user rule -------------------------------------------------------------

_MEASURES = ("adults", "far", "details")


def _shares(profile: Profile, home: str | None, minimum: int) -> dict[str, Decimal]:
    """A profile's three screening shares, each only from the minimum volume of
    its own denominator: adults of the learners found, far (beyond AUDIT_NEAR_KM)
    of those with a known area (none when the registered area is unknown), and
    searches by details."""
    floor = max(minimum, 1)
    shares: dict[str, Decimal] = {}
    if profile.found >= floor and profile.adult_share is not None:
        shares["adults"] = profile.adult_share
    if home is not None and profile.known >= floor and profile.near_share is not None:
        shares["far"] = 1 - profile.near_share
    if profile.searches >= floor and profile.detail_share is not None:
        shares["details"] = profile.detail_share
    return shares


def _beyond_all(
    mine: dict[str, Decimal], others: list[dict[str, Decimal]]
) -> Decimal | None:
    """How far the user's shares lie above the highest of each comparison's, on
    the measure where they lie least far (None unless adults and details are
    both judged: far is judged too where every side has it)."""
    moves = []
    for measure in _MEASURES:
        theirs = [other[measure] for other in others if measure in other]
        if measure not in mine or len(theirs) < len(others):
            if measure != "far":
                return None
            continue
        moves.append(mine[measure] - max(theirs))
    return min(moves) if moves else None


def _user_sums(
    span: Span,
    organisation_ids: Any,
    *,
    user_ids: set[int] | None = None,
    leave_out_suspect: bool = False,
    screening_above: Decimal | None = None,
) -> dict[tuple[int, int], tuple[Profile, int]]:
    """Each (user, organisation)'s totals over the span and its active days: one
    aggregate of their PurposeDay rows; with leave_out_suspect, the user's days
    with an open user_purpose alert left out (a subquery in the statement).
    With screening_above, only the users among user_ids and those whose shares
    of adults and of searches by details both lie above it (in the aggregate's
    HAVING: no other user can be that far above anyone)."""
    rows = PurposeDay.objects.filter(
        user__isnull=False, day__gte=span.first, day__lte=span.last
    )
    if organisation_ids is not None:
        rows = rows.filter(organisation_id__in=organisation_ids)
    if user_ids is not None and screening_above is None:
        rows = rows.filter(user_id__in=user_ids)
    if leave_out_suspect:
        rows = rows.exclude(
            Exists(
                UsageAlert.objects.filter(
                    rule=Code.USER_PURPOSE,
                    subject_type=UsageAlert.Subject.USER,
                    false_positive=False,
                    user_id=OuterRef("user_id"),
                    day=OuterRef("day"),
                )
            )
        )
    totals = (
        rows.order_by()
        .values("user_id", "organisation_id")
        .annotate(**{f"t_{name}": Sum(name) for name in _SCALARS}, t_days=Count("pk"))
    )
    if screening_above is not None:
        screening = Q(
            t_adults__gt=F("t_found") * screening_above,
            t_detail_searches__gt=F("t_searches") * screening_above,
        )
        totals = totals.filter(screening | Q(user_id__in=user_ids or ()))
    result: dict[tuple[int, int], tuple[Profile, int]] = {}
    for row in totals:
        profile = Profile()
        for name in _SCALARS:
            setattr(profile, name, int(row[f"t_{name}"] or 0))
        result[(row["user_id"], row["organisation_id"])] = (
            profile,
            int(row["t_days"] or 0),
        )
    return result


def _minus(whole: Profile, part: Profile) -> Profile:
    rest = Profile()
    for name in _SCALARS:
        setattr(rest, name, getattr(whole, name) - getattr(part, name))
    return rest


@dataclass(frozen=True)
class _UserCase:
    user_id: int
    organisation_id: int
    span: str  # "that day" or "over 5 days"
    mine: Profile
    rest: Profile
    value: Decimal


def _user_hits(
    day: date,
    rule: AuditRule,
    users: dict[tuple[int, int], Profile],
    windows: dict[int, tuple[Profile, int]],
    homes: dict[int, str | None],
    window: Span,
    progress: JobProgress | None,
) -> list[Any]:
    """The users whose own lookups fit the screening pattern while the rest of
    their organisation's do not (rule user_purpose): on the day or over the
    window, each of the three shares more than the threshold above the other
    users' over the window, and above the user's own before it when they have
    that history. Three queries however many users: the window's user sums, the
    candidates' history, their accepted false positives (and their emails)."""
    from records.audit import Hit, _q  # audit imports this module

    minimum = max(rule.minimum_volume, 1)
    active = {key for key, profile in users.items() if profile.found}
    if not active:
        return []
    # A user is at most as far above anyone as their own share of adults, and of
    # searches by details: only those above the threshold on both could hit.
    hundredths = int(rule.threshold * 100)

    def could(profile: Profile) -> bool:
        return (
            profile.adults * 100 > hundredths * profile.found
            and profile.detail_searches * 100 > hundredths * profile.searches
        )

    today = {key for key in active if could(users[key])}
    own_window = _user_sums(
        window,
        None,  # every organisation's, as _sums reads them (purpose_hits)
        user_ids={user_id for user_id, _ in today},
        screening_above=rule.threshold,
    )
    cases: list[_UserCase] = []
    # Judged on the nights they looked someone up: the window's sums hold every
    # member with rows in it, and one who found nobody today is not judged.
    for user_id, org in sorted(today | (set(own_window) & active)):
        if (user_id, org) not in own_window:
            continue  # (written today, so in the window unless moved away)
        mine_window = own_window[(user_id, org)][0]
        whole = windows.get(org, (Profile(), 0))[0]
        rest = _minus(whole, mine_window)
        if rest.found < minimum:  # nobody else to compare with: the org's rules
            continue
        home = homes.get(org)
        theirs = _shares(rest, home, minimum)
        best: _UserCase | None = None
        spans = [("window", mine_window)]
        if (user_id, org) in today:
            spans.append(("that day", users[(user_id, org)]))
        for span, mine in spans:
            value = _beyond_all(_shares(mine, home, minimum), [theirs])
            if value is None or value <= rule.threshold:
                continue
            if best is None or value > best.value:
                best = _UserCase(user_id, org, span, mine, rest, value)
        if best is not None:
            cases.append(best)
    if not cases:
        return []
    history_days = settings.AUDIT_BASELINE_DAYS
    before = Span(
        window.first - timedelta(days=history_days), window.first - timedelta(days=1)
    )
    candidates = {case.user_id for case in cases}
    history = _user_sums(
        before,
        {case.organisation_id for case in cases},
        user_ids=candidates,
        leave_out_suspect=True,
    )
    accepted = dict(
        UsageAlert.objects.filter(
            false_positive=True,
            rule=Code.USER_PURPOSE,
            subject_type=UsageAlert.Subject.USER,
            user_id__in=candidates,
        )
        .order_by("day", "created_at")
        .values_list("user_id", "value")
    )
    change = Decimal(settings.AUDIT_ACCEPTED_CHANGE_PERCENT) / 100
    emails = dict(User.objects.filter(pk__in=candidates).values_list("pk", "email"))
    hits: list[Any] = []
    for case in cases:
        home = homes.get(case.organisation_id)
        own, days = history.get((case.user_id, case.organisation_id), (None, 0))
        if own is not None and (
            days < settings.AUDIT_BASELINE_MINIMUM_DAYS or own.found < minimum
        ):
            own = None
        comparisons = [_shares(case.rest, home, minimum)]
        if own is not None:
            comparisons.append(_shares(own, home, minimum))
        value = _beyond_all(_shares(case.mine, home, minimum), comparisons)
        if value is None or value <= rule.threshold:
            continue
        taken = accepted.get(case.user_id)
        if taken is not None and value <= taken + change:
            if progress is not None:
                progress.add("hits_accepted")
            continue
        hits.append(
            Hit(
                rule,
                case.organisation_id,
                case.user_id,
                _q(value),
                _q(rule.threshold),
                _user_words(
                    case, own, home, emails.get(case.user_id, ""), window.days, day
                ),
            )
        )
    return hits


def _user_words(
    case: _UserCase,
    own: Profile | None,
    home: str | None,
    email: str,
    window_days: int,
    day: date,
) -> str:
    """A user's hit in words and figures a caseworker can check: the user named,
    their shares beside the other users' and their own history's."""
    span = f"on {day:%-d %B %Y}" if case.span == "that day" else (
        f"over the {window_days} days to {day:%-d %B %Y}"
    )  # fmt: skip
    mine, rest = case.mine, case.rest
    far_km = settings.AUDIT_NEAR_KM

    def far(profile: Profile) -> Decimal | None:
        return None if profile.near_share is None else 1 - profile.near_share

    def against(share_rest: str, share_own: str | None) -> str:
        if share_own is None:
            return f"against {share_rest} for the organisation's other users"
        return (
            f"against {share_rest} for the organisation's other users and "
            f"{share_own} in their own history"
        )

    parts = [
        f"{_pct(mine.adult_share)} of the {mine.found:,} learners they found were "
        "aged 20 or over, "
        + against(
            f"{_pct(rest.adult_share)} of {rest.found:,}",
            None if own is None else f"{_pct(own.adult_share)} of {own.found:,}",
        )
    ]
    if home is not None:
        parts.append(
            f"{_pct(far(mine))} of the {mine.known:,} with a known area lived "
            f"further than {far_km} km from the registered address ({home}), "
            + against(
                f"{_pct(far(rest))} of {rest.known:,}",
                None if own is None else f"{_pct(far(own))} of {own.known:,}",
            )
        )
    else:
        parts.append("the registered address has no postcode area we know, so no "
                     "distances")  # fmt: skip
    parts.append(
        f"{_pct(mine.detail_share)} of their {mine.searches:,} searches were by "
        "details, "
        + against(
            _pct(rest.detail_share),
            None if own is None else _pct(own.detail_share),
        )
    )
    history = (
        " They have too little history of their own to compare with."
        if own is None
        else f" Their own history: the {settings.AUDIT_BASELINE_DAYS} days before "
        "the window."
    )
    return (
        f"User {email or case.user_id} {span}: "
        + "; ".join(parts)
        + "."
        + history
        + f" The other users: over the {window_days} days."
    )


def _beyond(
    rule: AuditRule,
    share: Decimal | None,
    volume: int,
    usual: Decimal | None,
    margin: Decimal,
    *,
    below: bool = False,
) -> bool:
    """Whether a window's share crosses the rule's threshold, from its minimum
    volume, and lies at least the margin beyond the organisation's usual share
    (when it has one): above it, or below for a rule that looks for few."""
    if share is None or volume < max(rule.minimum_volume, 1):
        return False
    if below:
        return share < rule.threshold and (usual is None or share <= usual - margin)
    return share > rule.threshold and (usual is None or share >= usual + margin)


def _then(usual: str | None, days: int) -> str:
    if not usual:
        return " Too little history of its own to compare with."
    return f" Its own {days} days before: {usual}."


@dataclass(frozen=True)
class _Later:
    """An alert's words that open with the organisation's window in words: the
    windows (bands and areas too) of every organisation that hit are read in
    one query once the rules have run, not one query per organisation."""

    organisation_id: int
    then: str


@dataclass(frozen=True)
class _Words:
    organisation_id: int

    def window(self, then: str) -> _Later:
        return _Later(self.organisation_id, then)


def _biggest_change(
    today: Profile, usual: Profile, minimum: int
) -> tuple[Decimal, str, str] | None:
    """The biggest move towards misuse of one measure from the organisation's
    usual share: more adults, fewer near, more by details; with its words."""
    moves: list[tuple[Decimal, str, str]] = []
    if today.adult_share is not None and usual.adult_share is not None:
        moves.append(
            (
                today.adult_share - usual.adult_share,
                f"{_pct(today.adult_share)} of the {today.found:,} learners found "
                "were aged 20 or over",
                _pct(usual.adult_share),
            )
        )
    if (
        today.known >= minimum
        and today.near_share is not None
        and usual.near_share is not None
    ):
        moves.append(
            (
                usual.near_share - today.near_share,
                f"{_pct(today.near_share)} of the {today.known:,} learners found "
                f"with a known area lived within {settings.AUDIT_NEAR_KM} km",
                _pct(usual.near_share),
            )
        )
    if (
        today.searches >= minimum
        and today.detail_share is not None
        and usual.detail_share is not None
    ):
        moves.append(
            (
                today.detail_share - usual.detail_share,
                f"{_pct(today.detail_share)} of {today.searches:,} searches were "
                "by details",
                _pct(usual.detail_share),
            )
        )
    return max(moves, key=lambda move: move[0]) if moves else None


def _accepted() -> dict[tuple[int, str], Decimal]:
    """The figure at which a caseworker last accepted each organisation's
    pattern for each purpose rule (an alert closed as a false positive; few,
    so every organisation's are read)."""
    rows = (
        UsageAlert.objects.filter(
            false_positive=True,
            rule__in=PURPOSE_RULES,
            subject_type=UsageAlert.Subject.ORGANISATION,
        )
        .order_by("day", "created_at")
        .values_list("organisation_id", "rule", "value")
    )
    return {(org, rule): value for org, rule, value in rows}


def purpose_days_fill(first: date, last: date) -> int:
    """Measure the profiles of audited days that have none (the days audited
    before the purpose rules existed, or their history would start empty and
    every adult provider's first nights would alert); return how many days were
    measured. One query finds them; each is measured from its UsageDay counts
    and the log, as the night that audited it would have."""
    from records.audit import DayCounts  # audit imports this module

    audited = set(
        AuditedDay.objects.filter(day__gte=first, day__lte=last).values_list(
            "day", flat=True
        )
    )
    profiled = set(
        PurposeDay.objects.filter(day__gte=first, day__lte=last, user__isnull=True)
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    missing = sorted(audited - profiled)
    names = DayCounts._fields
    for day in missing:
        counted = [
            DayCounts._make(row)
            for row in UsageDay.objects.filter(day=day).values_list(*names)
        ]
        purpose_days_write(day, counted)
    return len(missing)
