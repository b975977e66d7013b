"""The day's purpose profile (issue 13; decision 25, "One scan of the day"):
PurposeDay rows for each organisation and each user with learners found, from
what the audit's scan of the day counted
(records.audit_counts.usage_days_write), with the day's unstamped exact matches
joined to the learners by the ULN index; and the profiles of audited days that
have none (purpose_days_fill). Judged by records.purpose.
"""

import json
from datetime import date
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection

from records.models import AuditedDay, Learner, LearnerView, PurposeDay, UsageDay
from records.postcodes import area_centres, distance_km
from records.purpose_profile import (
    ADULT_FROM_BAND,
    AGE_STARTS,
    UNKNOWN,
    Profile,
    distance_band_of,
    registered_areas,
    years_before,
)


def _found_sql(day: date, *, stamped: bool = True) -> tuple[str, list[Any]]:
    """The day's searches that found one learner, counted per user,
    organisation, age band and postcode area, in SQL either database runs.

    The rows logged before searches were stamped with the learner's band and
    area (records.models.LearnerView.learner_age_band) are joined to the
    learners by ULN; with stamped, the stamped rows are counted too, from their
    own columns (the nightly audit counts those in its scan of the day)."""
    from records.audit_counts import day_bounds

    start, end = day_bounds(day)
    quote = connection.ops.quote_name
    log = quote(LearnerView._meta.db_table)
    bands = " ".join(
        f"WHEN l.date_of_birth > %s THEN {index - 1}"
        for index in range(1, len(AGE_STARTS))
    )
    cutoffs = [years_before(day, age) for age in AGE_STARTS[1:]]
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


def purpose_days_write(
    day: date,
    counted: list[Any],
    scanned: list[tuple[int, int, int, str, int]] | None = None,
    unstamped: int = 0,
) -> "DayProfiles":
    """Replace the day's PurposeDay rows with the profile of what each user and
    organisation found, and return the profiles.

    counted are the day's UsageDay counts (records.audit_counts.DayCounts): the
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
                distance_band_of(km),
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


def purpose_days_fill(first: date, last: date) -> int:
    """Measure the profiles of audited days that have none (the days audited
    before the purpose rules existed, or their history would start empty and
    every adult provider's first nights would alert); return how many days were
    measured. One query finds them; each is measured from its UsageDay counts
    and the log, as the night that audited it would have."""
    from records.audit_counts import DayCounts

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
