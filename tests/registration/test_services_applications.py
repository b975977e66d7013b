from datetime import date, timedelta

import pytest
from django.utils import timezone

from lrs_portal.models import Notification
from lrs_portal.transitions import TransitionNotAllowed
from registration import permissions
from registration.companies_house import company_fetch
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    AwardingOrganisationAccreditation,
    CheckKind,
    IcoRegistration,
    Organisation,
    RegistrationApplication,
)
from registration.services import (
    ApprovalBlocked,
    agreement_sign,
    agreement_version_publish,
    application_approve,
    application_missing_sections,
    application_record_follow_up,
    application_reject,
    application_request_information,
    application_run_checks,
    application_start,
    application_submit,
    approval_blockers,
    check_record_outcome,
    organisation_revoke,
    reregistration_start,
    signing_request_send,
)
from registration.services.agreements import SigningRefused
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    letter_code,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
A = RegistrationApplication.Status
R = ApplicationCheck.Result


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def ico_entry():
    return IcoRegistration.objects.create(
        registration_number="Z1234567",
        organisation_name="NORTHFIELD COLLEGE LIMITED",
        start_date=date(2020, 1, 1),
        end_date=timezone.localdate() + timedelta(days=365),
    )


@pytest.fixture
def draft(ico_entry):
    application = RegistrationApplicationFactory.create(
        signing_director_name="OKAFOR, Grace Adaeze",
        signing_director_appointment="/company/09876543/appointments/grace-okafor",
    )
    company_fetch(company_number=application.companies_house_number)
    return application


def _token(reference="agreement.signing_link") -> str:
    body = Notification.objects.filter(reference=reference).latest("created_at").body
    return body.split("/agreement/sign/")[1].split("/")[0]


def _sign(application, acting_user):
    signing_request_send(acting_user=acting_user, application=application)
    return agreement_sign(
        token=_token(),
        typed_name="Grace Okafor",
        code=letter_code(),
        confirmed=True,
        ip_address="192.0.2.7",
        user_agent="Firefox",
    )


def _submit(application):
    application = application_submit(
        application=application, acting_user=application.applicant
    )
    application_run_checks(application=application, acting_user=application.applicant)
    return application


def _pass_every_check(application, caseworker):
    for check in application.checks.all():
        check_record_outcome(
            check=check, acting_user=caseworker, outcome="pass", notes="Checked"
        )


def test_starting_twice_returns_the_same_open_application():
    applicant = UserFactory.create()

    first = application_start(applicant=applicant)
    second = application_start(applicant=applicant)

    assert first == second
    assert first.reference.startswith("LRS-")
    assert first.super_user_email == applicant.email


def test_missing_sections_name_what_is_left_to_do():
    application = application_start(applicant=UserFactory.create())

    assert application_missing_sections(application) == [
        "organisation_details",
        "accreditation",
        "going_concern",
        "purpose",
        "learners_served",
        "signing_director",
    ]


def test_an_application_cannot_be_submitted_before_the_company_is_looked_up(ico_entry):
    application = RegistrationApplicationFactory.create()

    with pytest.raises(ApprovalBlocked, match="going_concern"):
        application_submit(application=application, acting_user=application.applicant)

    application.refresh_from_db()
    assert application.status == A.DRAFT


def test_submitting_enqueues_the_checks_after_commit(
    draft, django_capture_on_commit_callbacks
):
    from unittest import mock

    with (
        mock.patch("registration.tasks.application_run_checks_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        application = application_submit(application=draft, acting_user=draft.applicant)
        assert not delay.called

    delay.assert_called_once_with(application.pk, draft.applicant.pk)
    assert not application.checks.exists()


def test_submitting_runs_one_automatic_check_of_each_kind(draft, version):
    application = _submit(draft)

    results = dict(application.checks.values_list("kind", "automatic_result"))
    assert results == {
        CheckKind.COMPANIES_HOUSE: R.PASS,
        CheckKind.GOING_CONCERN: R.PASS,
        CheckKind.ICO: R.PASS,
        CheckKind.UKPRN: R.NEEDS_REVIEW,
        CheckKind.AWARDING_ORGANISATIONS: R.NEEDS_REVIEW,
        CheckKind.SIGNING_DIRECTOR: R.NEEDS_REVIEW,  # not signed yet
        CheckKind.PURPOSE: R.PASS,
    }
    assert application.status == A.SUBMITTED
    assert application.submitted_at is not None


def test_a_resigned_director_fails_the_signing_director_check(draft, version):
    draft.signing_director_name = "PEARSON, Michael John"
    draft.signing_director_appointment = (
        "/company/09876543/appointments/michael-pearson"
    )
    draft.save()

    application = _submit(draft)

    check = application.checks.get(kind=CheckKind.SIGNING_DIRECTOR)
    assert check.automatic_result == R.FAIL


def test_a_dissolved_company_fails_companies_house_and_going_concern(ico_entry):
    application = RegistrationApplicationFactory.create(
        companies_house_number="04567890"
    )
    company_fetch(company_number="04567890")

    application = _submit(application)

    results = dict(application.checks.values_list("kind", "automatic_result"))
    assert results[CheckKind.COMPANIES_HOUSE] == R.FAIL
    assert results[CheckKind.GOING_CONCERN] in {R.FAIL, R.NEEDS_REVIEW}


def test_rerunning_checks_keeps_the_caseworkers_outcome(draft, version, caseworker):
    application = _submit(draft)
    check = application.checks.get(kind=CheckKind.UKPRN)
    check_record_outcome(
        check=check, acting_user=caseworker, outcome="pass", notes="UKRLP confirms"
    )

    application_run_checks(application=application, acting_user=caseworker)

    check.refresh_from_db()
    assert check.outcome == "pass"
    assert check.notes == "UKRLP confirms"
    assert check.history.latest().history_user == caseworker


def test_approval_lists_everything_still_missing(draft, version, caseworker):
    application = _submit(draft)

    blockers = approval_blockers(application)

    assert len([b for b in blockers if "check has not passed" in b]) == 7
    assert any("has not signed the current agreement" in b for b in blockers)
    with pytest.raises(ApprovalBlocked):
        application_approve(application=application, acting_user=caseworker)
    application.refresh_from_db()
    assert application.status == A.SUBMITTED


def test_approval_registers_the_organisation_with_the_applicant_as_super_user(
    draft, version, caseworker
):
    application = _submit(draft)
    signature = _sign(application, caseworker)
    _pass_every_check(application, caseworker)

    organisation = application_approve(application=application, acting_user=caseworker)

    assert organisation.status == Organisation.Status.REGISTERED
    assert organisation.ukprn == application.ukprn
    assert organisation.last_signed_version == version
    # The learners it declared it serves, for the purpose rules (decision 25).
    assert organisation.learner_ages == ["14_16", "17_19"]
    assert organisation.learner_reach == "local"
    assert organisation.learner_reach_km == 30
    applicant = application.applicant
    assert applicant.membership.organisation == organisation
    assert applicant.membership.is_super_user
    assert permissions.can_manage_users(applicant, organisation)
    other = OrganisationFactory.create()
    assert not permissions.can_manage_users(applicant, other)
    signature.refresh_from_db()
    assert signature.organisation == organisation
    application.refresh_from_db()
    assert application.status == A.APPROVED
    assert application.history.latest().history_user == caseworker


def test_an_exception_purpose_needs_an_acceptable_follow_up_discussion(
    ico_entry, version, caseworker
):
    application = RegistrationApplicationFactory.create(
        exception=True,
        signing_director_name="OKAFOR, Grace Adaeze",
        signing_director_appointment="/company/09876543/appointments/grace-okafor",
    )
    company_fetch(company_number="09876543")
    application = _submit(application)
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)

    assert any("exception" in b for b in approval_blockers(application))
    application_record_follow_up(
        application=application,
        acting_user=caseworker,
        held_on=timezone.localdate(),
        attendees="Caseworker; provider's director",
        summary="Purpose is unacceptable: checks for third parties.",
        purpose_acceptable=False,
    )
    assert any("exception" in b for b in approval_blockers(application))

    application_record_follow_up(
        application=application,
        acting_user=caseworker,
        held_on=timezone.localdate(),
        attendees="Caseworker; provider's director",
        summary="Purpose narrowed to their own apprentices.",
        purpose_acceptable=True,
    )
    assert approval_blockers(application) == []


def test_a_signature_for_an_older_version_does_not_count(draft, version, caseworker):
    application = _submit(draft)
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)
    AgreementVersionFactory.create()  # a newer version is published

    blockers = approval_blockers(application)

    assert any("has not signed the current agreement" in b for b in blockers)


def test_nobody_approves_their_own_application(draft, version, caseworker):
    draft.applicant = caseworker
    draft.save()
    application = application_submit(application=draft, acting_user=caseworker)

    with pytest.raises(PermissionError):
        application_approve(application=application, acting_user=caseworker)


def test_a_provider_cannot_approve_or_record_outcomes(draft, version):
    application = _submit(draft)
    applicant = application.applicant

    with pytest.raises(PermissionError):
        application_approve(application=application, acting_user=applicant)
    with pytest.raises(PermissionError):
        check_record_outcome(
            check=application.checks.get(kind=CheckKind.PURPOSE),
            acting_user=applicant,
            outcome="pass",
            notes="",
        )


def test_rejection_needs_a_reason(draft, version, caseworker):
    application = _submit(draft)

    with pytest.raises(ApprovalBlocked):
        application_reject(application=application, acting_user=caseworker, reason=" ")
    application = application_reject(
        application=application,
        acting_user=caseworker,
        reason="Not a training provider",
    )

    assert application.status == A.REJECTED
    assert application.decision_reason == "Not a training provider"


def test_more_information_goes_back_to_the_provider_and_returns(
    draft, version, caseworker
):
    application = _submit(draft)

    application = application_request_information(
        application=application,
        acting_user=caseworker,
        request_text="Upload your latest accounts.",
    )
    assert application.status == A.MORE_INFO_REQUESTED
    assert application.is_editable

    application = _submit(application)
    assert application.status == A.SUBMITTED
    statuses = list(application.history.values_list("status", flat=True))
    assert statuses[:3] == [A.SUBMITTED, A.MORE_INFO_REQUESTED, A.SUBMITTED]


def test_a_decided_application_cannot_be_submitted_again(draft, version, caseworker):
    application = _submit(draft)
    application_reject(application=application, acting_user=caseworker, reason="No")

    with pytest.raises(TransitionNotAllowed):
        application_submit(application=application, acting_user=application.applicant)


def test_signing_refuses_a_name_that_is_not_the_directors(draft, version, caseworker):
    signing_request_send(acting_user=caseworker, application=draft)

    with pytest.raises(SigningRefused):
        agreement_sign(
            token=_token(),
            typed_name="Someone Else",
            code=letter_code(),
            confirmed=True,
            ip_address="192.0.2.7",
            user_agent="x",
        )
    assert not AgreementSignature.objects.exists()


def test_a_signing_link_works_once(draft, version, caseworker):
    signature = _sign(draft, caseworker)

    with pytest.raises(SigningRefused):
        agreement_sign(
            token=_token(),
            typed_name="Grace Okafor",
            code=letter_code(),
            confirmed=True,
            ip_address="192.0.2.7",
            user_agent="x",
        )
    assert signature.text_hash == version.text_hash
    assert signature.director_name_at_companies_house == "OKAFOR, Grace Adaeze"
    assert signature.ip_address == "192.0.2.7"


def test_an_expired_signing_link_is_refused(draft, version, caseworker):
    request = signing_request_send(acting_user=caseworker, application=draft)
    request.expires_at = timezone.now() - timedelta(seconds=1)
    request.save()

    with pytest.raises(SigningRefused):
        agreement_sign(
            token=_token(),
            typed_name="Grace Okafor",
            code=letter_code(),
            confirmed=True,
            ip_address="192.0.2.7",
            user_agent="x",
        )


def test_a_new_link_cancels_the_old_one(draft, version, caseworker):
    signing_request_send(acting_user=caseworker, application=draft)
    old_token = _token()
    signing_request_send(acting_user=caseworker, application=draft)

    with pytest.raises(SigningRefused):
        agreement_sign(
            token=old_token,
            typed_name="Grace Okafor",
            code=letter_code(),
            confirmed=True,
            ip_address="192.0.2.7",
            user_agent="x",
        )


def test_publishing_a_version_sends_each_organisation_that_must_sign_a_link(
    caseworker,
):
    AgreementVersionFactory.create()
    registered = OrganisationFactory.create_batch(2)
    suspended = OrganisationFactory.create(status=Organisation.Status.SUSPENDED)
    for organisation in [*registered, suspended]:
        organisation_officers(organisation)
    OrganisationFactory.create(status=Organisation.Status.REVOKED)
    OrganisationFactory.create(status=Organisation.Status.DEREGISTERED)
    new = AgreementVersionFactory.create(published_at=None)
    deadline = timezone.localdate() + timedelta(days=14)

    requests = agreement_version_publish(
        version=new, acting_user=caseworker, resign_deadline=deadline
    )

    assert {r.organisation for r in requests} == {*registered, suspended}
    assert Notification.objects.filter(reference="agreement.signing_link").count() == 3
    with pytest.raises(SigningRefused):
        agreement_version_publish(
            version=new, acting_user=caseworker, resign_deadline=deadline
        )


def test_re_signing_through_an_organisation_link_updates_its_version(caseworker):
    AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(signing_director_name="SMITH, Jane Alice")
    organisation_officers(organisation)
    new = AgreementVersionFactory.create(published_at=None)
    agreement_version_publish(
        version=new,
        acting_user=caseworker,
        resign_deadline=timezone.localdate() + timedelta(days=14),
    )

    agreement_sign(
        token=_token(),
        typed_name="Jane Smith",
        code=letter_code(),
        confirmed=True,
        ip_address="192.0.2.7",
        user_agent="x",
    )

    organisation.refresh_from_db()
    assert organisation.last_signed_version == new


def test_re_registration_is_prefilled_from_the_last_approved_application(
    draft, version, caseworker
):
    application = _submit(draft)
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)
    organisation = application_approve(application=application, acting_user=caseworker)
    organisation_revoke(organisation=organisation, acting_user=caseworker, reason="x")

    again = reregistration_start(organisation=organisation, applicant=draft.applicant)

    assert again.kind == RegistrationApplication.Kind.REREGISTRATION
    assert again.organisation == organisation
    assert again.legal_name == application.legal_name
    assert again.ukprn == application.ukprn
    assert again.learner_ages == application.learner_ages
    assert again.learner_reach_km == application.learner_reach_km
    assert [a.awarding_organisation for a in again.accreditations.all()] == [
        a.awarding_organisation for a in application.accreditations.all()
    ]
    assert again.status == A.DRAFT


def test_a_member_of_a_registered_organisation_cannot_apply_for_another(draft):
    from tests.factories import MembershipFactory

    MembershipFactory.create(user=draft.applicant)

    with pytest.raises(ApprovalBlocked, match="already a user"):
        application_submit(application=draft, acting_user=draft.applicant)


def test_a_closed_application_cannot_be_signed(draft, version, caseworker):
    signing_request_send(acting_user=caseworker, application=draft)
    from registration.services import application_withdraw

    application_withdraw(application=draft, acting_user=draft.applicant)

    with pytest.raises(SigningRefused, match="closed"):
        agreement_sign(
            token=_token(),
            typed_name="Grace Okafor",
            code=letter_code(),
            confirmed=True,
            ip_address="192.0.2.7",
            user_agent="x",
        )


def test_approval_records_when_the_purpose_was_approved(draft, version, caseworker):
    application = _submit(draft)
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)

    organisation = application_approve(application=application, acting_user=caseworker)

    assert organisation.purpose_approved_at is not None


def test_a_broker_outage_on_submit_leaves_the_application_submitted(
    draft, django_capture_on_commit_callbacks
):
    from unittest import mock

    with (
        mock.patch(
            "registration.tasks.application_run_checks_task.delay",
            side_effect=OSError("broker down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        application = application_submit(application=draft, acting_user=draft.applicant)

    application.refresh_from_db()
    assert application.status == A.SUBMITTED
    assert not application.checks.exists()  # a caseworker re-runs them


# --- issue 19: history says who and why; a returning organisation ------------------


def test_the_workers_check_rows_record_the_system_user_and_the_cause(draft, version):
    from unittest import mock

    from lrs_portal.models import system_user
    from registration.tasks import application_run_checks_task

    with mock.patch("registration.tasks.application_run_checks_task.delay"):
        application_submit(application=draft, acting_user=draft.applicant)

    application_run_checks_task(draft.pk, draft.applicant.pk)

    records = ApplicationCheck.history.filter(application_id=draft.pk)
    assert records.count() == len(CheckKind)  # one each: created with its result
    for record in records:
        assert record.history_user == system_user()
        assert record.history_change_reason == (
            f"Automatic check run after submission by {draft.applicant.email}"
        )


def test_accreditations_copied_at_re_registration_record_who_and_why(
    draft, version, caseworker
):
    application = _submit(draft)
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)
    organisation = application_approve(application=application, acting_user=caseworker)
    organisation_revoke(organisation=organisation, acting_user=caseworker, reason="x")

    again = reregistration_start(organisation=organisation, applicant=draft.applicant)

    copied = AwardingOrganisationAccreditation.history.filter(application_id=again.pk)
    assert copied.exists()
    for record in copied:
        assert record.history_user == draft.applicant
        assert record.history_change_reason == (
            f"Copied from application {application.reference} at re-registration"
        )


def test_a_new_application_for_a_deregistered_ukprn_returns_that_organisation(
    draft, version, caseworker
):
    old = OrganisationFactory.create(
        ukprn=draft.ukprn, status=Organisation.Status.DEREGISTERED
    )
    application = _submit(draft)

    check = application.checks.get(kind=CheckKind.UKPRN)
    assert check.automatic_result == R.NEEDS_REVIEW
    assert "registers that organisation again" in check.automatic_summary
    _sign(application, caseworker)
    _pass_every_check(application, caseworker)
    organisation = application_approve(application=application, acting_user=caseworker)

    assert organisation.pk == old.pk
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.REGISTERED
    assert organisation.legal_name == draft.legal_name
    assert Organisation.objects.filter(ukprn=draft.ukprn).count() == 1


def test_a_new_application_for_a_registered_ukprn_still_fails_the_check(draft, version):
    OrganisationFactory.create(ukprn=draft.ukprn)

    application = _submit(draft)

    check = application.checks.get(kind=CheckKind.UKPRN)
    assert check.automatic_result == R.FAIL
