"""A month of lookups by ordinary providers and by misusers, through the real
nightly audit (issue 13): how soon each misuse is alerted, and how often an
ordinary provider is.

Used by ``bench/misuse_simulation.py`` (at least 500 ordinary providers over 30
working days) and, small, by the test suite. Ordinary providers are of five
kinds, each with its own volume, ages, spread and share of searches by details,
and an enrolment peak at the start of the month for the kinds that have one (a
further education college with two or more members has one for its adult
courses, who makes a quarter of its lookups: adults from nearby, mostly by
details);
they have ``warm_up`` working days of history before the month (they were
registered long before the purpose rules). The misusers: a screening firm that
searches by details for adults from all over the country within its declared
volume (new, no history); a further education college that starts searching
for a third party part way; a ULN enumerator; and one member of an otherwise
ordinary college (three members, 60 lookups a day) who starts searching 25 a
day for a third party (caught, if at all, by the per-user rule: the college's
whole shares move too little for its own rules). Everything is seeded: the same
arguments give the same figures.

The population (the kinds, the misusers, the pool of learners) is in
records.simulation_population, a day's lookups in records.simulation_lookups;
this module runs the month through the audit and reports what it found.
"""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from records.audit_defaults import PURPOSE_RULES, audit_rules_ensure
from records.jobs import audit_usage_run
from records.models import AuditRule, LearnerView, UsageAlert
from records.simulation_lookups import _lookups, _misuse
from records.simulation_population import (
    ADULTS_NEARBY,
    MISUSERS,
    ORDINARY,
    PEAK_DAYS,
    STAFF_COLLEGE_DAILY,
    Pool,
    Provider,
    _provider,
)
from registration.models import Suspension

# Moved to records.simulation_population (issue 18) and still importable from
# here.
__all__ = ["MISUSERS"]


@dataclass
class Result:
    """What the audit found: the alerts of each night, and the figures."""

    days: list[date]
    ordinary_days: int = 0  # ordinary organisation-days with a lookup
    false_positive_days: dict[str, set[tuple[int, date]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    detected: dict[str, dict[str, int | None]] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)  # organisation: its kind
    samples: list[str] = field(default_factory=list)  # false positives, in words
    suspended: dict[str, bool] = field(default_factory=dict)

    def false_positive_rate(self) -> float:
        every: set[tuple[int, date]] = set()
        for found in self.false_positive_days.values():
            every |= found
        return len(every) / max(self.ordinary_days, 1)


def working_days(count: int, *, last: date) -> list[date]:
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def simulate(
    *,
    ordinary_per_kind: int,
    days: int,
    warm_up: int,
    starts: tuple[int, int, int, int],
    seed: int = 2020,
    per_cell: int = 12,
    say: Callable[[str], None] = lambda _: None,
) -> Result:
    """Build the population, write each working day's lookups and audit it that
    night; return what the audit found. starts are the month's days (from 0) on
    which the screening firm, the reseller, the enumerator and the staff member
    begin."""
    rng = random.Random(seed)  # noqa: S311 # nosec B311 (a simulation, not a secret)
    yesterday = timezone.now().date() - timedelta(days=1)
    calendar = working_days(warm_up + days, last=yesterday)
    pool = Pool(rng, calendar[0], per_cell)
    homes = [area for area in pool.areas if pool.nearby[area]]
    providers: list[Provider] = []
    n = 0
    for kind in ORDINARY:
        for _ in range(ordinary_per_kind):
            n += 1
            users = 1 + int(kind.daily * kind.peak) // 40
            providers.append(
                _provider(n, kind.name, rng.choice(homes), kind.daily, users)
            )
    misusers = []
    sizes = (40, 20, 60, STAFF_COLLEGE_DAILY)
    for name, start, daily in zip(MISUSERS, starts, sizes, strict=True):
        n += 1
        members = 3 if name == MISUSERS[3] else 2
        one = _provider(
            n, name, rng.choice(homes), daily if name != MISUSERS[1] else 20, members
        )
        one.starts = start
        misusers.append(one)
    kinds = {kind.name: kind for kind in ORDINARY}
    result = Result(calendar[warm_up:])
    result.kinds = {p.organisation.pk: p.kind for p in (*providers, *misusers)}
    enumerated = [500_000_000]
    say(
        f"{len(providers)} ordinary providers, {len(misusers)} misusers, "
        f"{len(pool.cells) * per_cell:,} learners"
    )
    _purpose_rules(on=False)  # the warm-up is the time before the purpose rules
    for index, day in enumerate(calendar):
        month_day = index - warm_up
        if month_day == 0:
            _purpose_rules(on=True)
        rows: list[LearnerView] = []
        for provider in providers:
            kind = kinds[provider.kind]
            peak = 0 <= month_day < PEAK_DAYS and kind.peak > 1
            volume = kind.daily * (kind.peak if peak else 1)
            details = kind.details + (kind.peak_details if peak else 0)
            count = total = max(0, round(rng.gauss(volume, volume**0.5)))
            sharing = provider.users
            if kind.name == ORDINARY[0].name and len(sharing) > 1:
                # A college's adult-courses member: a quarter of its lookups,
                # adults from nearby, mostly by details (an ordinary specialist
                # the per-user rule must not take for a third party's searcher).
                adult = count // 4
                count -= adult
                rows += _lookups(
                    rng, pool, provider, day, adult, ADULTS_NEARBY, 0.95, 0.6,
                    users=sharing[-1:],
                )  # fmt: skip
                sharing = sharing[:-1]
            rows += _lookups(
                rng, pool, provider, day, count, kind.ages, kind.near, details,
                users=sharing,
            )  # fmt: skip
            if month_day >= 0 and total:
                result.ordinary_days += 1
        for misuser in misusers:
            rows += _misuse(rng, pool, misuser, kinds, day, month_day, enumerated)
        LearnerView.objects.bulk_create(rows, batch_size=2000)
        audit_usage_run(day=day)
        if month_day >= 0:
            _night(result, providers, misusers, day, month_day)
            say(f"night {month_day + 1}: {len(rows):,} lookups")
    for misuser in misusers:
        misuser.organisation.refresh_from_db()
        result.suspended[misuser.kind] = Suspension.objects.filter(
            organisation=misuser.organisation, source=Suspension.Source.USAGE_AUDIT
        ).exists()
    return result


def _purpose_rules(*, on: bool) -> None:
    audit_rules_ensure()
    for rule in AuditRule.objects.filter(code__in=PURPOSE_RULES):
        rule.enabled = on
        rule.save()


def _night(
    result: Result,
    providers: list[Provider],
    misusers: list[Provider],
    day: date,
    month_day: int,
) -> None:
    """Record the night's alerts: ordinary providers' as false positives, and
    each misuser's first night alerted by each rule."""
    ordinary = {provider.organisation.pk for provider in providers}
    for organisation_id, rule, details in UsageAlert.objects.filter(
        day=day
    ).values_list("organisation_id", "rule", "details"):
        if organisation_id in ordinary:
            if len(result.samples) < 10:
                kind = result.kinds[organisation_id]
                result.samples.append(f"{day} {kind}, {rule}: {details}")
            result.false_positive_days[rule].add((organisation_id, day))
            result.false_positive_days["any"].add((organisation_id, day))
    for misuser in misusers:
        found = result.detected.setdefault(misuser.kind, {})
        if month_day < misuser.starts:
            continue
        raised = UsageAlert.objects.filter(organisation=misuser.organisation, day=day)
        if misuser.kind == MISUSERS[3]:  # the right member, or the whole college
            raised = raised.filter(Q(user__isnull=True) | Q(user=misuser.users[0]))
        rules = set(raised.values_list("rule", flat=True))
        for rule in (*rules, "any") if rules else ():
            found.setdefault(rule, month_day - misuser.starts + 1)


def report(result: Result) -> list[str]:
    """The figures, per rule and overall, as lines of a Markdown table."""
    rules = sorted(
        {rule for found in result.detected.values() for rule in found}
        | set(result.false_positive_days)
    )
    lines = [
        "| rule | "
        + " | ".join(f"{name}: nights to alert" for name in MISUSERS)
        + " | false-positive organisation-days |",
        "|---|" + "---|" * (len(MISUSERS) + 1),
    ]
    for rule in rules:
        nights = [result.detected.get(name, {}).get(rule) for name in MISUSERS]
        cells = " | ".join("-" if night is None else str(night) for night in nights)
        fp = len(result.false_positive_days.get(rule, set()))
        lines.append(f"| {rule} | {cells} | {fp} of {result.ordinary_days:,} |")
    by_kind: dict[str, int] = defaultdict(int)
    for organisation_id, _ in result.false_positive_days.get("any", set()):
        by_kind[result.kinds.get(organisation_id, "?")] += 1
    lines.append(
        "\nFalse-positive organisation-days by kind: "
        + (", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items())) or "none")
    )
    lines.append(
        f"Ordinary organisation-days alerted: {result.false_positive_rate():.2%}; "
        + "; ".join(
            f"{name} suspended: {'yes' if result.suspended.get(name) else 'no'}"
            for name in MISUSERS
        )
    )
    if result.samples:
        lines += ["", "Some false positives:", *(f"- {one}" for one in result.samples)]
    return lines
