from datetime import date

import pytest
from django.db import connection
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from records.models import Achievement, Learner, LearnerView, UsageAlert
from records.services import (
    InvalidUln,
    LookupRefused,
    learner_search_by_demographics,
    learner_search_by_uln,
    learner_view,
    lookup_allowance,
    organisation_daily_cap,
)
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

pytestmark = pytest.mark.django_db
OUTCOME = LearnerView.Outcome
DOB = date(2007, 5, 14)


def make_learner(uln="9276308686", **kwargs) -> Learner:
    values = {
        "given_name": "Amelia",
        "family_name": "Hughes",
        "date_of_birth": DOB,
        "gender": 2,
        "postcode": "LS2 9JT",
    }
    values.update(kwargs)
    return Learner.objects.create(uln=uln, **values)


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def organisation(version):
    return OrganisationFactory.create(last_signed_version=version)


@pytest.fixture
def searcher(organisation):
    return member_of(organisation)


def _by_demographics(user, **overrides):
    values = {
        "given_name": "Amelia",
        "family_name": "Hughes",
        "date_of_birth": DOB,
        "gender": 2,
        "postcode": "LS2 9JT",
    }
    values.update(overrides)
    return learner_search_by_demographics(user=user, request_id="req-1", **values)


def test_a_uln_search_logs_one_row_before_returning_the_learner(searcher):
    learner = make_learner()

    result = learner_search_by_uln(user=searcher, uln="9276308686", request_id="abc")

    assert result.outcome == OUTCOME.EXACT_MATCH
    assert result.learner == learner
    row = LearnerView.objects.get()
    assert row.user == searcher
    assert row.organisation == searcher.membership.organisation
    assert row.action == LearnerView.Action.SEARCH_ULN
    assert row.learner_uln == "9276308686"
    assert row.request_id == "abc"


def test_a_uln_with_no_learner_is_a_logged_no_match(searcher):
    result = learner_search_by_uln(user=searcher, uln="1964986809", request_id="x")

    assert result.outcome == OUTCOME.NO_MATCH
    assert LearnerView.objects.get().outcome == OUTCOME.NO_MATCH


@pytest.mark.parametrize("bad", ["1234567890", "0000000042", "9999999999", "12345"])
def test_a_bad_uln_is_refused_before_any_search_or_log(searcher, bad):
    with pytest.raises(InvalidUln):
        learner_search_by_uln(user=searcher, uln=bad, request_id="x")

    assert not LearnerView.objects.exists()


def test_the_log_holds_no_names_dates_of_birth_or_postcodes(searcher):
    make_learner()
    _by_demographics(searcher)

    row = LearnerView.objects.values().get()
    # Row ids and timestamps are numbers that could contain "2007" by chance.
    text = " ".join(str(v) for k, v in row.items() if k not in {"id", "viewed_at"})
    for personal in ("Amelia", "Hughes", "2007", "LS2"):
        assert personal not in text


def test_five_matching_demographics_are_an_exact_match(searcher):
    learner = make_learner()

    result = _by_demographics(
        searcher, given_name=" amelia ", family_name="HUGHES", postcode="ls29jt"
    )

    assert result.outcome == OUTCOME.EXACT_MATCH
    assert result.learner == learner


def test_two_near_learners_are_possible_matches(searcher):
    make_learner("9276308686", postcode="LS2 9JT")
    make_learner("1964986809", postcode="M1 1AE")

    result = _by_demographics(searcher, postcode="BD1 1AA")

    assert result.outcome == OUTCOME.POSSIBLE_MATCHES
    assert len(result.candidates) == 2
    assert LearnerView.objects.get().match_count == 2


def test_more_than_ten_candidates_is_too_many_and_shows_none(searcher):
    from records.uln import uln_check_digit

    made = 0
    stem = 100000000
    while made < 11:
        stem += 1
        digit = uln_check_digit(str(stem))
        if digit is not None:
            make_learner(f"{stem}{digit}", postcode=f"LS{made + 1} 1AA")
            made += 1

    result = _by_demographics(searcher, postcode="BD1 1AA")

    assert result.outcome == OUTCOME.TOO_MANY_MATCHES
    assert result.candidates == []
    assert result.learner is None


def test_no_candidate_is_no_match(searcher):
    make_learner()

    result = _by_demographics(searcher, family_name="Smith")

    assert result.outcome == OUTCOME.NO_MATCH


SHARE = Learner.AbilityToShare


def _with_an_achievement(**kwargs) -> Learner:
    learner = make_learner(**kwargs)
    Achievement.objects.create(
        learner=learner,
        awarding_organisation="AQA",
        qualification_title="GCSE (9-1) in Mathematics",
        qualification_type="GCSE",
        level="2",
        subject="Mathematics",
        award_date=date(2023, 8, 24),
    )
    return learner


def test_viewing_a_record_logs_a_view(searcher):
    learner = _with_an_achievement(ability_to_share=SHARE.NOTICE_SEEN)

    shown = learner_view(user=searcher, learner_id=learner.pk, request_id="r")

    assert shown.learner == learner
    assert shown.shared is True
    assert shown.code == ""
    assert [a.subject for a in shown.achievements] == ["Mathematics"]
    row = LearnerView.objects.get()
    assert row.action == LearnerView.Action.VIEW_RECORD
    assert row.outcome == OUTCOME.SHOWN
    assert row.learner_uln == learner.uln


@pytest.mark.parametrize("choice", [SHARE.NOT_PROVIDED, SHARE.NOTICE_NOT_SEEN])
def test_a_learner_who_has_not_agreed_to_share_has_their_achievements_withheld(
    searcher, choice
):
    learner = _with_an_achievement(ability_to_share=choice)

    shown = learner_view(user=searcher, learner_id=learner.pk, request_id="r")

    assert shown.learner == learner
    assert shown.shared is False
    assert shown.achievements == []
    assert shown.code == "WSEC0206"
    row = LearnerView.objects.get()
    assert row.action == LearnerView.Action.VIEW_RECORD
    assert row.outcome == OUTCOME.NOT_SHARED
    assert row.learner_uln == learner.uln
    assert row.match_count == 1


def test_withheld_achievements_are_not_read(searcher, django_assert_num_queries):
    shared = _with_an_achievement(ability_to_share=SHARE.NOTICE_SEEN)
    withheld = _with_an_achievement(
        uln="5550001119", ability_to_share=SHARE.NOTICE_NOT_SEEN
    )
    with CaptureQueriesContext(connection) as shown:
        learner_view(user=searcher, learner_id=shared.pk, request_id="r1")

    with django_assert_num_queries(len(shown) - 1) as captured:
        learner_view(user=searcher, learner_id=withheld.pk, request_id="r2")

    assert not any("records_achievement" in q["sql"] for q in captured)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Organisation.Status.SUSPENDED}, "organisation_suspended"),
        ({"status": Organisation.Status.REVOKED}, "organisation_revoked"),
        ({"status": Organisation.Status.DEREGISTERED}, "organisation_deregistered"),
        ({"last_signed_version": None}, "agreement_not_signed"),
        ({"purpose_approved_at": None}, "purpose_not_approved"),
    ],
)
def test_the_gate_refuses_an_organisation_without_access(
    searcher, organisation, change, code
):
    for field, value in change.items():
        setattr(organisation, field, value)
    organisation.save()
    make_learner()

    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")

    assert refused.value.refusal.code == code
    assert not LearnerView.objects.exists()


def test_a_signature_of_an_old_version_is_not_enough(searcher):
    AgreementVersionFactory.create()  # a newer version the organisation has not signed

    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")

    assert refused.value.refusal.code == "agreement_not_signed"


def test_the_gate_refuses_users_without_terms_or_organisation(searcher, outsider):
    membership = searcher.membership
    membership.terms_accepted_at = None
    membership.save()

    for user, code in ((searcher, "terms"), (outsider, "not_a_member")):
        with pytest.raises(LookupRefused) as refused:
            learner_search_by_uln(user=user, uln="9276308686", request_id="x")
        assert refused.value.refusal.code == code


def test_an_inactive_user_is_refused(searcher):
    searcher.is_active = False
    searcher.save()

    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")

    assert refused.value.refusal.code == "inactive"


def test_the_hourly_user_cap_blocks_at_once_and_raises_one_alert(
    searcher, organisation, settings
):
    settings.LOOKUP_USER_HOURLY_CAP = 3
    colleague = member_of(organisation)
    for _ in range(3):
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")

    for _ in range(2):
        with pytest.raises(LookupRefused) as refused:
            learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")
        assert refused.value.refusal.code == "user_cap"

    alert = UsageAlert.objects.get()
    assert alert.rule == "realtime_user_hourly_cap"
    assert alert.user == searcher
    assert LearnerView.objects.filter(outcome=OUTCOME.REFUSED).count() == 2
    # A colleague is not blocked by someone else's cap.
    learner_search_by_uln(user=colleague, uln="9276308686", request_id="x")


def test_the_daily_organisation_cap_blocks_every_user(searcher, organisation, settings):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 2
    settings.LOOKUP_ORG_DAILY_MULTIPLIER = 1
    organisation.estimated_learners_per_year = 10
    organisation.save()
    colleague = member_of(organisation)
    assert organisation_daily_cap(organisation) == 2
    learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")
    learner_search_by_uln(user=colleague, uln="9276308686", request_id="x")

    with pytest.raises(LookupRefused) as refused:
        _by_demographics(searcher)

    assert refused.value.refusal.code == "organisation_cap"
    assert UsageAlert.objects.get().subject_type == UsageAlert.Subject.ORGANISATION


def test_every_log_row_names_its_channel(searcher):
    learner = make_learner()
    learner_search_by_uln(user=searcher, uln=learner.uln, request_id="p")
    _by_demographics(searcher, channel=LearnerView.Channel.BATCH)
    learner_view(
        user=searcher,
        learner_id=learner.pk,
        request_id="a",
        channel=LearnerView.Channel.API,
    )

    channels = list(LearnerView.objects.order_by("id").values_list("action", "channel"))
    assert channels == [
        (LearnerView.Action.SEARCH_ULN, "page"),
        (LearnerView.Action.SEARCH_DEMOGRAPHICS, "batch"),
        (LearnerView.Action.VIEW_RECORD, "api"),
    ]


def test_the_allowance_is_what_the_tighter_cap_leaves(searcher, organisation, settings):
    settings.LOOKUP_USER_HOURLY_CAP = 5
    settings.LOOKUP_ORG_DAILY_MINIMUM = 3
    settings.LOOKUP_ORG_DAILY_MULTIPLIER = 1
    organisation.estimated_learners_per_year = 10
    organisation.save()
    membership = searcher.membership
    assert lookup_allowance(membership).searches == 3

    colleague = member_of(organisation)
    learner_search_by_uln(user=colleague, uln="9276308686", request_id="x")
    allowance = lookup_allowance(membership)

    assert (allowance.user_remaining, allowance.organisation_remaining) == (5, 2)
    assert allowance.searches == 2
    for _ in range(2):
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")
    assert lookup_allowance(membership).searches == 0


def test_the_daily_cap_follows_the_declared_volume(settings):
    settings.LOOKUP_ORG_DAILY_MINIMUM = 20
    settings.LOOKUP_ORG_DAILY_MULTIPLIER = 3
    small = OrganisationFactory.build(estimated_learners_per_year=100)
    large = OrganisationFactory.build(estimated_learners_per_year=20000)

    assert organisation_daily_cap(small) == 20
    assert organisation_daily_cap(large) == 300


@pytest.mark.postgres
def test_the_uln_lookup_is_an_index_scan(searcher):
    make_learner()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT * FROM records_learner WHERE uln = %s", ["9276308686"]
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")

    assert "Index" in plan
    assert "learner_uln_unique" in plan


@pytest.mark.postgres
def test_the_demographic_search_uses_the_expression_index(searcher):
    from records.uln import uln_check_digit

    # Enough varied learners for the planner's statistics to mean something.
    learners, stem = [], 200000000
    while len(learners) < 3000:
        stem += 1
        digit = uln_check_digit(str(stem))
        if digit is not None:
            n = len(learners)
            learners.append(
                Learner(
                    uln=f"{stem}{digit}",
                    given_name="Sam",
                    family_name=f"Family{n % 700}",
                    date_of_birth=date(1990 + n % 20, 1 + n % 12, 1 + n % 28),
                    gender=1,
                    postcode="LS1 1AA",
                )
            )
    Learner.objects.bulk_create(learners)
    make_learner()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_learner")
    queryset = (
        Learner.objects.annotate(family_upper=Upper("family_name"))
        .filter(family_upper="HUGHES", date_of_birth=DOB)
        .order_by("date_of_birth", "uln")[:51]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    plan = queryset.explain()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = on")

    assert "learner_family_dob_idx" in plan


def test_an_earlier_signature_holds_until_the_resign_deadline(searcher):
    from datetime import timedelta

    from django.utils import timezone

    newer = AgreementVersionFactory.create(
        resign_deadline=timezone.localdate() + timedelta(days=30)
    )
    learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")

    newer.resign_deadline = timezone.localdate() - timedelta(days=1)
    newer.save()
    with pytest.raises(LookupRefused) as refused:
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="x")
    assert refused.value.refusal.code == "agreement_not_signed"


def test_a_search_records_the_members_last_lookup_day_for_housekeeping(searcher):
    from django.utils import timezone

    learner_search_by_uln(user=searcher, uln="1964986809", request_id="x")

    searcher.membership.refresh_from_db()
    assert searcher.membership.last_lookup_on == timezone.now().date()
