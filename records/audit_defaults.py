"""Every audit rule's defaults (issues 5 and 13): the AuditRule rows the
nightly audit starts from, each with its threshold, minimum volume, whether a hit
suspends, and what it means in words; which rules are the purpose rules; and
audit_rules_ensure, which adds a rule that is missing (after every migrate, and
before every audit run). Caseworkers tune the rows in admin; nothing here
overwrites one.

The rules themselves are in records.audit_rules (the day's counts) and
records.purpose and records.purpose_user (what lookups are for); the migrations
that add the purpose rules read their rows from here (through records.purpose).
"""

from decimal import Decimal
from typing import Any

from records.models import AuditRule

Code = AuditRule.Code
PURPOSE_RULES = (
    Code.AGE_PROFILE,
    Code.GEOGRAPHIC_SPREAD,
    Code.DETAIL_SHARE,
    Code.PURPOSE_CHANGE,
    Code.USER_PURPOSE,
)

# The organisation purpose rules' defaults (added by migration 0016), as
# DEFAULT_RULES below: threshold, minimum volume, whether a hit suspends, and
# what it means.
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

# Each rule's defaults: threshold, minimum volume, whether a hit suspends, and
# what it means. Caseworkers tune them in admin; audit_rules_ensure only adds a
# rule that is missing, never overwrites one.
DEFAULT_RULES: tuple[tuple[str, Decimal, int, bool, str], ...] = (
    (
        "org_volume",
        Decimal("3"),
        20,
        True,
        "The organisation's searches in a day are above this multiple of its "
        "expected daily volume (declared learners a year over 200 working days), "
        "and above the minimum volume.",
    ),
    (
        "user_volume",
        Decimal("150"),
        0,
        True,
        "One user made more than this many searches in a day.",
    ),
    (
        "user_spike",
        Decimal("5"),
        50,
        False,
        "One user's searches are above this multiple of their own usual daily "
        "searches (the mean of their active days over the previous 28 days, "
        "false positives left out).",
    ),
    (
        "no_match_rate",
        Decimal("0.5"),
        20,
        False,
        "More than this share (0 to 1) of a user's searches by details found "
        "nobody: a sign of fishing for people who are not the organisation's "
        "students. Applies from the minimum volume of such searches.",
    ),
    (
        "consecutive_ulns",
        Decimal("20"),
        0,
        True,
        "A user searched a run of at least this many consecutive ULNs in a day: "
        "a sign of enumerating the register.",
    ),
    (
        "night_time",
        Decimal("30"),
        0,
        False,
        "A user made more than this many lookups outside working hours "
        "(AUDIT_WORKING_HOURS_START to AUDIT_WORKING_HOURS_END, UK time).",
    ),
    *DEFAULT_PURPOSE_RULES,
    *DEFAULT_USER_PURPOSE_RULES,
)


def audit_rules_ensure(**_: Any) -> None:
    """Create any missing audit rule with its defaults (after every migrate, and
    before every audit run): one query when none is missing."""
    present = set(AuditRule.objects.values_list("code", flat=True))
    for code, threshold, minimum, suspends, description in DEFAULT_RULES:
        if code in present:
            continue
        AuditRule.objects.get_or_create(
            code=code,
            defaults={
                "threshold": threshold,
                "minimum_volume": minimum,
                "suspends": suspends,
                "description": description,
            },
        )
