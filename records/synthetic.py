"""Synthetic learners and achievements for demos and benchmarks.

Realistic enough to exercise the import and the lookups: valid, distinct ULNs,
plausible UK names, ages 14 to 60, UK postcodes, some email addresses (at the
reserved example domains only) and 0 to 4 qualifications each. The same seed and
as_of date give the same files. Rows are streamed: a million learners take
seconds and little memory.
"""

import csv
import random
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from math import gcd
from operator import mul
from typing import TextIO, TypeVar

from django.utils import timezone

from records.loading import ACHIEVEMENT_COLUMNS, LEARNER_COLUMNS

# fmt: off
FEMALE_NAMES = (
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie",
    "Sophia", "Grace", "Freya", "Willow", "Florence", "Emily", "Ella", "Poppy",
    "Evie", "Elsie", "Charlotte", "Evelyn", "Sienna", "Sofia", "Daisy", "Phoebe",
    "Sophie", "Alice", "Harper", "Matilda", "Ruby", "Emilia", "Maya", "Millie",
    "Isabelle", "Eva", "Jessica", "Ellie", "Chloe", "Lucy", "Hannah", "Holly",
    "Megan", "Amy", "Lauren", "Bethany", "Katie", "Rebecca", "Laura", "Sarah",
    "Emma", "Rachel", "Nicola", "Claire", "Michelle", "Helen", "Joanne", "Kelly",
    "Gemma", "Victoria", "Natalie", "Zoe", "Jade", "Leah", "Abigail", "Molly",
    "Aisha", "Fatima", "Maryam", "Zainab", "Amira", "Hafsa", "Khadija", "Sana",
    "Priya", "Anjali", "Simran", "Harpreet", "Jasmine", "Nadia", "Yasmin",
    "Chiamaka", "Adaeze", "Ngozi", "Folake", "Abena", "Ama", "Zofia", "Julia",
    "Natalia", "Oliwia", "Maja", "Siân", "Cerys", "Ffion", "Eleri", "Niamh",
    "Aoife", "Siobhan", "Catriona", "Morag", "Eilidh", "Kirsty", "Zoë", "Chloé",
    "Mei", "Lan", "Hui", "Ayesha", "Hina", "Roxanne", "Tia", "Keira", "Demi",
)
MALE_NAMES = (
    "Oliver", "George", "Noah", "Arthur", "Leo", "Muhammad", "Harry", "Oscar",
    "Archie", "Henry", "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie",
    "Jacob", "Thomas", "Finley", "Arlo", "William", "Lucas", "Roman", "Tommy",
    "Isaac", "Teddy", "Alexander", "Luca", "Edward", "James", "Joshua", "Albie",
    "Elijah", "Max", "Mohammed", "Reuben", "Mason", "Sebastian", "Rory", "Jude",
    "Louie", "Benjamin", "Ethan", "Adam", "Hugo", "Joseph", "Reggie", "Ronnie",
    "Daniel", "Samuel", "Matthew", "Ryan", "Liam", "Callum", "Connor", "Kieran",
    "Jordan", "Lewis", "Jamie", "Ben", "Luke", "Nathan", "Aaron", "Kyle", "Owen",
    "David", "Michael", "Christopher", "Mark", "Paul", "Andrew", "Richard", "Simon",
    "Stephen", "Gareth", "Craig", "Darren", "Lee", "Wayne", "Dean", "Scott",
    "Ibrahim", "Yusuf", "Hamza", "Ali", "Omar", "Bilal", "Zain", "Ayaan", "Arjun",
    "Rohan", "Harjit", "Gurpreet", "Vikram", "Chinedu", "Emeka", "Oluwaseun",
    "Kwame", "Kofi", "Tunde", "Jakub", "Kacper", "Szymon", "Mateusz", "Piotr",
    "Dylan", "Rhys", "Iwan", "Dafydd", "Cian", "Oisín", "Seán", "Ruairi", "Euan",
    "Fraser", "Angus", "Hamish", "Wei", "Jun", "Minh", "Tariq", "Imran", "Kai",
)
FAMILY_NAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
    "Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker",
    "White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke",
    "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan",
    "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
    "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams",
    "Singh", "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers",
    "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell", "Matthews", "Owen",
    "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell",
    "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "Graham", "Pearson", "Ahmed", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard",
    "Andrews", "Stewart", "Elliott", "Reynolds", "Saunders", "Payne", "Fox",
    "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence", "Cole", "Atkinson",
    "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien", "Watts",
    "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis",
    "Rees", "Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter",
    "Gregory", "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods",
    "Parsons", "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding",
    "Porter", "Robertson", "Newton", "Oliver", "Reed", "Kennedy", "Williamson",
    "Bird", "Gardner", "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson",
    "Parry", "Burgess", "Bishop", "Walton", "Burns", "Nicholson", "Shepherd",
    "Ross", "Cross", "Long", "Freeman", "Warren", "Nicholls", "Hamilton", "Byrne",
    "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins",
    "O'Connor", "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers",
    "O'Neill", "Griffin", "Sharp", "Hardy", "Wheeler", "Potter", "Osborne",
    "Johnston", "Gordon", "Doyle", "Wallace", "George", "Jordan", "Hutchinson",
    "Rahman", "Chowdhury", "Miah", "Islam", "Uddin", "Iqbal", "Akhtar", "Mahmood",
    "Choudhury", "Mistry", "Sharma", "Kumar", "Gupta", "Okafor", "Adeyemi",
    "Okonkwo", "Mensah", "Boateng", "Asante", "Nowak", "Kowalski", "Wiśniewski",
    "Nguyen", "Chen", "Wong", "Li", "Zhang", "MacLeod", "MacKenzie", "Fraser",
    "Llewellyn", "Pritchard", "Vaughan", "Ó Briain", "Gallagher", "Quinn",
)
# Outward codes across the UK (inward codes are made up: digit, two letters).
OUTWARD_CODES = (
    "LS1", "LS2", "LS6", "LS11", "BD1", "BD7", "HX1", "HD1", "WF1", "YO10", "HU6",
    "S1", "S10", "S11", "DN1", "M1", "M13", "M14", "M20", "OL1", "BL1", "SK4",
    "WA1", "WN1", "PR1", "BB1", "LA1", "CA1", "L1", "L8", "L15", "CH1", "NE1",
    "NE6", "SR1", "DH1", "TS1", "DL1", "B1", "B15", "B29", "CV1", "CV4", "WV1",
    "WS1", "DY1", "ST4", "DE1", "NG1", "NG7", "LE1", "LE2", "LN1", "NN1", "MK9",
    "PE1", "CB1", "CB2", "NR1", "IP1", "CO1", "CM1", "SS1", "E1", "E14", "E17",
    "N1", "N17", "NW1", "NW10", "SE1", "SE15", "SW1A", "SW9", "SW19", "W1D",
    "W12", "EC1A", "WC1E", "IG1", "RM1", "CR0", "BR1", "KT1", "TW1", "HA1",
    "UB1", "EN1", "DA1", "ME1", "CT1", "TN1", "RH1", "GU1", "BN1", "PO1", "SO17",
    "BH1", "SP1", "RG1", "OX1", "OX4", "SN1", "HP1", "AL1", "LU1", "SG1", "WD17",
    "BS1", "BS5", "BA1", "GL1", "EX4", "PL4", "TR1", "TQ1", "TA1", "DT1", "HR1",
    "WR1", "CF10", "CF24", "SA1", "NP20", "LL57", "SY23", "LD1", "EH1", "EH8",
    "G1", "G12", "G42", "AB10", "DD1", "IV1", "KY16", "PA1", "FK8", "ML1", "KA1",
    "DG1", "TD1", "BT1", "BT7", "BT9", "BT48",
)
# fmt: on
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_INWARD_CODES = tuple(
    f"{digit}{a}{b}"
    for digit in range(10)
    for a in _INWARD_LETTERS
    for b in _INWARD_LETTERS
)
# Reserved for documentation (RFC 2606): never a real person's mailbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
# Gender codes weighted as per cent: male, female, not specified, not known.
_GENDERS = ("1",) * 48 + ("2",) * 49 + ("9",) * 2 + ("0",)

_STEM_FIRST = 100_000_000
_STEM_COUNT = 900_000_000  # 9-digit stems with a non-zero first digit
_STEM_WEIGHTS = range(10, 1, -1)


def synthetic_ulns(seed: int = 0) -> Iterator[str]:
    """Valid ULNs, all different, in a seeded scrambled order.

    Stem i is first + (a·i + b) mod count: with a coprime to count that visits
    every stem once, so no set of the ULNs written so far is needed. Stems that
    cannot carry a check digit (about 1 in 11) are skipped."""
    rng = random.Random(f"{seed}:uln")  # noqa: S311 (test data, not secrets)
    step = rng.randrange(_STEM_COUNT // 3, 2 * _STEM_COUNT // 3)
    while gcd(step, _STEM_COUNT) != 1:
        step += 1
    offset = rng.randrange(_STEM_COUNT)
    for i in range(_STEM_COUNT):
        stem = str(_STEM_FIRST + (step * i + offset) % _STEM_COUNT)
        # uln_check_digit's sum over the digits' ASCII codes, which add 48 x 54.
        remainder = (sum(map(mul, stem.encode(), _STEM_WEIGHTS)) - 2592) % 11
        if remainder:
            yield f"{stem}{10 - remainder}"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


T = TypeVar("T")


def _pick(rand: Callable[[], float], items: Sequence[T]) -> T:
    # Several times quicker than Random.choice, which matters a million times over.
    return items[int(rand() * len(items))]


_slugs: dict[str, str] = {}


def _slug(name: str) -> str:
    """A name as an email address's letters: Siân O'Brien -> sianobrien."""
    slug = _slugs.get(name)
    if slug is None:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
        slug = _slugs[name] = "".join(
            c for c in ascii_name.decode().lower() if c.isalnum()
        )
    return slug


def synthetic_learners(
    count: int, *, seed: int = 0, as_of: date | None = None
) -> Iterator[tuple[str, ...]]:
    """``count`` learner rows (cells in LEARNER_COLUMNS order), aged 14 to 60 on
    as_of (default today)."""
    as_of = as_of or timezone.localdate()
    youngest = _years_after(as_of, -14).toordinal()
    oldest = _years_after(as_of, -61).toordinal() + 1
    rng = random.Random(seed)  # noqa: S311
    rand = rng.random
    for uln in islice(synthetic_ulns(seed), count):
        gender = _pick(rand, _GENDERS)
        names = FEMALE_NAMES if gender == "2" else MALE_NAMES
        if gender in "09" and rand() < 0.5:
            names = FEMALE_NAMES if names is MALE_NAMES else MALE_NAMES
        given, family = _pick(rand, names), _pick(rand, FAMILY_NAMES)
        if rand() < 0.03:
            family = f"{family}-{_pick(rand, FAMILY_NAMES)}"
        middle = _pick(rand, names) if rand() < 0.35 else ""
        born = date.fromordinal(oldest + int(rand() * (youngest + 1 - oldest)))
        previous = ""
        if as_of.year - born.year > 25 and rand() < 0.06:
            previous = _pick(rand, FAMILY_NAMES)
        email = ""
        if rand() < 0.45:
            email = (
                f"{_slug(given)}.{_slug(family)}{1 + int(rand() * 99)}"
                f"@{_pick(rand, EMAIL_DOMAINS)}"
            )
        postcode = f"{_pick(rand, OUTWARD_CODES)} {_pick(rand, _INWARD_CODES)}"
        yield (
            *(uln, given, middle, family, previous),
            *(born.isoformat(), gender, postcode, email),
        )


# --- Achievements -------------------------------------------------------------------

ACADEMIC_SUBJECTS = (
    "Mathematics", "English Language", "English Literature", "Combined Science",
    "Biology", "Chemistry", "Physics", "History", "Geography", "French", "Spanish",
    "German", "Computer Science", "Religious Studies", "Art and Design",
    "Design and Technology", "Music", "Drama", "Physical Education", "Psychology",
    "Sociology", "Economics", "Business", "Media Studies", "Further Mathematics",
)  # fmt: skip
VOCATIONAL_SUBJECTS = (
    "Business", "Health and Social Care", "Information Technology", "Engineering",
    "Sport", "Applied Science", "Creative Media Production", "Construction",
    "Hospitality", "Hair and Beauty", "Childcare", "Electrical Installation",
    "Plumbing", "Motor Vehicle Maintenance", "Digital Production", "Accounting",
)  # fmt: skip
_EXAM_BOARDS = ("AQA", "OCR", "Pearson Edexcel", "WJEC Eduqas")
_VOCATIONAL_BODIES = ("City & Guilds", "NCFE", "Pearson", "Highfield Qualifications")


@dataclass(frozen=True)
class _Kind:
    qualification_type: str
    level: str
    organisations: tuple[str, ...]
    title: str  # with {subject}
    subjects: tuple[str, ...]
    grades: tuple[str, ...]
    age: int | None  # taken at this age in August, or None: any time after 16
    titles: tuple[tuple[str, str], ...] = field(init=False)  # (subject, title)

    def __post_init__(self) -> None:
        titles = tuple((s, self.title.format(subject=s)) for s in self.subjects)
        object.__setattr__(self, "titles", titles)


_KINDS = (
    _Kind("GCSE", "2", _EXAM_BOARDS, "GCSE (9-1) in {subject}", ACADEMIC_SUBJECTS,
          ("9", "8", "7", "6", "5", "4", "4", "5", "3", "2", "1"), 16),
    _Kind("GCE A level", "3", _EXAM_BOARDS, "GCE A level in {subject}",
          ACADEMIC_SUBJECTS, ("A*", "A", "B", "B", "C", "C", "D", "E"), 18),
    _Kind("BTEC National", "3", ("Pearson",),
          "Pearson BTEC Level 3 National Extended Diploma in {subject}",
          VOCATIONAL_SUBJECTS,
          ("D*D*D*", "DDD", "DDM", "DMM", "MMM", "MPP", "PPP"), 18),
    _Kind("T Level", "3", ("NCFE", "Pearson", "City & Guilds"),
          "T Level Technical Qualification in {subject}", VOCATIONAL_SUBJECTS,
          ("Distinction*", "Distinction", "Merit", "Pass"), 18),
    _Kind("Functional Skills", "2", _VOCATIONAL_BODIES,
          "Functional Skills Qualification in {subject} at Level 2",
          ("Mathematics", "English"), ("Pass",), None),
    _Kind("NVQ", "2", _VOCATIONAL_BODIES, "Level 2 NVQ Diploma in {subject}",
          VOCATIONAL_SUBJECTS, ("Pass", ""), None),
    _Kind("NVQ", "3", _VOCATIONAL_BODIES, "Level 3 NVQ Diploma in {subject}",
          VOCATIONAL_SUBJECTS, ("Pass", ""), None),
    _Kind("Award", "2", ("Highfield Qualifications",),
          "Level 2 Award in {subject}",
          ("Food Safety in Catering", "Health and Safety in the Workplace"),
          ("Pass",), None),
)  # fmt: skip
# How many qualifications a learner of 16 or over has: 0 to 4.
_HOW_MANY = (0,) * 20 + (1,) * 25 + (2,) * 25 + (3,) * 18 + (4,) * 12


def _award_date(
    rand: Callable[[], float], kind: _Kind, born: date, as_of: date
) -> date | None:
    if kind.age is not None:
        # Results day in the August of the school year the learner reaches the age.
        year = born.year + kind.age + (1 if born.month >= 9 else 0)
        awarded = date(year, 8, 12 + int(rand() * 14))
        return awarded if awarded <= as_of else None
    earliest = _years_after(born, 16).toordinal()
    if earliest > as_of.toordinal():
        return None
    return date.fromordinal(earliest + int(rand() * (as_of.toordinal() + 1 - earliest)))


def synthetic_achievements(
    learner: tuple[str, ...],
    rng: random.Random,
    *,
    as_of: date,
    providers: tuple[str, ...],
) -> list[tuple[str, ...]]:
    """0 to 4 achievement rows (cells in ACHIEVEMENT_COLUMNS order) for a learner
    row, awarded by as_of: GCSEs and A levels on results day of the school year
    the learner turns 16 or 18, the others at any time after their 16th birthday."""
    rand = rng.random
    uln, born = learner[0], date.fromisoformat(learner[5])
    rows: dict[tuple[str, str, date], tuple[str, ...]] = {}
    for _ in range(_pick(rand, _HOW_MANY)):
        kind = _pick(rand, _KINDS)
        awarded = _award_date(rand, kind, born, as_of)
        if awarded is None:
            continue
        organisation = _pick(rand, kind.organisations)
        subject, title = _pick(rand, kind.titles)
        ukprn = _pick(rand, providers) if rand() < 0.9 else ""
        rows[organisation, title, awarded] = (
            uln, organisation, title, kind.qualification_type, kind.level, subject,
            _pick(rand, kind.grades), awarded.isoformat(), ukprn,
        )  # fmt: skip
    return list(rows.values())


@dataclass(frozen=True)
class SyntheticCounts:
    learners: int
    achievements: int


def synthetic_write(
    *,
    count: int,
    learners_to: TextIO,
    achievements_to: TextIO | None = None,
    seed: int = 0,
    as_of: date | None = None,
    keep: Callable[[tuple[str, ...]], bool] | None = None,
) -> SyntheticCounts:
    """Write ``count`` synthetic learners as an import_learners CSV and, if asked,
    their achievements as an import_achievements CSV; how many of each were
    written (fewer learners when ``keep`` turns some down)."""
    as_of = as_of or timezone.localdate()
    learners = csv.writer(learners_to, lineterminator="\n")
    learners.writerow(LEARNER_COLUMNS)
    rows: Iterable[tuple[str, ...]] = synthetic_learners(count, seed=seed, as_of=as_of)
    if keep is not None:
        rows = filter(keep, rows)
    if achievements_to is None:
        written = 0
        for batch in _batches(rows, 10_000):
            learners.writerows(batch)
            written += len(batch)
        return SyntheticCounts(written, 0)
    achievements = csv.writer(achievements_to, lineterminator="\n")
    achievements.writerow(ACHIEVEMENT_COLUMNS)
    rng = random.Random(f"{seed}:achievements")  # noqa: S311
    providers = tuple(str(rng.randrange(10_000_000, 10_099_999)) for _ in range(60))
    written = awarded = 0
    for batch in _batches(rows, 10_000):
        learners.writerows(batch)
        awards = [
            award
            for row in batch
            for award in synthetic_achievements(
                row, rng, as_of=as_of, providers=providers
            )
        ]
        achievements.writerows(awards)
        written += len(batch)
        awarded += len(awards)
    return SyntheticCounts(written, awarded)


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
