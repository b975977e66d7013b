"""An organisation's purpose profile over a span of days (issue 13; decision
25), as the purpose rules read it: Span, a run of days; each organisation's
totals over one, the days of its open purpose alerts left out if asked (span_sums,
one aggregate for every organisation); the whole profile, bands and areas too
(profile_over, profiles_over); and a profile in words and figures a caseworker
can check (profile_words), which the alerts and the admin's purpose panel show.
Read from the PurposeDay rows records.purpose_days writes; judged by
records.purpose and records.purpose_user.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Sum

from records.audit_defaults import PURPOSE_RULES
from records.models import PurposeDay, UsageAlert
from records.purpose_profile import ADULT_FROM_BAND, AGE_BANDS, Profile, share_of

SCALARS = ("searches", "detail_searches", "found", "adults", "near", "known")


@dataclass(frozen=True)
class Span:
    """A run of days the rules read, with the organisation-days left out."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def span_sums(
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
        .annotate(**{f"t_{name}": Sum(name) for name in SCALARS}, t_days=Count("pk"))
    )
    result: dict[int, tuple[Profile, int]] = {}
    for row in totals:
        profile = Profile()
        for name in SCALARS:
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


def percent(share: Decimal | None) -> str:
    if share is None:
        return "-"
    return f"{(share * 100).quantize(Decimal(1))}%"


def profile_words(profile: Profile, days: int, home: str | None) -> str:
    """The profile in words and figures a caseworker can check."""
    near_km = settings.AUDIT_NEAR_KM
    adult_bands = ", ".join(
        f"{name}: {percent(share_of(count, profile.found))}"
        for name, count in list(zip(AGE_BANDS, profile.age_bands, strict=True))[
            ADULT_FROM_BAND:
        ]
    )
    span = "1 day" if days == 1 else f"{days} days"
    words = (
        f"{percent(profile.adult_share)} of the {profile.found:,} learners found in "
        f"{span} were aged 20 or over ({adult_bands})"
    )
    if home is None:
        words += (
            "; the registered address has no postcode area we know, so no distances"
        )
    else:
        words += (
            f"; {percent(profile.near_share)} of the {profile.known:,} with a known "
            f"area lived within {near_km} km of the registered address ({home})"
        )
    words += f"; {profile.area_count} postcode areas"
    if profile.searches:
        words += (
            f"; {percent(profile.detail_share)} of {profile.searches:,} searches "
            "were by details"
        )
    return words + "."
