"""The department's admin pages for data share requests: smoke tests of every
ModelAdmin, and the whole workflow through the workflow pages."""

from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from approvals.models import (
    FIVE_SAFES,
    DataShareRequest,
    PanelMeeting,
    ResearchOrganisation,
    RiskSettings,
)
from lrs_portal import roles
from tests.approvals.conftest import Cast, staff
from tests.conftest import verified_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status
MODELS = [
    "datasharerequest",
    "researchorganisation",
    "affiliation",
    "panelmeeting",
    "release",
    "destructioncertificate",
    "risksettings",
    "riskappetitechange",
]


def _wf(name: str, share: DataShareRequest) -> str:
    return reverse(f"admin:approvals_datasharerequest_{name}", args=[share.pk])


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_and_search_renders(cast: Cast, admin_verified_client, model):
    cast.release()
    RiskSettings.current()
    url = reverse(f"admin:approvals_{model}_changelist")

    assert admin_verified_client.get(url).status_code == HTTPStatus.OK
    assert admin_verified_client.get(url, {"q": "DS"}).status_code == HTTPStatus.OK


def test_the_request_page_has_history_and_object_permission_buttons(
    cast: Cast, admin_verified_client
):
    cast.release()

    response = admin_verified_client.get(_wf("change", cast.request))

    assert response.status_code == HTTPStatus.OK
    assert "History" in response.text
    assert "Object permissions" in response.text


def test_the_request_queue_filters_render(cast: Cast):
    cast.submit()
    client = verified_client(cast.caseworker)
    url = reverse("admin:approvals_datasharerequest_changelist")

    for needs in ("triage", "assessor", "meeting", "release", "certificate"):
        response = client.get(url, {"needs": needs})
        assert response.status_code == HTTPStatus.OK
    assert cast.request.reference in client.get(url, {"needs": "triage"}).text
    assert cast.request.reference not in client.get(url, {"needs": "release"}).text


def test_a_caseworker_cannot_change_the_risk_model(cast: Cast):
    settings = RiskSettings.current()
    url = reverse("admin:approvals_risksettings_change", args=[settings.pk])

    response = verified_client(cast.caseworker).post(url, {"risk_appetite": 99})

    settings.refresh_from_db()
    assert settings.risk_appetite == 10
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN)


def test_the_risk_settings_form_refuses_a_quorum_below_three(admin_verified_client):
    settings = RiskSettings.current()
    url = reverse("admin:approvals_risksettings_change", args=[settings.pk])
    data = {
        field.name: getattr(settings, field.name)
        for field in RiskSettings._meta.fields
        if field.editable and field.name != "id"
    }

    response = admin_verified_client.post(url, {**data, "quorum": 2})

    assert "Ensure this value is greater than or equal to 3." in response.text
    settings.refresh_from_db()
    assert settings.quorum == 3


def test_a_caseworker_adds_a_requester_to_an_organisation(cast: Cast):
    organisation = ResearchOrganisation.objects.create(name="Institute", kind="charity")
    person = UserFactory.create()
    url = reverse(
        "admin:approvals_researchorganisation_add_requester", args=[organisation.pk]
    )

    verified_client(cast.caseworker).post(url, {"email": person.email})

    assert person.affiliation.organisation == organisation
    assert person.groups.filter(name=roles.DSAP_REQUESTER).exists()


def test_a_meeting_needs_three_members_with_the_chair_among_them(cast: Cast):
    chair, other = staff(roles.DSAP_PANEL_MEMBER), staff(roles.DSAP_PANEL_MEMBER)

    response = verified_client(cast.caseworker).post(
        reverse("admin:approvals_panelmeeting_add"),
        {
            "held_on": "2030-01-01",
            "chair": chair.pk,
            "members": [other.pk],
            "requests-TOTAL_FORMS": 0,
            "requests-INITIAL_FORMS": 0,
        },
    )

    assert "The chair must be one of the members" in response.text
    assert "A meeting needs at least three members" in response.text
    assert not PanelMeeting.objects.filter(held_on="2030-01-01").exists()


def test_panel_members_see_only_their_own_meetings(cast: Cast):
    other = PanelMeeting.objects.create(held_on="2031-01-01", chair=cast.caseworker)

    response = verified_client(cast.members[1]).get(
        reverse("admin:approvals_panelmeeting_changelist")
    )

    assert response.status_code == HTTPStatus.OK
    assert reverse("admin:approvals_panelmeeting_change", args=[cast.meeting.pk]) in (
        response.text
    )
    assert (
        reverse("admin:approvals_panelmeeting_change", args=[other.pk])
        not in response.text
    )


def test_a_member_added_to_the_meeting_later_gets_the_vote(cast: Cast):
    cast.to_panel()
    newcomer = staff(roles.DSAP_PANEL_MEMBER)
    client = verified_client(cast.caseworker)
    url = reverse("admin:approvals_panelmeeting_change", args=[cast.meeting.pk])

    client.post(
        url,
        {
            "held_on": cast.meeting.held_on.isoformat(),
            "chair": cast.chair.pk,
            "members": [m.pk for m in cast.members] + [newcomer.pk],
            "requests-TOTAL_FORMS": 1,
            "requests-INITIAL_FORMS": 1,
            "requests-0-id": cast.request.pk,
            "requests-0-panel_meeting": cast.meeting.pk,
        },
    )

    response = verified_client(newcomer).post(
        _wf("vote", cast.request), {"vote": "approve", "comments": ""}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert cast.request.votes.filter(member=newcomer).exists()


def test_the_whole_workflow_through_the_admin(cast: Cast):
    cast.submit()
    caseworker = verified_client(cast.caseworker)

    caseworker.post(_wf("accept", cast.request))
    assert cast.refresh().status == S.ASSESSMENT
    caseworker.post(
        _wf("assign_assessor", cast.request),
        {"assessor": cast.assessor.pk, "no_conflict_declared": "on"},
    )
    assert cast.refresh().assessor == cast.assessor

    assessment = {
        "recommendation": "approve",
        "recommended_conditions": "",
        "no_conflict": "on",
    }
    for key, _ in FIVE_SAFES:
        assessment[key] = "low"
        assessment[f"{key}_reason"] = "Fine"
    verified_client(cast.assessor).post(_wf("assess", cast.request), assessment)
    assert cast.refresh().status == S.PANEL

    caseworker.post(_wf("place_on_meeting", cast.request), {"meeting": cast.meeting.pk})
    assert cast.refresh().panel_meeting == cast.meeting
    for member in cast.members[:3]:
        verified_client(member).post(
            _wf("vote", cast.request), {"vote": "approve", "comments": "Good"}
        )
    verified_client(cast.chair).post(
        _wf("decide", cast.request),
        {
            "outcome": "approved",
            "reasons": "Clear public benefit",
            "supports_aims": "Aligned to research interests",
            "conditions": "",
        },
    )
    assert cast.refresh().status == S.APPROVED

    caseworker.post(
        _wf("release", cast.request),
        {
            "dataset": cast.request.datasets.get().pk,
            "srs_project_reference": "SRS-1",
            "researchers": [r.pk for r in cast.request.researchers.all()],
            "end_date": cast.request.end_date.isoformat(),
        },
    )
    assert cast.refresh().status == S.RELEASED


def test_a_refused_action_shows_why_and_changes_nothing(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve")

    response = verified_client(cast.chair).post(
        _wf("decide", cast.request),
        {"outcome": "approved", "reasons": "r", "supports_aims": "a", "conditions": ""},
        follow=True,
    )

    assert "not quorate: 2 of 3" in response.text
    assert cast.refresh().status == S.PANEL


def test_the_release_page_flags_researchers_whose_accreditation_ends_too_soon(
    cast: Cast,
):
    researcher = cast.request.researchers.get()
    researcher.accreditation_expires_on = timezone.localdate()
    # A name the page must escape (Faker draws such names now and then).
    researcher.full_name = "Malcolm O'Connor"
    researcher.save()
    cast.approve()

    response = verified_client(cast.caseworker).get(_wf("release", cast.request))

    flag = "accreditation does not last until the end date"
    assert f"{escape(researcher.full_name)}: {flag}" in response.text


def test_a_panel_member_reads_the_whole_case_before_voting(cast: Cast):
    cast.to_panel()
    researcher = cast.request.researchers.get()

    response = verified_client(cast.members[1]).get(_wf("change", cast.request))

    assert escape(researcher.full_name) in response.text
    assert "2019/20" in response.text
    assert "Safe projects is fine" in response.text  # the assessment's reasons


def test_the_risk_breakdown_is_a_table_of_named_factors(cast: Cast):
    cast.to_panel()

    body = verified_client(cast.members[1]).get(_wf("change", cast.request)).text

    assert '<th scope="col">Factor</th>' in body
    assert '<th scope="row">Most sensitive dataset</th>' in body
    assert '<th scope="row">Access route</th>' in body
    assert "&quot;access_route&quot;" not in body
    assert "{&#x27;tier" not in body


def test_nobody_changes_their_own_affiliation(cast: Cast):
    from tests.approvals.factories import AffiliationFactory

    own = AffiliationFactory.create(user=cast.caseworker)
    other_org = ResearchOrganisation.objects.create(name="Elsewhere", kind="charity")
    url = reverse("admin:approvals_affiliation_change", args=[own.pk])

    verified_client(cast.caseworker).post(
        url, {"user": cast.caseworker.pk, "organisation": other_org.pk}
    )

    own.refresh_from_db()
    assert own.organisation != other_org


@pytest.mark.parametrize(
    "model", ["researchorganisation", "affiliation", "panelmeeting"]
)
def test_the_add_pages_render(admin_verified_client, model):
    response = admin_verified_client.get(reverse(f"admin:approvals_{model}_add"))

    assert response.status_code == HTTPStatus.OK


def test_every_change_page_renders(cast: Cast, admin_verified_client):
    cast.release()
    services_certificate(cast)
    share = cast.refresh()
    rows = {
        "datasharerequest": share.pk,
        "researchorganisation": share.organisation_id,
        "affiliation": cast.requester.affiliation.pk,
        "panelmeeting": cast.meeting.pk,
        "release": share.releases.get().pk,
        "destructioncertificate": share.certificate.pk,
        "risksettings": RiskSettings.current().pk,
    }

    for model, pk in rows.items():
        url = reverse(f"admin:approvals_{model}_change", args=[pk])
        assert admin_verified_client.get(url).status_code == HTTPStatus.OK, model


def services_certificate(cast: Cast) -> None:
    from approvals import services

    services.certificate_submit(
        request=cast.refresh(),
        acting_user=cast.requester,
        destroyed_by="A",
        destroyed_on=timezone.localdate(),
        what_was_destroyed="All",
        method="Deleted",
    )


def test_a_caseworker_cannot_reshape_a_panel_deciding_their_own_organisations_request(
    cast: Cast,
):
    from tests.approvals.factories import AffiliationFactory

    cast.to_panel()
    AffiliationFactory.create(user=cast.caseworker, organisation=cast.organisation)
    client = verified_client(cast.caseworker)
    url = reverse("admin:approvals_panelmeeting_change", args=[cast.meeting.pk])
    members = list(cast.meeting.members.values_list("pk", flat=True))

    client.post(
        url,
        {
            "held_on": cast.meeting.held_on.isoformat(),
            "chair": cast.meeting.chair_id,
            "members": members[:-1],
            "requests-TOTAL_FORMS": "0",
            "requests-INITIAL_FORMS": "0",
        },
    )

    assert sorted(cast.meeting.members.values_list("pk", flat=True)) == sorted(members)


@pytest.mark.parametrize("field", ["members", "chair"])
def test_an_id_no_key_can_hold_is_a_form_error_not_a_server_error(cast: Cast, field):
    from approvals.models import PanelMeeting

    client = verified_client(cast.caseworker)
    client.raise_request_exception = True
    before = PanelMeeting.objects.count()

    response = client.post(
        reverse("admin:approvals_panelmeeting_add"),
        {
            "held_on": "2030-01-01",
            "chair": cast.chair.pk,
            "members": [m.pk for m in cast.members],
            field: "10000000000000000000",
            "requests-TOTAL_FORMS": "0",
            "requests-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert "errornote" in response.content.decode()
    assert PanelMeeting.objects.count() == before
