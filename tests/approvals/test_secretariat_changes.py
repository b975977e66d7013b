"""Amendments and extensions of a live share, as their own requests through
assessment and decision (decision 17)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from approvals import services
from approvals.models import DataShareRequest
from approvals.services.casefile import change_apply, change_start
from approvals.services.conditions import conditions_unmet
from approvals.services.requests import Refused
from tests.approvals.conftest import Cast, build_cast, make_requester
from tests.approvals.factories import ResearcherFactory

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _decided_change(cast: Cast, kind: str, **answers) -> DataShareRequest:
    share = cast.release()
    change = change_start(share=share, acting_user=cast.requester, kind=kind)
    if answers:
        services.request_save_answers(
            request=change, acting_user=cast.requester, answers=answers, section="x"
        )
    cast.request = change
    cast.to_panel()
    cast.votes("approve", "approve", "approve")
    cast.decide()
    return share


def test_a_change_is_a_new_draft_copied_from_the_share(cast: Cast):
    share = cast.release()

    change = change_start(share=share, acting_user=cast.requester, kind="extension")

    assert change.status == S.DRAFT
    assert change.change_of == share
    assert change.project_title == share.project_title
    assert change.datasets.count() == share.datasets.count()
    assert change.researchers.count() == share.researchers.count()
    assert services.request_missing_sections(change) == []


def test_only_a_live_share_is_changed(cast: Cast):
    cast.submit()

    with pytest.raises(Refused, match="live share"):
        change_start(share=cast.request, acting_user=cast.requester, kind="amendment")


def test_another_organisation_cannot_change_the_share(cast: Cast):
    share = cast.release()
    outsider = make_requester(build_cast().organisation)

    with pytest.raises(PermissionError):
        change_start(share=share, acting_user=outsider, kind="amendment")


def test_one_open_change_at_a_time(cast: Cast):
    share = cast.release()
    change_start(share=share, acting_user=cast.requester, kind="amendment")

    with pytest.raises(Refused, match="already open"):
        change_start(share=share, acting_user=cast.requester, kind="extension")


def test_an_approved_extension_moves_the_share_s_end_date(cast: Cast):
    assert cast.request.end_date is not None
    new_end = cast.request.end_date + timedelta(days=365)
    share = _decided_change(cast, "extension", end_date=new_end)
    change = cast.refresh()

    change_apply(change=change, acting_user=cast.caseworker)

    share.refresh_from_db()
    change.refresh_from_db()
    assert share.end_date == new_end
    assert change.status == S.CLOSED
    assert "Extension" in share.history.first().history_change_reason


def test_an_approved_amendment_adds_its_researchers_to_the_share(cast: Cast):
    share = cast.release()
    change = change_start(share=share, acting_user=cast.requester, kind="amendment")
    ResearcherFactory.create(request=change, email="new.person@uni.example.ac.uk")
    cast.request = change
    cast.to_panel()
    cast.votes("approve", "approve", "approve")
    cast.decide()

    change_apply(change=cast.refresh(), acting_user=cast.caseworker)

    emails = set(share.researchers.values_list("email", flat=True))
    assert "new.person@uni.example.ac.uk" in emails
    assert share.researchers.count() == 2


def test_an_amendment_approved_with_conditions_waits_for_them_to_be_met(
    cast: Cast,
):
    # Found by review: the share's new researchers and years went live with the
    # change's own conditions unmet, which a release would have refused.
    share = cast.release()
    change = change_start(share=share, acting_user=cast.requester, kind="amendment")
    ResearcherFactory.create(request=change, email="new.person@uni.example.ac.uk")
    cast.request = change
    cast.to_panel()
    cast.votes("approve", "approve", "approve")
    cast.decide("approved_with_conditions", conditions="- Outputs checked by ONS\n")

    with pytest.raises(Refused, match="not yet met: Outputs checked by ONS"):
        change_apply(change=cast.refresh(), acting_user=cast.caseworker)
    assert share.researchers.count() == 1

    [condition] = conditions_unmet(change)
    services.condition_mark_met(
        condition=condition, acting_user=cast.caseworker, evidence="ONS email"
    )
    change_apply(change=cast.refresh(), acting_user=cast.caseworker)
    assert share.researchers.count() == 2


def test_a_change_not_yet_approved_cannot_be_applied(cast: Cast):
    share = cast.release()
    change = change_start(share=share, acting_user=cast.requester, kind="extension")

    with pytest.raises(Refused, match="approved change"):
        change_apply(change=change, acting_user=cast.caseworker)


def test_a_change_is_not_a_row_of_its_own_on_the_register(cast: Cast):
    _decided_change(cast, "extension")
    change = cast.refresh()

    page = Client().get(reverse("approvals:published-csv")).content.decode()

    assert change.reference not in page
    assert change.change_of.reference in page


# --- the requester's page ----------------------------------------------------------


def test_the_requester_starts_a_change_from_the_status_page(cast: Cast):
    share = cast.release()
    client = _client(cast.requester)
    url = reverse("approvals:change", args=[share.reference])

    assert url in client.get(share.get_absolute_url()).text
    response = client.post(url, {"kind": "extension"})

    change = share.changes.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("approvals:tasks", args=[change.reference])


def test_the_change_page_shows_an_error_when_nothing_is_chosen(cast: Cast):
    share = cast.release()

    response = _client(cast.requester).post(
        reverse("approvals:change", args=[share.reference]), {}
    )

    assert response.status_code == HTTPStatus.OK
    assert "Select whether you need an amendment or an extension" in response.text
    assert not share.changes.exists()


def test_another_organisation_gets_404_for_the_change_page(cast: Cast):
    share = cast.release()
    outsider = make_requester(build_cast().organisation)

    response = _client(outsider).get(
        reverse("approvals:change", args=[share.reference])
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
