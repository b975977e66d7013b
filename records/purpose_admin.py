"""The purpose profile in admin (issue 13): an organisation's, and an alert's,
as bar charts (server-rendered SVG, each with a table of the same figures)
beside what the organisation declared. records adds the panel to the
organisation's page through lrs_portal.admin's registry; registration never
imports records."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from lrs_portal.admin import Panel, admin_panel_register
from records.audit_defaults import PURPOSE_RULES
from records.models import PurposeDay, UsageAlert
from records.purpose_profile import AGE_BANDS, DISTANCE_BANDS, Profile, registered_areas
from records.purpose_spans import profile_over, profile_words
from registration.models import Organisation

ORGANISATION_DAYS = 28
_BAR_HEIGHT = 18
_LABEL_WIDTH = 110
_BAR_WIDTH = 320
_TOP_AREAS = 12


def bar_chart(title: str, labels: list[str], counts: list[int]) -> dict[str, Any]:
    """Horizontal bars as SVG coordinates, with each bar's share of the total."""
    total = sum(counts)
    top = max([*counts, 1])
    bars = []
    for index, (label, count) in enumerate(zip(labels, counts, strict=True)):
        width = round(_BAR_WIDTH * count / top)
        y = 4 + index * (_BAR_HEIGHT + 4)
        bars.append(
            {
                "label": label,
                "count": count,
                "share": round(100 * count / total) if total else 0,
                "y": y,
                "text_y": y + _BAR_HEIGHT - 5,
                "width": width,
                "value_x": _LABEL_WIDTH + width + 6,
            }
        )
    return {
        "title": title,
        "bars": bars,
        "total": total,
        "label_width": _LABEL_WIDTH,
        "bar_height": _BAR_HEIGHT,
        "width": _LABEL_WIDTH + _BAR_WIDTH + 70,
        "height": 8 + len(bars) * (_BAR_HEIGHT + 4),
    }


def _declared(organisation: Organisation) -> list[tuple[str, str]]:
    rows = [
        ("Purpose", organisation.purpose or "-"),
        ("Learners a year (declared)", f"{organisation.estimated_learners_per_year:,}"),
        ("Registered address's postcode area", _home(organisation) or "not known"),
        (
            "Ages of learners served (declared)",
            organisation.learner_ages_display or "not declared",
        ),
        (
            "Where learners come from (declared)",
            organisation.learner_reach_display or "not declared",
        ),
    ]
    return rows


def _home(organisation: Organisation) -> str | None:
    return registered_areas({organisation.pk}).get(organisation.pk)


def profile_context(
    organisation: Organisation, first: date, last: date, *, user_id: int | None = None
) -> dict[str, Any]:
    """The organisation's profile over the days, charted, with its users'; with
    user_id, that user's own profile in the organisation (a user_purpose alert)."""
    if user_id is None:
        profile = profile_over(organisation.pk, first, last)
    else:
        profile = Profile()
        for row in PurposeDay.objects.filter(
            organisation=organisation, user_id=user_id, day__gte=first, day__lte=last
        ):
            profile.add(Profile.of(row))
    days = (last - first).days + 1
    areas = sorted(
        ((area, n) for area, n in profile.areas.items()), key=lambda item: -item[1]
    )
    shown, rest = areas[:_TOP_AREAS], sum(n for _, n in areas[_TOP_AREAS:])
    area_labels = [area if area != "?" else "unknown" for area, _ in shown]
    area_counts = [n for _, n in shown]
    if rest:
        area_labels.append("other areas")
        area_counts.append(rest)
    return {
        "first": first,
        "last": last,
        "found": profile.found,
        "words": profile_words(profile, days, _home(organisation)),
        "declared": _declared(organisation),
        "charts": [
            bar_chart("Ages of the learners found", list(AGE_BANDS), profile.age_bands),
            bar_chart(
                "Distance from the registered address",
                list(DISTANCE_BANDS),
                profile.distance_bands,
            ),
            bar_chart("Postcode areas", area_labels, area_counts),
        ],
        "users": _users(organisation, first, last),
    }


def _users(organisation: Organisation, first: date, last: date) -> list[dict[str, Any]]:
    """Each user's share of the profile (the same figures, per user)."""
    per_user: dict[int, Profile] = {}
    emails: dict[int, str] = {}
    rows = PurposeDay.objects.filter(
        organisation=organisation, user__isnull=False, day__gte=first, day__lte=last
    ).select_related("user")
    for row in rows:
        assert row.user_id is not None  # noqa: S101 (filtered above)
        per_user.setdefault(row.user_id, Profile()).add(Profile.of(row))
        emails[row.user_id] = row.user.email if row.user else str(row.user_id)
    return [
        {
            "email": emails[user_id],
            "found": p.found,
            "adults": _pct(p.adult_share),
            "near": _pct(p.near_share),
            "details": _pct(p.detail_share),
        }
        for user_id, p in sorted(per_user.items(), key=lambda item: -item[1].found)
    ]


def _pct(share: Any) -> str:
    return "-" if share is None else f"{round(100 * share)}%"


def organisation_profile_panel(organisation: Organisation) -> Panel | None:
    """The last 28 days' profile on the organisation's admin page."""
    last = timezone.now().date() - timedelta(days=1)
    first = last - timedelta(days=ORGANISATION_DAYS - 1)
    context = profile_context(organisation, first, last)
    context["heading"] = f"What its lookups found: the {ORGANISATION_DAYS} days to"
    return Panel("admin/records/includes/purpose_profile.html", context)


def alert_profile_panel(alert: UsageAlert) -> Panel | None:
    """An alert's organisation's profile over the days its rule judged (the
    window; a change, the day itself), for a purpose rule's alert."""
    if alert.rule not in PURPOSE_RULES:
        return None
    first = alert.day - timedelta(days=settings.AUDIT_PURPOSE_WINDOW_DAYS - 1)
    if alert.rule == "purpose_change":
        first = alert.day
    if alert.subject_type == UsageAlert.Subject.USER and alert.user_id is not None:
        # The user's own lookups over the window (the rule judged the day or the
        # window), beside the organisation's users' table of the same days.
        context = profile_context(
            alert.organisation, first, alert.day, user_id=alert.user_id
        )
        context["heading"] = (
            f"What {alert.user.email if alert.user else 'this user'}'s own "
            "lookups found: the window the rule judged, to"
        )
        return Panel("admin/records/includes/purpose_profile.html", context)
    context = profile_context(alert.organisation, first, alert.day)
    context["heading"] = "What its lookups found: the days the rule judged, to"
    return Panel("admin/records/includes/purpose_profile.html", context)


admin_panel_register(Organisation, organisation_profile_panel)
admin_panel_register(UsageAlert, alert_profile_panel)
