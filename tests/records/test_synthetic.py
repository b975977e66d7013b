import csv
import io
from datetime import date
from itertools import islice

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from records import demo
from records.loading import (
    ACHIEVEMENT_COLUMNS,
    LEARNER_COLUMNS,
    achievements_import,
    learners_import,
    normalise_postcode,
)
from records.models import Achievement, Learner, LearnerLink
from records.synthetic import (
    EMAIL_DOMAINS,
    synthetic_learners,
    synthetic_ulns,
    synthetic_write,
)
from records.uln import uln_problem

AS_OF = date(2026, 6, 1)


def generate(count: int, seed: int = 1, **kwargs) -> tuple[str, str]:
    learners, achievements = io.StringIO(), io.StringIO()
    synthetic_write(
        count=count,
        learners_to=learners,
        achievements_to=achievements,
        seed=seed,
        as_of=AS_OF,
        **kwargs,
    )
    return learners.getvalue(), achievements.getvalue()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- The learners file ---------------------------------------------------------


def test_the_same_seed_writes_the_same_files():
    assert generate(500, seed=7) == generate(500, seed=7)


def test_another_seed_writes_other_learners():
    first, second = generate(50, seed=1)[0], generate(50, seed=2)[0]

    assert {r["uln"] for r in rows(first)}.isdisjoint(r["uln"] for r in rows(second))


def test_the_learners_do_not_depend_on_writing_achievements():
    with_achievements = generate(200)[0]
    alone = io.StringIO()
    synthetic_write(count=200, learners_to=alone, seed=1, as_of=AS_OF)

    assert alone.getvalue() == with_achievements


def test_the_files_have_the_import_headers_and_the_rows_asked_for():
    learners, achievements = generate(300)

    assert learners.splitlines()[0] == ",".join(LEARNER_COLUMNS)
    assert achievements.splitlines()[0] == ",".join(ACHIEVEMENT_COLUMNS)
    assert len(rows(learners)) == 300


def test_every_uln_written_is_valid_and_different():
    ulns = list(islice(synthetic_ulns(seed=3), 50_000))

    assert all(uln_problem(uln) is None for uln in ulns)
    assert len(set(ulns)) == len(ulns)


def test_ulns_are_spread_over_the_whole_range():
    first_digits = {uln[0] for uln in islice(synthetic_ulns(seed=5), 1000)}

    assert first_digits == set("123456789")


def test_every_learner_is_plausible():
    for row in rows(generate(2000)[0]):
        assert uln_problem(row["uln"]) is None
        assert row["given_name"]
        assert row["family_name"]
        age = (AS_OF - date.fromisoformat(row["date_of_birth"])).days / 365.25
        assert 14 <= age < 61
        assert row["gender"] in {"0", "1", "2", "9"}
        assert normalise_postcode(row["postcode"]) == row["postcode"]
        assert not row["email"] or row["email"].endswith(EMAIL_DOMAINS)


def test_the_mix_looks_like_a_population():
    learners = rows(generate(5000)[0])

    genders = [row["gender"] for row in learners]
    assert 0.4 < genders.count("1") / len(genders) < 0.56
    assert 0.4 < genders.count("2") / len(genders) < 0.56
    assert 0.3 < sum(1 for row in learners if row["email"]) / len(learners) < 0.6
    assert len({row["family_name"] for row in learners}) > 200
    assert len({row["postcode"] for row in learners}) > 4500


def test_keep_turns_learners_down():
    learners, achievements = generate(100, keep=lambda row: row[6] == "2")

    assert {row["gender"] for row in rows(learners)} == {"2"}
    ulns = {row["uln"] for row in rows(learners)}
    assert {row["uln"] for row in rows(achievements)} <= ulns


# --- The achievements file -------------------------------------------------------


def test_each_learner_has_up_to_four_achievements_from_the_age_of_gcses():
    learners, achievements = generate(1000)
    born = {
        row["uln"]: date.fromisoformat(row["date_of_birth"]) for row in rows(learners)
    }
    awards = rows(achievements)
    per_learner: dict[str, int] = {}

    for award in awards:
        per_learner[award["uln"]] = per_learner.get(award["uln"], 0) + 1
        awarded = date.fromisoformat(award["award_date"])
        assert awarded <= AS_OF
        # GCSE results come in the August of the school year a learner turns 16.
        assert (awarded - born[award["uln"]]).days >= 15 * 365
    assert max(per_learner.values()) <= 4
    assert len(per_learner) < len(born)  # some learners have none
    keys = [
        (
            a["uln"],
            a["awarding_organisation"],
            a["qualification_title"],
            a["award_date"],
        )
        for a in awards
    ]
    assert len(set(keys)) == len(keys)


@pytest.mark.django_db
def test_the_files_import_without_a_rejected_row(tmp_path):
    learners, achievements = generate(400)
    (tmp_path / "l.csv").write_text(learners, encoding="utf-8")
    (tmp_path / "a.csv").write_text(achievements, encoding="utf-8")

    learner_summary = learners_import(path=tmp_path / "l.csv")
    achievement_summary = achievements_import(path=tmp_path / "a.csv")

    assert (learner_summary.added, learner_summary.rejected) == (400, 0)
    assert achievement_summary.rejected == 0
    assert achievement_summary.added == len(rows(achievements)) > 0


# --- The command -------------------------------------------------------------------


def test_generate_learners_writes_both_files_for_a_seed(tmp_path):
    out = io.StringIO()

    call_command(
        "generate_learners",
        "120",
        str(tmp_path / "l.csv"),
        "--seed",
        "4",
        "--achievements",
        str(tmp_path / "a.csv"),
        "--as-of",
        AS_OF.isoformat(),
        stdout=out,
    )

    learners, achievements = generate(120, seed=4)
    assert (tmp_path / "l.csv").read_text(encoding="utf-8") == learners
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == achievements
    assert "Wrote 120 learners to" in out.getvalue()
    assert f"Wrote {len(rows(achievements))} achievements to" in out.getvalue()


def test_generate_learners_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="No folder"):
        call_command("generate_learners", "5", str(tmp_path / "no" / "l.csv"))


def test_learners_are_aged_from_today_by_default():
    row = next(synthetic_learners(1, seed=1))

    assert row == next(synthetic_learners(1, seed=1, as_of=timezone.localdate()))


# --- The demo ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_loads_the_synthetic_and_the_fixed_learners():
    lines = demo.seed()

    assert Learner.objects.count() == demo.SYNTHETIC_COUNT + len(demo.FIXED)
    amelia = Learner.objects.get(uln="9276308686")
    assert (amelia.given_name, amelia.family_name, amelia.postcode) == (
        "Amelia",
        "Hughes",
        "LS2 9JT",
    )
    assert amelia.date_of_birth == date(2007, 5, 14)
    assert amelia.achievements.count() == 3
    assert Achievement.objects.count() > demo.SYNTHETIC_COUNT
    assert "ULN 9276308686, or Amelia Hughes" in "\n".join(lines)


@pytest.mark.django_db
def test_the_demo_has_the_pairs_it_describes():
    demo.seed()

    def same_person(family: str, born: date) -> list[tuple[str, str]]:
        found = Learner.objects.filter(family_name__iexact=family, date_of_birth=born)
        return list(found.values_list("given_name", "postcode"))

    assert sorted(same_person("Bennett", date(2005, 3, 2))) == [
        ("Oliver", "B15 2TT"),
        ("Oliver", "M14 5RT"),
    ]
    smiths = same_person("Smith", demo.SMITH_BORN)
    assert len(smiths) == 12 > 10
    # Amelia's second record is merged into hers: a search by details finds one.
    assert sorted(same_person("Hughes", date(2007, 5, 14))) == [
        ("Amelia", "LS2 9JT"),
        ("Amelia", "WF1 2DA"),
    ]
    assert Learner.objects.get(uln=demo.HARRY.uln).postcode == "BFPO 57"
    assert not Learner.objects.get(uln=demo.RUBY.uln).achievements.exists()


@pytest.mark.django_db
def test_one_demo_learner_has_not_agreed_to_share_and_the_hints_say_so():
    lines = "\n".join(demo.seed())
    demo.seed()  # a second run keeps the choices

    share = Learner.AbilityToShare
    fixed = dict(
        Learner.objects.filter(uln__in=[f.uln for f in demo.FIXED]).values_list(
            "uln", "ability_to_share"
        )
    )
    assert fixed.pop(demo.HARRY.uln) == share.NOTICE_NOT_SEEN
    assert set(fixed.values()) == {share.NOTICE_SEEN}
    assert Learner.objects.get(uln=demo.HARRY.uln).achievements.exists()
    assert f"ULN {demo.HARRY.uln} (Harry Evans)" in lines
    assert "he has not agreed to share his learning record" in lines


@pytest.mark.django_db
def test_the_demo_run_twice_creates_and_changes_nothing():
    demo.seed()
    learners = dict(Learner.objects.values_list("uln", "updated_at"))
    achievements = list(Achievement.objects.order_by("pk").values())

    lines = demo.seed()

    assert dict(Learner.objects.values_list("uln", "updated_at")) == learners
    assert list(Achievement.objects.order_by("pk").values()) == achievements
    assert "(0 learners added this time)" in lines[0]


@pytest.mark.django_db
def test_the_demo_holds_one_merged_uln_and_the_hints_name_it():
    lines = "\n".join(demo.seed())
    demo.seed()  # a second run adds no link

    link = LearnerLink.objects.select_related("learner", "master").get()
    assert (link.learner.uln, link.master.uln) == (
        demo.AMELIA_MERGED.uln,
        demo.AMELIA.uln,
    )
    assert f"ULN {demo.AMELIA_MERGED.uln}: a record merged into" in lines
