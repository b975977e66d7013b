"""Property: whatever department staff type into a workflow page (random,
hostile, enormous, NUL bytes, markup), the page answers with its form again or
a redirect, never a server error, and a change happens only when it is valid."""

from http import HTTPStatus

from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from approvals.models import FIVE_SAFES, DataShareRequest, PanelVote
from tests.approvals.conftest import build_cast
from tests.approvals.test_forms_hypothesis import TEXT
from tests.conftest import verified_client

S = DataShareRequest.Status
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CHOICES = st.one_of(
    TEXT,
    st.sampled_from(
        ["low", "medium", "high", "approve", "reject", "defer", "approved", "yes"]
    ),
)


def _client(user) -> Client:
    client = verified_client(user)
    client.raise_request_exception = True
    return client


def _url(name, share) -> str:
    return reverse(f"admin:approvals_datasharerequest_{name}", args=[share.pk])


def _answered(response) -> None:
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
    if response.status_code == HTTPStatus.OK:
        assert "<script>alert(1)</script>" not in response.content.decode()


class WorkflowPageProperties(TestCase):
    @SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {
                **{key: CHOICES for key, _ in FIVE_SAFES},
                **{f"{key}_reason": TEXT for key, _ in FIVE_SAFES},
                "recommendation": CHOICES,
                "recommended_conditions": TEXT,
                "no_conflict": st.sampled_from(["on", ""]),
            }
        )
    )
    def test_assessment(self, data):
        cast = build_cast()
        cast.triage()

        _answered(_client(cast.assessor).post(_url("assess", cast.request), data))

        share = cast.refresh()
        if share.status == S.PANEL:
            assert data["no_conflict"] == "on"
            assert share.assessment.no_conflict_declared
            for key, _ in FIVE_SAFES:
                assert getattr(share.assessment, f"{key}_reason").strip()
        else:
            assert share.status == S.ASSESSMENT

    @SETTINGS
    @given(data=st.fixed_dictionaries({"request_text": TEXT}))
    def test_return_for_information(self, data):
        cast = build_cast()
        cast.submit()

        _answered(
            _client(cast.caseworker).post(
                _url("return_for_information", cast.request), data
            )
        )

        share = cast.refresh()
        assert share.status in {S.SUBMITTED, S.RETURNED}
        if share.status == S.RETURNED:
            assert share.information_requested.strip()

    @SETTINGS
    @given(data=st.fixed_dictionaries({"vote": CHOICES, "comments": TEXT}))
    def test_vote(self, data):
        cast = build_cast()
        cast.to_panel()

        _answered(_client(cast.members[1]).post(_url("vote", cast.request), data))

        assert PanelVote.objects.filter(member=cast.members[1]).count() <= 1

    @SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {
                "outcome": CHOICES,
                "reasons": TEXT,
                "supports_aims": TEXT,
                "conditions": TEXT,
            }
        )
    )
    def test_decision(self, data):
        cast = build_cast()
        cast.to_panel()
        cast.votes("approve", "approve", "approve")

        _answered(_client(cast.chair).post(_url("decide", cast.request), data))

        share = cast.refresh()
        decision = share.decisions.first()
        if decision is None:
            assert share.status == S.PANEL
        else:
            assert decision.supports_aims.strip()
            assert decision.reasons.strip()

    @SETTINGS
    @given(data=st.fixed_dictionaries({"risk_accepted": CHOICES, "comments": TEXT}))
    def test_escalation(self, data):
        from approvals.models import RiskSettings

        settings_row = RiskSettings.current()
        settings_row.risk_appetite = 1
        settings_row.save()
        cast = build_cast()
        cast.to_panel()

        _answered(_client(cast.siro).post(_url("escalation", cast.request), data))

        for escalation in cast.request.escalations.all():
            assert escalation.comments.strip()


IDS = st.one_of(TEXT, st.integers(min_value=-5, max_value=10**6).map(str))
DATES = st.one_of(
    TEXT, st.dates().map(lambda d: d.isoformat()), st.sampled_from(["", "2026-02-30"])
)


class MoreWorkflowPageProperties(TestCase):
    @SETTINGS
    @given(data=st.fixed_dictionaries({"detail": TEXT}))
    def test_declare_conflict(self, data):
        cast = build_cast()
        cast.to_panel()

        _answered(
            _client(cast.members[1]).post(_url("declare_conflict", cast.request), data)
        )

        declared = PanelVote.objects.filter(
            request=cast.request, member=cast.members[1], conflict_declared=True
        )
        if declared.exists():  # recorded only with a conflict described
            assert data["detail"].strip()

    @SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {"assessor": IDS, "no_conflict_declared": st.sampled_from(["on", ""])}
        )
    )
    def test_assign_assessor(self, data):
        cast = build_cast()
        cast.submit()
        from approvals.services import request_accept_for_assessment

        request_accept_for_assessment(request=cast.request, acting_user=cast.caseworker)

        _answered(
            _client(cast.caseworker).post(_url("assign_assessor", cast.request), data)
        )

        share = cast.refresh()
        if share.assessor_id is not None:
            assert str(share.assessor_id) == data["assessor"].strip()

    @SETTINGS
    @given(data=st.fixed_dictionaries({"meeting": IDS}))
    def test_place_on_meeting(self, data):
        cast = build_cast()
        cast.assess()

        _answered(
            _client(cast.caseworker).post(_url("place_on_meeting", cast.request), data)
        )

        share = cast.refresh()
        if share.status == S.PANEL and share.panel_meeting_id is not None:
            assert str(share.panel_meeting_id) == data["meeting"].strip()

    @SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {
                "dataset": IDS,
                "srs_project_reference": TEXT,
                "researchers": IDS,
                "end_date": DATES,
            }
        )
    )
    def test_release(self, data):
        cast = build_cast()
        cast.approve()

        _answered(_client(cast.caseworker).post(_url("release", cast.request), data))

        share = cast.refresh()
        if share.releases.exists():
            assert share.status == S.RELEASED
        else:
            assert share.status in (S.APPROVED, S.APPROVED_WITH_CONDITIONS)

    @SETTINGS
    @given(data=st.fixed_dictionaries({"confirm": TEXT}))
    def test_accept_certificate_without_one(self, data):
        cast = build_cast()
        cast.release()

        _answered(
            _client(cast.caseworker).post(
                _url("accept_certificate", cast.request), data
            )
        )

        assert cast.refresh().status == S.RELEASED


class AdminFormProperties(TestCase):
    @SETTINGS
    @given(data=st.fixed_dictionaries({"email": TEXT}))
    def test_add_requester(self, data):
        cast = build_cast()
        url = reverse(
            "admin:approvals_researchorganisation_add_requester",
            args=[cast.organisation.pk],
        )
        before = set(cast.organisation.affiliations.values_list("user_id", flat=True))

        _answered(_client(cast.caseworker).post(url, data))

        after = set(cast.organisation.affiliations.values_list("user_id", flat=True))
        for user_id in after - before:  # only an existing account's own address
            from lrs_portal.models import User

            assert User.objects.get(pk=user_id).email == data["email"].strip().lower()

    @SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {"held_on": DATES, "chair": IDS, "members": IDS, "notes": TEXT}
        )
    )
    def test_add_panel_meeting(self, data):
        from approvals.models import PanelMeeting

        cast = build_cast()
        before = PanelMeeting.objects.count()
        payload = {
            **data,
            "requests-TOTAL_FORMS": "0",
            "requests-INITIAL_FORMS": "0",
        }

        response = _client(cast.caseworker).post(
            reverse("admin:approvals_panelmeeting_add"), payload
        )

        assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
        if response.status_code == HTTPStatus.OK:
            assert PanelMeeting.objects.count() == before
