import csv
import io
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.csv_cells import csv_cell
from lrs_portal.models import Notification, UserSession, system_user
from registration import permissions
from registration.models import (
    AgreementSignature,
    AgreementVersion,
    ApplicationCheck,
    CheckGuidance,
    CheckKind,
    FollowUpDiscussion,
    Membership,
    Organisation,
    RegistrationApplication,
    ReverificationCase,
    SigningRequest,
    Suspension,
)
from registration.services import (
    check_record_outcome,
    reverification_open,
    suspension_reinstate,
)
from tests.conftest import verified_client
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    RegistrationApplicationFactory,
    UserFactory,
    member_of,
    organisation_officers,
)

pytestmark = pytest.mark.django_db
A = RegistrationApplication.Status
S = Organisation.Status

# The Caseworker role's registration permissions (lrs_portal.roles keeps the group
# in step); given to the test caseworker explicitly as well.
CASEWORKER_CODENAMES = tuple(
    name.split(".")[1]
    for name in roles.PERMISSIONS[roles.CASEWORKER]
    if name.startswith("registration.")
)


def _url(model, view, *args):
    name = f"admin:registration_{model._meta.model_name}_{view}"
    return reverse(name, args=args)


@pytest.fixture
def vetter(caseworker):
    caseworker.user_permissions.add(
        *(
            Permission.objects.get(
                content_type__app_label="registration", codename=codename
            )
            for codename in CASEWORKER_CODENAMES
        )
    )
    return caseworker


@pytest.fixture
def vetting(vetter):
    return verified_client(vetter)


def _with_checks(application, outcome=ApplicationCheck.Outcome.PENDING):
    for kind in CheckKind:
        ApplicationCheck.objects.create(
            application=application,
            kind=kind,
            automatic_result=ApplicationCheck.Result.NEEDS_REVIEW,
            automatic_summary=f"Automatic {kind.label}",
            evidence={"found": kind.value},
            outcome=outcome,
        )
    return application


def _signed(application, version):
    request = SigningRequest.objects.create(
        application=application,
        agreement_version=version,
        director_name=application.signing_director_name,
        email=application.signing_director_email,
        token_hash=f"{application.pk:064d}",
        expires_at=timezone.now() + timedelta(days=7),
        used_at=timezone.now(),
    )
    return AgreementSignature.objects.create(
        signing_request=request,
        agreement_version=version,
        text_hash=version.text_hash,
        application=application,
        typed_name="Jane Smith",
        director_name_at_companies_house=application.signing_director_name,
        ip_address="192.0.2.7",
        user_agent="Firefox",
    )


@pytest.fixture
def version():
    return AgreementVersionFactory.create()


@pytest.fixture
def approvable(version):
    """Submitted, every check passed, the current agreement signed."""
    application = _with_checks(
        RegistrationApplicationFactory.create(submitted=True),
        outcome=ApplicationCheck.Outcome.PASS,
    )
    _signed(application, version)
    return application


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# --- the queue ---------------------------------------------------------------------


def _listed(response):
    return {row.reference for row in response.context["cl"].result_list}


@pytest.fixture
def queue():
    return {
        "submitted": RegistrationApplicationFactory.create(submitted=True),
        "draft": RegistrationApplicationFactory.create(),
        "more_info": RegistrationApplicationFactory.create(
            status=A.MORE_INFO_REQUESTED, submitted_at=timezone.now()
        ),
        "approved": RegistrationApplicationFactory.create(status=A.APPROVED),
    }


def test_the_queue_shows_only_submitted_applications_by_default(vetting, queue):
    response = vetting.get(_url(RegistrationApplication, "changelist"))

    assert response.status_code == HTTPStatus.OK
    assert _listed(response) == {queue["submitted"].reference}


def test_the_queue_lists_applications_awaiting_information(vetting, queue):
    response = vetting.get(
        _url(RegistrationApplication, "changelist"), {"queue": "awaiting_information"}
    )

    assert _listed(response) == {queue["more_info"].reference}


def test_all_and_a_search_look_across_every_status(vetting, queue):
    everything = vetting.get(
        _url(RegistrationApplication, "changelist"), {"queue": "all"}
    )
    searched = vetting.get(
        _url(RegistrationApplication, "changelist"), {"q": queue["approved"].ukprn}
    )

    assert _listed(everything) == {a.reference for a in queue.values()}
    assert _listed(searched) == {queue["approved"].reference}


def test_the_exception_queue_lists_exceptions_not_yet_found_acceptable(vetting, vetter):
    waiting = RegistrationApplicationFactory.create(submitted=True, exception=True)
    discussed = RegistrationApplicationFactory.create(submitted=True, exception=True)
    FollowUpDiscussion.objects.create(
        application=discussed,
        held_on=timezone.localdate(),
        attendees="Both",
        summary="Fine",
        purpose_acceptable=True,
        recorded_by=vetter,
    )
    RegistrationApplicationFactory.create(submitted=True)  # not an exception
    RegistrationApplicationFactory.create(exception=True)  # a draft

    response = vetting.get(
        _url(RegistrationApplication, "changelist"), {"queue": "exceptions"}
    )

    assert _listed(response) == {waiting.reference}


# --- CSV export --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+44 113", "'+44 113"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("Northfield College", "Northfield College"),
        (None, ""),
        (10010001, "10010001"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_the_csv_export_lists_the_selected_applications_safely(vetting):
    formula = RegistrationApplicationFactory.create(
        submitted=True, legal_name="=cmd|' /C calc'!A0"
    )
    plain = RegistrationApplicationFactory.create(
        submitted=True, legal_name="Plain College Ltd"
    )
    RegistrationApplicationFactory.create(submitted=True)  # not selected

    response = vetting.post(
        _url(RegistrationApplication, "changelist"),
        {"action": "export_csv", "_selected_action": [formula.pk, plain.pk]},
    )

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Reference", "Legal name", "UKPRN"]
    assert {row[0]: row[1] for row in rows[1:]} == {
        formula.reference: "'=cmd|' /C calc'!A0",
        plain.reference: "Plain College Ltd",
    }


def test_the_csv_export_of_everything_follows_the_filter(vetting, queue):
    response = vetting.post(
        _url(RegistrationApplication, "changelist") + "?queue=all",
        {
            "action": "export_csv",
            "select_across": "1",
            "_selected_action": [queue["draft"].pk],
        },
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert {row[0] for row in rows[1:]} == {a.reference for a in queue.values()}


# --- the accounts document ---------------------------------------------------------


@pytest.fixture
def with_accounts():
    application = RegistrationApplicationFactory.create(submitted=True)
    application.accounts_document.save(
        "accounts-2025.pdf", ContentFile(b"%PDF-1.4 accounts"), save=True
    )
    return application


def test_a_caseworker_downloads_the_accounts_document(vetting, with_accounts):
    page = vetting.get(_url(RegistrationApplication, "change", with_accounts.pk))
    download = _url(RegistrationApplication, "accounts_document", with_accounts.pk)

    response = vetting.get(download)

    assert download in page.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"] == (
        'attachment; filename="accounts-2025.pdf"'
    )
    assert b"".join(response.streaming_content) == b"%PDF-1.4 accounts"


def test_the_accounts_document_has_no_public_url(vetting, with_accounts):
    name = with_accounts.accounts_document.name
    page = vetting.get(_url(RegistrationApplication, "change", with_accounts.pk))

    with pytest.raises(NotImplementedError):
        _ = with_accounts.accounts_document.url
    assert name not in page.content.decode()


def test_a_provider_is_sent_to_sign_in_for_the_document(with_accounts):
    provider = Client()
    provider.force_login(with_accounts.applicant)

    response = provider.get(
        _url(RegistrationApplication, "accounts_document", with_accounts.pk)
    )

    assert response.status_code == HTTPStatus.FOUND
    assert "login" in response.url


@pytest.mark.parametrize("codenames", [(), ("view_registrationapplication",)])
def test_staff_who_do_not_vet_get_a_404_for_the_document(with_accounts, codenames):
    staff = UserFactory.create(staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = verified_client(staff)

    response = client.get(
        _url(RegistrationApplication, "accounts_document", with_accounts.pk)
    )

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_an_anonymous_visitor_is_sent_to_sign_in_for_the_document(
    client, with_accounts
):
    response = client.get(
        _url(RegistrationApplication, "accounts_document", with_accounts.pk)
    )

    assert response.status_code == HTTPStatus.FOUND
    assert "login" in response.url


# --- check outcomes through the inline ---------------------------------------------


def _change_form_data(response):
    """What the browser would post back from a change page, unchanged."""
    data = {"_save": "Save"}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    return data


def _check_prefix(response, kind):
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if getattr(form.instance, "kind", None) == kind:
                return form.prefix
    raise AssertionError(f"no {kind} check on the page")


def test_recording_an_outcome_in_the_inline_goes_through_the_service(vetting, vetter):
    application = _with_checks(RegistrationApplicationFactory.create(submitted=True))
    url = _url(RegistrationApplication, "change", application.pk)
    page = vetting.get(url)
    data = _change_form_data(page)
    prefix = _check_prefix(page, CheckKind.UKPRN)
    data[f"{prefix}-outcome"] = ApplicationCheck.Outcome.PASS
    data[f"{prefix}-notes"] = "UKRLP shows it active for this company"

    response = vetting.post(url, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    check = application.checks.get(kind=CheckKind.UKPRN)
    assert check.outcome == ApplicationCheck.Outcome.PASS
    assert check.decided_by == vetter
    latest = check.history.latest()
    assert latest.history_user == vetter
    assert latest.history_change_reason == "Outcome: Pass"
    untouched = application.checks.get(kind=CheckKind.ICO)
    assert untouched.decided_by is None
    application.refresh_from_db()
    assert application.status == A.SUBMITTED


def test_the_change_page_shows_each_checks_evidence_and_guidance(vetting):
    application = _with_checks(RegistrationApplicationFactory.create(submitted=True))
    guidance = CheckGuidance.objects.update_or_create(
        kind=CheckKind.ICO, defaults={"text": "Look the number up on the ICO register."}
    )[0]

    body = vetting.get(
        _url(RegistrationApplication, "change", application.pk)
    ).content.decode()

    assert guidance.text in body
    # The evidence as rows, and the raw record one click away.
    assert '<th scope="row">Found</th><td>ico</td>' in body
    assert "&quot;found&quot;: &quot;ico&quot;" in body
    assert "Automatic ICO registration" in body
    assert "Not ready to approve" in body


def test_outcomes_cannot_be_changed_once_an_application_is_decided(vetting):
    application = _with_checks(RegistrationApplicationFactory.create(status=A.APPROVED))
    url = _url(RegistrationApplication, "change", application.pk)
    page = vetting.get(url)
    data = _change_form_data(page)

    response = vetting.post(url, data)

    assert page.context["has_change_permission"] is False
    assert response.status_code == HTTPStatus.FORBIDDEN


# --- workflow pages: vetting ------------------------------------------------------


def test_requesting_information_sends_the_application_back_to_the_provider(
    vetting, vetter
):
    application = RegistrationApplicationFactory.create(submitted=True)
    url = _url(RegistrationApplication, "request_information", application.pk)
    text = "Upload your latest filed accounts, please."

    assert vetting.get(url).status_code == HTTPStatus.OK
    response = vetting.post(url, {"request_text": text}, follow=True)

    application.refresh_from_db()
    assert application.status == A.MORE_INFO_REQUESTED
    assert application.information_requested == text
    assert application.history.latest().history_user == vetter
    assert "Asked the provider for more information." in _messages(response)
    provider = Client()
    provider.force_login(application.applicant)
    status_page = provider.get(application.get_absolute_url())
    assert text in status_page.content.decode()


def test_a_request_for_information_needs_text(vetting):
    application = RegistrationApplicationFactory.create(submitted=True)
    url = _url(RegistrationApplication, "request_information", application.pk)

    response = vetting.post(url, {"request_text": "  "})

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors
    application.refresh_from_db()
    assert application.status == A.SUBMITTED


def test_recording_a_follow_up_discussion(vetting, vetter):
    application = RegistrationApplicationFactory.create(submitted=True, exception=True)
    url = _url(RegistrationApplication, "record_follow_up", application.pk)

    response = vetting.post(
        url,
        {
            "held_on": "2026-01-15",
            "attendees": "Caseworker; the provider's director",
            "summary": "Narrowed to their own apprentices.",
            "purpose_acceptable": "yes",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    discussion = application.follow_up_discussions.get()
    assert discussion.purpose_acceptable is True
    assert discussion.recorded_by == vetter
    assert str(discussion.held_on) == "2026-01-15"
    exceptions = vetting.get(
        _url(RegistrationApplication, "changelist"), {"queue": "exceptions"}
    )
    assert _listed(exceptions) == set()


def test_rerunning_the_automatic_checks(vetting, vetter, version):
    application = RegistrationApplicationFactory.create(submitted=True)
    url = _url(RegistrationApplication, "run_checks", application.pk)

    assert vetting.get(url).status_code == HTTPStatus.OK
    assert not application.checks.exists()
    response = vetting.post(url)

    assert response.status_code == HTTPStatus.FOUND
    assert application.checks.count() == len(CheckKind)
    assert application.checks.first().history.latest().history_user == vetter


def test_sending_a_new_signing_link(vetting, vetter, version):
    application = RegistrationApplicationFactory.create(submitted=True)
    url = _url(RegistrationApplication, "send_signing_link", application.pk)

    response = vetting.post(url)

    assert response.status_code == HTTPStatus.FOUND
    sent = application.signing_requests.get()
    assert sent.email == application.signing_director_email
    assert Notification.objects.filter(
        to=application.signing_director_email, reference="agreement.signing_link"
    ).exists()
    assert sent.history.latest().history_user == vetter


# --- workflow pages: deciding ------------------------------------------------------


def _break_a_check(application):
    check = application.checks.get(kind=CheckKind.ICO)
    check.outcome = ApplicationCheck.Outcome.FAIL
    check.save()
    return "The ICO registration check has not passed."


def _make_an_exception(application):
    application.purpose = RegistrationApplication.Purpose.OTHER
    application.save()
    return "The purpose is an exception"


def _publish_a_newer_version(application):
    newer = AgreementVersionFactory.create()
    return f"has not signed the current agreement (version {newer.number})"


@pytest.mark.parametrize(
    "spoil",
    [_break_a_check, _make_an_exception, _publish_a_newer_version],
    ids=["check-not-passed", "exception-without-discussion", "not-signed-current"],
)
def test_approval_is_blocked_with_the_reasons(vetting, approvable, spoil):
    reason = spoil(approvable)
    url = _url(RegistrationApplication, "approve", approvable.pk)

    page = vetting.get(url)
    response = vetting.post(url, {"reason": ""}, follow=True)

    assert reason in page.content.decode()
    assert page.context["can_submit"] is False
    assert response.redirect_chain[-1][0] == _url(
        RegistrationApplication, "change", approvable.pk
    )
    assert any(reason in message for message in _messages(response))
    approvable.refresh_from_db()
    assert approvable.status == A.SUBMITTED
    assert not Organisation.objects.filter(ukprn=approvable.ukprn).exists()


def test_approval_registers_the_organisation_with_the_applicant_as_super_user(
    vetting, vetter, approvable, version
):
    url = _url(RegistrationApplication, "approve", approvable.pk)

    response = vetting.post(url, {"reason": "All checks passed"}, follow=True)

    approvable.refresh_from_db()
    assert approvable.status == A.APPROVED
    organisation = approvable.organisation
    assert organisation.status == S.REGISTERED
    assert organisation.last_signed_version == version
    membership = Membership.objects.get(user=approvable.applicant)
    assert membership.organisation == organisation
    assert membership.is_super_user
    assert permissions.can_manage_users(approvable.applicant, organisation)
    assert approvable.history.latest().history_user == vetter
    assert any("is registered" in message for message in _messages(response))


def test_rejecting_needs_a_reason(vetting):
    application = RegistrationApplicationFactory.create(submitted=True)
    url = _url(RegistrationApplication, "reject", application.pk)

    empty = vetting.post(url, {"reason": ""})
    application.refresh_from_db()
    assert empty.status_code == HTTPStatus.OK
    assert application.status == A.SUBMITTED

    vetting.post(url, {"reason": "The company was dissolved in 2024."})
    application.refresh_from_db()
    assert application.status == A.REJECTED
    assert application.decision_reason == "The company was dissolved in 2024."


@pytest.mark.parametrize("page", ["approve", "reject"])
def test_a_caseworker_cannot_decide_their_own_application(vetter, version, page):
    own = _with_checks(
        RegistrationApplicationFactory.create(applicant=vetter, submitted=True),
        outcome=ApplicationCheck.Outcome.PASS,
    )
    _signed(own, version)
    client = verified_client(vetter)
    url = _url(RegistrationApplication, page, own.pk)

    change_page = client.get(_url(RegistrationApplication, "change", own.pk))
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    response = client.post(url, {"reason": "Mine, and fine"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert url not in change_page.content.decode()
    own.refresh_from_db()
    assert own.status == A.SUBMITTED


# --- who may reach the pages -------------------------------------------------------


WORKFLOW_PAGES = [
    "request_information",
    "record_follow_up",
    "run_checks",
    "send_signing_link",
    "approve",
    "reject",
]


@pytest.mark.parametrize("page", WORKFLOW_PAGES)
def test_a_caseworker_without_mfa_cannot_reach_the_workflow_pages(vetter, page):
    application = RegistrationApplicationFactory.create(submitted=True)
    client = Client()
    client.force_login(vetter)

    response = client.post(_url(RegistrationApplication, page, application.pk))

    assert response.status_code == HTTPStatus.FOUND
    assert not response.url.startswith(reverse("admin:index"))
    application.refresh_from_db()
    assert application.status == A.SUBMITTED


@pytest.mark.parametrize(
    ("codenames", "status"),
    [
        ((), HTTPStatus.NOT_FOUND),
        (("view_registrationapplication",), HTTPStatus.FORBIDDEN),
    ],
    ids=["no-permissions", "view-only"],
)
@pytest.mark.parametrize("page", WORKFLOW_PAGES)
def test_staff_without_the_permissions_cannot_use_the_workflow_pages(
    page, codenames, status
):
    application = RegistrationApplicationFactory.create(submitted=True)
    staff = UserFactory.create(staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = verified_client(staff)
    url = _url(RegistrationApplication, page, application.pk)

    assert client.get(url).status_code == status
    assert client.post(url, {"reason": "x"}).status_code == status
    application.refresh_from_db()
    assert application.status == A.SUBMITTED


def test_a_provider_cannot_reach_the_admin_pages(provider_super_user):
    application = RegistrationApplicationFactory.create(submitted=True)
    client = Client()
    client.force_login(provider_super_user)

    response = client.get(_url(RegistrationApplication, "approve", application.pk))

    assert response.status_code == HTTPStatus.FOUND
    assert "login" in response.url


def test_a_caseworker_cannot_manage_object_permissions(vetting, vetter):
    organisation = OrganisationFactory.create()

    response = vetting.get(_url(Organisation, "permissions", organisation.pk))
    page = vetting.get(_url(Organisation, "change", organisation.pk))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Object permissions" not in page.content.decode()


def test_the_organisation_page_writes_its_learners_a_year_with_a_separator(vetting):
    organisation = OrganisationFactory.create(estimated_learners_per_year=120000)

    body = vetting.get(_url(Organisation, "change", organisation.pk)).content.decode()

    assert "Learners a year (estimated)" in body
    assert "120,000" in body
    assert "120000" not in body


def test_history_cannot_be_reverted(vetting):
    application = RegistrationApplicationFactory.create(submitted=True)
    record = application.history.earliest()
    url = reverse(
        "admin:registration_registrationapplication_simple_history",
        args=[application.pk, record.history_id],
    )

    response = vetting.post(url, {})

    assert response.status_code == HTTPStatus.FORBIDDEN


# --- organisations -----------------------------------------------------------------


@pytest.fixture
def signed_in_member():
    organisation = OrganisationFactory.create()
    member = member_of(organisation)
    Client().force_login(member)
    assert UserSession.objects.filter(user=member).exists()
    return organisation, member


@pytest.mark.parametrize(
    ("page", "status", "why"),
    [
        # A suspension is a case now: its reason says so in the history.
        ("suspend", S.SUSPENDED, "Suspended: Access passed on to a third party"),
        ("revoke", S.REVOKED, "Access passed on to a third party"),
    ],
)
def test_suspending_or_revoking_signs_the_members_out(
    vetting, vetter, signed_in_member, page, status, why
):
    organisation, member = signed_in_member
    url = _url(Organisation, page, organisation.pk)

    refused = vetting.post(url, {"reason": ""})
    assert refused.status_code == HTTPStatus.OK
    response = vetting.post(url, {"reason": "Access passed on to a third party"})

    assert response.status_code == HTTPStatus.FOUND
    organisation.refresh_from_db()
    assert organisation.status == status
    assert not UserSession.objects.filter(user=member).exists()
    latest = organisation.history.latest()
    assert latest.history_user == vetter
    assert latest.history_change_reason == why


def test_suspending_opens_a_caseworker_suspension_case(vetting, vetter):
    organisation = OrganisationFactory.create()
    super_user = member_of(organisation, super_user=True)

    vetting.post(
        _url(Organisation, "suspend", organisation.pk),
        {"reason": "Searches for a screening firm"},
    )

    suspension = Suspension.objects.get(organisation=organisation)
    assert suspension.subject_type == Suspension.Subject.ORGANISATION
    assert (suspension.source, suspension.cause) == ("caseworker", "caseworker")
    assert suspension.day == timezone.now().date()
    assert suspension.reason == "Searches for a screening firm"
    assert suspension.history.get().history_user == vetter
    assert Notification.objects.filter(
        to=super_user.email, reference=f"suspension.{suspension.pk}.opened"
    ).exists()


def test_suspending_an_organisation_already_suspended_today_says_so(vetting, vetter):
    organisation = OrganisationFactory.create()
    url = _url(Organisation, "suspend", organisation.pk)
    vetting.post(url, {"reason": "First"})
    suspension_reinstate(
        suspension=Suspension.objects.get(), acting_user=vetter, reason="Mistake"
    )

    response = vetting.post(url, {"reason": "Second"}, follow=True)

    assert Suspension.objects.count() == 1
    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert any("Not suspended" in message for message in _messages(response))


def test_reinstating_reinstates_every_suspension_in_force(vetting, vetter):
    organisation = OrganisationFactory.create()
    vetting.post(_url(Organisation, "suspend", organisation.pk), {"reason": "Why"})
    suspension = Suspension.objects.get()

    vetting.post(
        _url(Organisation, "reinstate", organisation.pk), {"reason": "False alarm"}
    )

    suspension.refresh_from_db()
    assert suspension.status == Suspension.Status.REINSTATED
    assert suspension.decided_by == vetter
    assert suspension.decision_reason == "False alarm"
    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED
    assert organisation.history.latest().history_change_reason == "False alarm"


def test_reinstating_a_suspended_organisation(vetting):
    organisation = OrganisationFactory.create(status=S.SUSPENDED)

    vetting.post(
        _url(Organisation, "reinstate", organisation.pk), {"reason": "Explained"}
    )

    organisation.refresh_from_db()
    assert organisation.status == S.REGISTERED


def test_a_revoked_organisation_is_not_reinstated_from_admin(vetting):
    organisation = OrganisationFactory.create(status=S.REVOKED)

    response = vetting.post(
        _url(Organisation, "reinstate", organisation.pk),
        {"reason": "Please"},
        follow=True,
    )

    organisation.refresh_from_db()
    assert organisation.status == S.REVOKED
    assert any("suspended" in message for message in _messages(response))


def test_the_organisation_page_tells_its_story_newest_first(vetting, vetter, version):
    organisation = OrganisationFactory.create()
    application = _with_checks(
        RegistrationApplicationFactory.create(organisation=organisation, submitted=True)
    )
    check_record_outcome(
        check=application.checks.get(kind=CheckKind.UKPRN),
        acting_user=vetter,
        outcome="pass",
        notes="UKRLP",
    )
    signature = _signed(application, version)
    reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.ICO_LAPSED,
        details="The ICO registration ended yesterday.",
        source="nightly re-verification",
        acting_user=vetter,
    )
    vetting.post(
        _url(Organisation, "suspend", organisation.pk),
        {"reason": "Searches far above the declared volume"},
    )

    response = vetting.get(_url(Organisation, "change", organisation.pk))

    timeline = response.context["timeline"]
    whats = [entry.what for entry in timeline]
    assert whats[0] == "Status: Registered → Suspended"
    assert timeline[0].why == "Suspended: Searches far above the declared volume"
    assert vetter.full_name in timeline[0].who
    assert "Re-verification case opened: ICO registration lapsed" in whats
    assert f"Application {application.reference}: UKPRN check: Pass" in whats
    signed = next(e for e in timeline if "signed version" in e.what)
    assert signed.who == "Director via signing link"
    assert signed.when == signature.signed_at
    assert whats[-1] == "Organisation registered"
    assert [e.when for e in timeline] == sorted(
        (e.when for e in timeline), reverse=True
    )
    body = response.content.decode()
    assert "Searches far above the declared volume" in body


# --- agreement versions ------------------------------------------------------------


def test_publishing_emails_each_director_who_must_sign(vetting, vetter):
    AgreementVersionFactory.create()
    registered = OrganisationFactory.create_batch(2)
    suspended = OrganisationFactory.create(status=S.SUSPENDED)
    for organisation in [*registered, suspended]:
        organisation_officers(organisation)
    revoked = OrganisationFactory.create(status=S.REVOKED)
    draft = AgreementVersionFactory.create(published_at=None)
    url = _url(AgreementVersion, "publish", draft.pk)
    deadline = timezone.localdate() + timedelta(days=14)

    page = vetting.get(url)
    response = vetting.post(
        url, {"resign_deadline": deadline.isoformat(), "confirmed": "on"}
    )

    text = page.content.decode()
    assert "3 organisations must sign it: 2 registered and 1 suspended." in text
    assert "3 directors will each be emailed a signing link." in text
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.published_at is not None
    assert draft.published_by == vetter
    assert draft.resign_deadline == deadline
    emailed = set(
        Notification.objects.filter(reference="agreement.signing_link").values_list(
            "to", flat=True
        )
    )
    assert emailed == {o.signing_director_email for o in [*registered, suspended]}
    assert revoked.signing_director_email not in emailed


def test_a_published_version_cannot_be_changed(vetting, version):
    url = _url(AgreementVersion, "change", version.pk)

    page = vetting.get(url)
    response = vetting.post(url, {"number": version.number, "title": "Changed"})

    assert page.context["has_change_permission"] is False
    assert response.status_code == HTTPStatus.FORBIDDEN
    deadline = timezone.localdate() + timedelta(days=14)
    publish = vetting.post(
        _url(AgreementVersion, "publish", version.pk),
        {"resign_deadline": deadline.isoformat(), "confirmed": "on"},
    )
    assert publish.status_code == HTTPStatus.FOUND  # refused, back to its page
    version.refresh_from_db()
    assert version.title != "Changed"


def test_a_caseworker_drafts_a_new_version_with_its_hash(vetting, version):
    response = vetting.post(
        _url(AgreementVersion, "add"),
        {"number": version.number + 1, "title": "2027 agreement", "text": "Terms."},
    )

    assert response.status_code == HTTPStatus.FOUND
    draft = AgreementVersion.objects.get(number=version.number + 1)
    assert draft.published_at is None
    assert len(draft.text_hash) == 64


def test_the_versions_list_counts_registered_organisations_that_signed(
    vetting, version
):
    for status in (S.REGISTERED, S.REGISTERED, S.SUSPENDED):
        application = RegistrationApplicationFactory.create()
        signature = _signed(application, version)
        signature.organisation = OrganisationFactory.create(status=status)
        signature.save()

    response = vetting.get(_url(AgreementVersion, "changelist"))

    [row] = response.context["cl"].result_list
    assert row.registered_signatories == 2


# --- re-verification and guidance --------------------------------------------------


def test_the_reverification_queue_shows_open_cases_and_resolves_them(vetting, vetter):
    organisation = OrganisationFactory.create()
    case = reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.DIRECTOR_LEFT,
        details="The signing director resigned.",
        source="nightly re-verification",
        acting_user=vetter,
    )
    closed = ReverificationCase.objects.create(
        organisation=organisation,
        reason=ReverificationCase.Reason.ICO_LAPSED,
        details="Old",
        source="caseworker",
        status=ReverificationCase.Status.RESOLVED,
    )

    listed = vetting.get(_url(ReverificationCase, "changelist"))
    everything = vetting.get(_url(ReverificationCase, "changelist"), {"status": "all"})
    vetting.post(
        _url(ReverificationCase, "resolve", case.pk),
        {"resolution": "New director signed the agreement."},
    )

    assert list(listed.context["cl"].result_list) == [case]
    assert set(everything.context["cl"].result_list) == {case, closed}
    case.refresh_from_db()
    organisation.refresh_from_db()
    assert case.status == ReverificationCase.Status.RESOLVED
    assert case.resolved_by == vetter
    assert not organisation.flagged_for_review


def test_a_caseworker_edits_the_guidance_for_a_check(vetting):
    guidance, _ = CheckGuidance.objects.get_or_create(
        kind=CheckKind.UKPRN, defaults={"text": "Old"}
    )

    vetting.post(_url(CheckGuidance, "change", guidance.pk), {"text": "Use UKRLP."})

    guidance.refresh_from_db()
    assert guidance.text == "Use UKRLP."
    assert guidance.kind == CheckKind.UKPRN


# --- read-only pages ---------------------------------------------------------------


def test_signing_links_never_show_their_token_hash(admin_verified_client, version):
    application = RegistrationApplicationFactory.create(submitted=True)
    signature = _signed(application, version)
    token_hash = signature.signing_request.token_hash

    for url in (
        _url(SigningRequest, "changelist"),
        _url(SigningRequest, "change", signature.signing_request.pk),
        _url(SigningRequest, "history", signature.signing_request.pk),
    ):
        response = admin_verified_client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert token_hash not in response.content.decode()


@pytest.mark.parametrize("persona", ["superuser", "vetter"])
def test_every_registration_change_page_renders_with_data(
    request, persona, approvable, version
):
    client = verified_client(request.getfixturevalue(persona))
    organisation = OrganisationFactory.create()
    member = member_of(organisation)
    from registration.models import Suspension
    from registration.services import suspension_open

    suspension_open(
        subject_type=Suspension.Subject.USER,
        organisation=organisation,
        user=member,
        source=Suspension.Source.CASEWORKER,
        cause="caseworker",
        day=timezone.now().date(),
        reason="Searches at night",
        acting_user=approvable.applicant,
    )
    reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.ICO_LAPSED,
        details="Lapsed",
        source="caseworker",
        acting_user=approvable.applicant,
    )
    from registration.models import CompaniesHouseSnapshot, IcoRegistration, Invitation

    CheckGuidance.objects.get_or_create(kind=CheckKind.ICO, defaults={"text": "ICO"})
    CompaniesHouseSnapshot.objects.create(company_number="09876543", kind="profile")
    IcoRegistration.objects.create(
        registration_number="Z1234567", organisation_name="X"
    )
    Invitation.objects.create(
        organisation=organisation,
        email="new@college.example.com",
        full_name="New Person",
        invited_by=approvable.applicant,
        token_hash="b" * 64,
        expires_at=timezone.now(),
    )
    from registration.models import DirectorEmailException, SigningCode

    SigningCode.objects.create(
        signing_request=SigningRequest.objects.create(
            organisation=organisation,
            agreement_version=version,
            director_name="SMITH, Jane Alice",
            email="jane.smith@college.example.com",
            token_hash="c" * 64,
            expires_at=timezone.now(),
        ),
        code_hash="x",
        postcode="LS1 1AA",
        expires_at=timezone.now(),
    )
    DirectorEmailException.objects.create(
        organisation=organisation,
        email="jane@smith.example.org",
        spoke_to="Jane Smith, by phone",
        reason="No mailbox on the domain",
        recorded_by=approvable.applicant,
    )
    from tests.factories import issue_api_client

    issue_api_client(member)
    from registration.services.recertification import recertification_open

    recertification_open(organisation=member.membership.organisation)
    from registration.models import YearlyConfirmation

    YearlyConfirmation.objects.create(
        organisation=organisation,
        anniversary=timezone.now().date(),
        due_on=timezone.now().date(),
    )
    from registration.models import RecertificationConfirmation
    from registration.services.recertification import (
        department_recertification_open,
    )

    UserFactory.create(roles=[roles.CASEWORKER], is_staff=True)
    department_recertification_open()
    registered = [
        m for m in admin.site._registry if m._meta.app_label == "registration"
    ]
    # The confirmations' admin lists the department's own (decision 29).
    shown = {
        RecertificationConfirmation: RecertificationConfirmation.objects.filter(
            campaign__organisation__isnull=True
        )
    }

    for model in registered:
        obj = shown.get(model, model._default_manager).first()
        assert obj is not None, model
        response = client.get(_url(model, "change", obj.pk))
        assert response.status_code == HTTPStatus.OK, model
        assert client.get(_url(model, "history", obj.pk)).status_code == (
            HTTPStatus.OK
        ), model


def test_admin_templates_have_no_inline_scripts():
    folder = Path(settings.BASE_DIR) / "templates" / "admin" / "registration"

    for template in folder.rglob("*.html"):
        assert "<script" not in template.read_text(), template


# --- query counts ------------------------------------------------------------------


def test_the_application_queue_runs_a_bounded_number_of_queries(
    vetting, django_assert_max_num_queries
):
    RegistrationApplicationFactory.create_batch(30, submitted=True)

    with django_assert_max_num_queries(10):
        response = vetting.get(_url(RegistrationApplication, "changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_the_organisation_list_runs_a_bounded_number_of_queries(
    vetting, django_assert_max_num_queries
):
    versions = AgreementVersionFactory.create_batch(3)
    for i in range(30):
        OrganisationFactory.create(last_signed_version=versions[i % 3])

    # 11: one is the department recertification's gate (decision 29).
    with django_assert_max_num_queries(11):
        response = vetting.get(_url(Organisation, "changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_a_caseworker_sends_a_registered_organisations_director_a_signing_link(
    vetting,
):
    AgreementVersionFactory.create()
    organisation = OrganisationFactory.create()
    organisation_officers(organisation)
    url = _url(Organisation, "send_signing_link", organisation.pk)

    response = vetting.post(url, {})

    assert response.status_code == HTTPStatus.FOUND
    note = Notification.objects.get(reference="agreement.signing_link")
    assert note.to == organisation.signing_director_email
    assert organisation.signing_requests.count() == 1


@pytest.mark.parametrize("status", [S.REVOKED, S.DEREGISTERED])
def test_no_signing_link_for_an_organisation_off_the_register(vetting, status):
    AgreementVersionFactory.create()
    organisation = OrganisationFactory.create(status=status)

    response = vetting.post(
        _url(Organisation, "send_signing_link", organisation.pk), {}
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Notification.objects.exists()


def test_the_admin_home_counts_the_cases_the_night_opened(vetting):
    organisation = OrganisationFactory.create()
    reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.STRIKE_OFF_PROPOSED,
        details="Proposal to strike off",
        source="nightly re-verification",
        acting_user=system_user(),
    )
    reverification_open(
        organisation=organisation,
        reason=ReverificationCase.Reason.LEGAL_NAME_CHANGED,
        details="Changed from 'A' to 'B'.",
        source="provider change",
        acting_user=system_user(),
    )

    page = vetting.get(reverse("admin:index")).content.decode()

    assert "the nightly re-verification opened 1 case in the last day" in page
    assert "2 cases open in all" in page
