"""The per-user purpose rule, user_purpose (issue 13; decision 25, "Per user").

A member of an ordinary organisation who searches for a third party hides in its
totals; PurposeDay keeps every user's own profile, so this rule judges each
member who found anyone that day against the organisation's other users over
the purpose window and against their own earlier days. The figure is the
smallest of three differences (adults, far, by details): a hit needs all three
at once, which is the screening pattern. records.purpose.purpose_hits calls
user_hits after the organisation rules.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from lrs_portal.jobs import JobProgress
from lrs_portal.models import User
from records.audit_hits import Hit, two_places
from records.models import AuditRule, PurposeDay, UsageAlert
from records.purpose_profile import Profile
from records.purpose_spans import SCALARS, Span, percent

Code = AuditRule.Code

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
        .annotate(**{f"t_{name}": Sum(name) for name in SCALARS}, t_days=Count("pk"))
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
        for name in SCALARS:
            setattr(profile, name, int(row[f"t_{name}"] or 0))
        result[(row["user_id"], row["organisation_id"])] = (
            profile,
            int(row["t_days"] or 0),
        )
    return result


def _minus(whole: Profile, part: Profile) -> Profile:
    rest = Profile()
    for name in SCALARS:
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


def user_hits(
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
        None,  # every organisation's, as span_sums reads them (purpose_hits)
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
                two_places(value),
                two_places(rule.threshold),
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
        f"{percent(mine.adult_share)} of the {mine.found:,} learners they found were "
        "aged 20 or over, "
        + against(
            f"{percent(rest.adult_share)} of {rest.found:,}",
            None if own is None else f"{percent(own.adult_share)} of {own.found:,}",
        )
    ]
    if home is not None:
        parts.append(
            f"{percent(far(mine))} of the {mine.known:,} with a known area lived "
            f"further than {far_km} km from the registered address ({home}), "
            + against(
                f"{percent(far(rest))} of {rest.known:,}",
                None if own is None else f"{percent(far(own))} of {own.known:,}",
            )
        )
    else:
        parts.append("the registered address has no postcode area we know, so no "
                     "distances")  # fmt: skip
    parts.append(
        f"{percent(mine.detail_share)} of their {mine.searches:,} searches were by "
        "details, "
        + against(
            percent(rest.detail_share),
            None if own is None else percent(own.detail_share),
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
