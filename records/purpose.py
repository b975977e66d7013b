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

This module holds the organisation rules (purpose_hits, which then calls the
per-user rule in records.purpose_user). The rules' defaults and codes are in
records.audit_defaults; the bands, the stamp, Profile and the declarations in
records.purpose_profile; the day's PurposeDay rows in records.purpose_days; a
span's sums and a profile in words in records.purpose_spans.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from lrs_portal.jobs import JobProgress
from records.audit_defaults import (
    PURPOSE_RULES,
)
from records.audit_hits import Hit, two_places
from records.models import AuditRule, PurposeDay, UsageAlert
from records.purpose_profile import (
    Declared,
    Profile,
    declarations,
    outside_ages,
    outside_distance,
    registered_areas,
    share_of,
)
from records.purpose_spans import (
    Span,
    percent,
    profile_words,
    profiles_over,
    span_sums,
)
from records.purpose_user import user_hits
from registration.models import learner_ages_words

Code = AuditRule.Code


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
    windows = span_sums(window, None, leave_out_suspect=False)
    expected = span_sums(before, None, leave_out_suspect=True)
    history = (
        span_sums(previous, None, leave_out_suspect=True)
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
        hits.append(Hit(rule, org, None, two_places(value), two_places(limit), details))

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
                share = share_of(outside, found) or Decimal(0)
                if share >= margin:
                    hit(org, rule, share, words.window(
                        f" Declared in its application: learners aged "
                        f"{learner_ages_words(list(said.ages))}; {percent(share)} of "
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
                f"{percent(than.adult_share)} of {than.found:,} learners "
                if than
                else ""
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
                far = share_of(outside, known)
                if far is not None and far >= margin:
                    widened = "" if radius == said.km else f" (judged at {radius} km)"
                    hit(org, rule, far, words.window(
                        f" Declared in its application: most learners live within "
                        f"{said.km} km{widened}; {percent(far)} of the {known:,} found "
                        f"with a known area lived further than {radius} km."
                    ), threshold=margin)  # fmt: skip
        elif rule and _beyond(
            rule, seen.near_share, seen.known, usual_near, margin, below=True
        ):
            usual = (
                f"{percent(than.near_share)} of {than.known:,} lived " if than else ""
            )
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
            usual = (
                f"{percent(than.detail_share)} of {than.searches:,} " if than else ""
            )
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
        hits += user_hits(day, rule, users, windows, homes, window, progress)
    return hits


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
                f"{percent(today.adult_share)} of the {today.found:,} learners found "
                "were aged 20 or over",
                percent(usual.adult_share),
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
                f"{percent(today.near_share)} of the {today.known:,} learners found "
                f"with a known area lived within {settings.AUDIT_NEAR_KM} km",
                percent(usual.near_share),
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
                f"{percent(today.detail_share)} of {today.searches:,} searches were "
                "by details",
                percent(usual.detail_share),
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
