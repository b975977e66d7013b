"""Demo learners for `manage.py seed_demo` (after registration's demo).

About 3,000 synthetic learners with their achievements, and a few fixed learners
whose details docs/demo.md gives for trying the lookups. All of them load through
the import (records/loading.py), so a second run finds every row unchanged and
creates nothing. The synthetic ones are made with a fixed seed and date, so they
are the same on every machine and every day.
"""

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from records import audit
from records.links import learner_links_import
from records.loading import achievements_import, learners_import
from records.models import Learner, LearnerView
from records.synthetic import synthetic_write
from records.uln import uln_check_digit

SYNTHETIC_COUNT = 3000
SYNTHETIC_SEED = 2026
SYNTHETIC_AS_OF = date(2026, 1, 1)


@dataclass(frozen=True)
class DemoLearner:
    uln: str
    given_name: str
    family_name: str
    date_of_birth: date
    gender: int
    postcode: str
    email: str = ""

    def row(self) -> tuple[str, ...]:
        born = self.date_of_birth.isoformat()
        names = (self.uln, self.given_name, "", self.family_name, "")
        return (*names, born, str(self.gender), self.postcode, self.email)


AMELIA = DemoLearner(
    "9276308686",  # the worked example of the ULN check digit (domain.md 1.1)
    "Amelia",
    "Hughes",
    date(2007, 5, 14),
    2,
    "LS2 9JT",
    "amelia.hughes@example.com",
)
# The same name and date of birth at different postcodes: possible matches.
OLIVERS = (
    DemoLearner("5550001119", "Oliver", "Bennett", date(2005, 3, 2), 1, "M14 5RT"),
    DemoLearner("5550001127", "Oliver", "Bennett", date(2005, 3, 2), 1, "B15 2TT"),
)
# A second record made for Amelia at her old address, later merged into her
# record by the LRS: a search by its ULN answers Amelia's (WSRC0022).
AMELIA_MERGED = DemoLearner(
    "5550001151", "Amelia", "Hughes", date(2007, 5, 14), 2, "WF1 2DA"
)
RUBY = DemoLearner("5550001135", "Ruby", "Clarke", date(2012, 3, 9), 2, "NE6 1AS")
HARRY = DemoLearner("5550001143", "Harry", "Evans", date(1998, 6, 21), 1, "BFPO 57")
# Twelve Jack Smiths born on one day, at different postcodes: too many matches.
SMITH_BORN = date(2006, 9, 1)
SMITH_POSTCODES = (
    *("S10 2TN", "S11 8UE", "LS6 3HN", "M20 2RN", "B29 6BD", "L15 4HU"),
    *("CF24 4HQ", "BS5 9QP", "NG7 2RD", "G12 8QQ", "BT7 1NN", "E14 5AB"),
)


def _smiths() -> list[DemoLearner]:
    stems = (str(stem) for stem in range(555_000_200, 555_000_300))
    ulns = (f"{s}{check}" for s in stems if (check := uln_check_digit(s)) is not None)
    return [
        DemoLearner(uln, "Jack", "Smith", SMITH_BORN, 1, postcode)
        for uln, postcode in zip(ulns, SMITH_POSTCODES, strict=False)
    ]


FIXED = (AMELIA, AMELIA_MERGED, *OLIVERS, RUBY, HARRY, *_smiths())
# uln,master_uln: the merged record and the one it was merged into.
FIXED_LINKS = ((AMELIA_MERGED.uln, AMELIA.uln),)
FIXED_ACHIEVEMENTS = (
    (AMELIA.uln, "AQA", "GCSE (9-1) in Mathematics", "GCSE", "2", "Mathematics",
     "7", "2023-08-24", "10034567"),
    (AMELIA.uln, "AQA", "GCSE (9-1) in English Language", "GCSE", "2",
     "English Language", "8", "2023-08-24", "10034567"),
    (AMELIA.uln, "Pearson", "Pearson BTEC Level 3 National Extended Diploma in "
     "Health and Social Care", "BTEC National", "3", "Health and Social Care",
     "DDM", "2025-08-14", "10034567"),
    (OLIVERS[0].uln, "OCR", "GCSE (9-1) in Computer Science", "GCSE", "2",
     "Computer Science", "6", "2021-08-12", ""),
    (HARRY.uln, "City & Guilds", "Level 3 NVQ Diploma in Electrical Installation",
     "NVQ", "3", "Electrical Installation", "Pass", "2019-07-05", "10012345"),
)  # fmt: skip


# The fixed learners have seen the privacy notice and may share, but for Harry,
# who has not seen it: his record shows no achievements (WSEC0206). The import
# sets "not provided" for new learners and never changes it.
NOT_SHARING = HARRY


def _share() -> None:
    """Set the fixed learners' ability to share (a second run changes nothing)."""
    share = Learner.AbilityToShare
    Learner.objects.filter(uln__in=[f.uln for f in FIXED if f != NOT_SHARING]).exclude(
        ability_to_share=share.NOTICE_SEEN
    ).update(ability_to_share=share.NOTICE_SEEN)
    Learner.objects.filter(uln=NOT_SHARING.uln).exclude(
        ability_to_share=share.NOTICE_NOT_SEEN
    ).update(ability_to_share=share.NOTICE_NOT_SEEN)


_FIXED_ULNS = {learner.uln for learner in FIXED}
_FIXED_PEOPLE = {(f.family_name.upper(), f.date_of_birth.isoformat()) for f in FIXED}


def _not_fixed(row: tuple[str, ...]) -> bool:
    """A synthetic learner that cannot change the fixed learners' match outcomes."""
    return row[0] not in _FIXED_ULNS and (row[3].upper(), row[5]) not in _FIXED_PEOPLE


def _write(folder: Path) -> tuple[Path, Path, Path]:
    learners, achievements = folder / "learners.csv", folder / "achievements.csv"
    links = folder / "links.csv"
    with links.open("w", encoding="utf-8", newline="") as links_to:
        csv.writer(links_to, lineterminator="\n").writerows(
            (("uln", "master_uln"), *FIXED_LINKS)
        )
    with (
        learners.open("w", encoding="utf-8", newline="") as learners_to,
        achievements.open("w", encoding="utf-8", newline="") as achievements_to,
    ):
        synthetic_write(
            count=SYNTHETIC_COUNT,
            learners_to=learners_to,
            achievements_to=achievements_to,
            seed=SYNTHETIC_SEED,
            as_of=SYNTHETIC_AS_OF,
            keep=_not_fixed,
        )
        csv.writer(learners_to, lineterminator="\n").writerows(
            learner.row() for learner in FIXED
        )
        csv.writer(achievements_to, lineterminator="\n").writerows(FIXED_ACHIEVEMENTS)
    return learners, achievements, links


DEMO_REQUEST_ID = "demo-usage"
USAGE_DAYS = 14
# Searches a day by each demo user over the last two weeks; Swiftcheck's super
# user searched far beyond its declared 1,000 learners a year two days ago.
USAGE: dict[str, Callable[[int], int]] = {
    "tom.reed@northfield-college.example.com": lambda back: 6 + back % 5,
    "priya.shah@northfield-college.example.com": lambda back: 2 + back % 3,
    "alex.morgan@swiftcheck-screening.example.com": lambda back: (
        120 if back == 2 else 3 + back % 2
    ),
}


def _usage() -> str:
    """Two weeks of lookups by the demo providers, audited as the nightly job
    would (once: a second seed finds the rows and adds nothing)."""
    from lrs_portal.jobs import JobProgress, job_run
    from lrs_portal.models import User
    from registration.models import Suspension

    if LearnerView.objects.filter(request_id=DEMO_REQUEST_ID).exists():
        return "Usage: already loaded."
    users = {
        user.email: user
        for user in User.objects.filter(
            email__in=USAGE, membership__isnull=False
        ).select_related("membership")
    }
    if len(users) < len(USAGE):
        return "Usage: none loaded (the demo providers' accounts are missing)."
    today = datetime.now(UTC).date()
    rows = []
    for email, per_day in USAGE.items():
        user = users[email]
        organisation_id = user.membership.organisation_id
        for back in range(USAGE_DAYS, 0, -1):
            day = today - timedelta(days=back)
            start = datetime.combine(day, time(9), tzinfo=UTC)
            for n in range(per_day(back)):
                rows.append(
                    LearnerView(
                        user=user,
                        organisation_id=organisation_id,
                        action=LearnerView.Action.SEARCH_ULN,
                        outcome=LearnerView.Outcome.EXACT_MATCH
                        if n % 4
                        else LearnerView.Outcome.NO_MATCH,
                        viewed_at=start + timedelta(minutes=3 * n),
                        learner_uln=AMELIA.uln if n % 4 else "",
                        request_id=DEMO_REQUEST_ID,
                    )
                )
    LearnerView.objects.bulk_create(rows, batch_size=1000)
    days = [today - timedelta(days=back) for back in range(USAGE_DAYS, 0, -1)]

    def work(progress: JobProgress) -> None:
        for day in days:
            audit.audit_day(day, progress)

    job_run(audit.JOB, work)
    suspended = Suspension.objects.filter(
        source=Suspension.Source.USAGE_AUDIT, status=Suspension.Status.OPEN
    ).count()
    return (
        f"Usage: {len(rows):,} lookups over {USAGE_DAYS} days, audited; {suspended} "
        "suspension(s) opened. Sign in as alex.morgan@swiftcheck-screening.example.com "
        "to read and explain it (Suspensions), or as the caseworker to decide it "
        "(admin: Suspensions, and the casework dashboard)."
    )


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def seed() -> list[str]:
    """Load the demo learners and achievements (a second run changes nothing) and
    describe the ones to try."""
    with tempfile.TemporaryDirectory(prefix="lrs-demo-") as folder:
        learners_path, achievements_path, links_path = _write(Path(folder))
        learners = learners_import(path=learners_path)
        achievements = achievements_import(path=achievements_path)
        links = learner_links_import(path=links_path)
    if learners.rejected or achievements.rejected or links.rejected:
        rejections = learners.rejections + achievements.rejections + links.rejections
        raise RuntimeError(
            "The demo learners did not all load: " + "; ".join(map(str, rejections))
        )
    _share()
    bennett, smith = OLIVERS[0], _smiths()[0]
    usage = _usage()
    return [
        f"Learner records: {learners.rows_read:,} learners and "
        f"{achievements.rows_read:,} achievements ({learners.added:,} learners "
        "added this time). To try the lookups:",
        f"  ULN {AMELIA.uln}, or Amelia Hughes, female, born "
        f"{_long_date(AMELIA.date_of_birth)}, {AMELIA.postcode}: an exact match "
        "with 3 achievements",
        f"  Oliver Bennett, male, born {_long_date(bennett.date_of_birth)}: two "
        f"learners, at {OLIVERS[0].postcode} and {OLIVERS[1].postcode}; any other "
        "postcode gives possible matches",
        f"  Jack Smith, male, born {_long_date(smith.date_of_birth)}, at a postcode "
        f"none of them has (e.g. LS1 1AA): too many matches ({len(SMITH_POSTCODES)} "
        "learners)",
        f"  ULN {RUBY.uln} (Ruby Clarke, born {_long_date(RUBY.date_of_birth)}): "
        f"no achievements yet; ULN {HARRY.uln} (Harry Evans): a forces postcode, "
        f"{HARRY.postcode}, and he has not agreed to share his learning record, "
        "so his record shows no achievements (WSEC0206)",
        f"  ULN {AMELIA_MERGED.uln}: a record merged into Amelia Hughes's, so the "
        f"search answers hers ({AMELIA.uln}) as a linked learner match (WSRC0022)",
        "  ULN 9276308687 (a mistyped digit) and 9999999999 (the temporary ULN) "
        "are refused as not valid",
        usage,
    ]
