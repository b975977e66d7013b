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
"""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone

from lrs_portal.models import User
from records.jobs import audit_usage_run
from records.models import AuditRule, Learner, LearnerView, UsageAlert
from records.postcodes import area_centres, distance_km
from records.purpose import PURPOSE_RULES, learner_stamp
from records.uln import uln_check_digit
from registration.models import Membership, Organisation, Suspension

A = LearnerView.Action
OUT = LearnerView.Outcome
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
        # it found, as the lookups stamp it (records.purpose.learner_stamp).
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
    from records.audit import audit_rules_ensure  # the audit's own defaults

    audit_rules_ensure()
    for rule in AuditRule.objects.filter(code__in=PURPOSE_RULES):
        rule.enabled = on
        rule.save()


def _lookups(
    rng: random.Random,
    pool: Pool,
    provider: Provider,
    day: date,
    count: int,
    ages: tuple[float, ...],
    near: float,
    details: float,
    *,
    users: list[User] | None = None,
) -> list[LearnerView]:
    """count searches in working hours, 95 in 100 finding the learner, shared
    among the users (the provider's, if not given)."""
    users = users or provider.users
    rows = []
    for i in range(count):
        by_details = rng.random() < details
        found = rng.random() < 0.95
        uln = pool.draw(provider.home, ages, near) if found else ""
        if not found and not by_details:
            uln = f"{rng.randint(100_000_000, 999_999_999)}0"
        moment = datetime.combine(day, time(8 + (i * 7) % 10), tzinfo=UTC)
        band, area = learner_stamp(pool.learners[uln], day) if found else (None, "")
        rows.append(
            LearnerView(
                user=users[i % len(users)],
                organisation=provider.organisation,
                action=A.SEARCH_DEMOGRAPHICS if by_details else A.SEARCH_ULN,
                outcome=OUT.EXACT_MATCH if found else OUT.NO_MATCH,
                viewed_at=moment + timedelta(seconds=rng.randint(0, 3000)),
                learner_uln=uln,
                channel=rng.choice(LearnerView.Channel.values),
                learner_age_band=band,
                learner_area=area,
            )
        )
    return rows


def _misuse(
    rng: random.Random,
    pool: Pool,
    misuser: Provider,
    kinds: dict[str, Kind],
    day: date,
    month_day: int,
    enumerated: list[int],
) -> list[LearnerView]:
    """A misuser's day: before it starts, nothing (the reseller: its own)."""
    started = month_day >= misuser.starts
    if misuser.kind == MISUSERS[0]:
        if not started:
            return []
        return _lookups(rng, pool, misuser, day, 40, ADULTS_ANYWHERE, 0, 1.0)
    if misuser.kind == MISUSERS[1]:
        college = kinds[ORDINARY[0].name]
        rows = _lookups(rng, pool, misuser, day, 20, college.ages, college.near, 0.4)
        if started:  # as many again, for its client
            rows += _lookups(rng, pool, misuser, day, 20, ADULTS_ANYWHERE, 0, 1.0)
        return rows
    if misuser.kind == MISUSERS[3]:
        college = kinds[ORDINARY[0].name]
        rows = _lookups(
            rng, pool, misuser, day, STAFF_COLLEGE_DAILY, college.ages, college.near,
            college.details,
        )  # fmt: skip
        if started:  # one member, for a client of their own
            rows += _lookups(
                rng, pool, misuser, day, THIRD_PARTY_DAILY, ADULTS_ANYWHERE, 0, 1.0,
                users=misuser.users[:1],
            )  # fmt: skip
        return rows
    if not started:
        return []
    rows = []
    for i in range(60):  # the next 60 ULNs of the register, one by one
        stem = enumerated[0]
        while uln_check_digit(str(stem)) is None:
            stem += 1
        enumerated[0] = stem + 1
        rows.append(
            LearnerView(
                user=misuser.users[0],
                organisation=misuser.organisation,
                action=A.SEARCH_ULN,
                outcome=OUT.NO_MATCH,
                viewed_at=datetime.combine(day, time(10), tzinfo=UTC)
                + timedelta(seconds=i * 20),
                learner_uln=f"{stem}{uln_check_digit(str(stem))}",
                channel=LearnerView.Channel.API,
            )
        )
    return rows


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
