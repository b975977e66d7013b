"""Public transparency pages (no sign-in): the register of organisations with
LRS access today, as a page and a CSV, and a page saying in plain words what the
service logs and how a learner asks for their access report (decision 0028).

The register lists exactly the organisations the gate lets through
(records.permissions.organisations_with_access), so a suspended, revoked or
deregistered organisation, or one whose agreement or purpose is not in force,
is never listed.
"""

from collections.abc import Iterator

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET

from records.permissions import organisations_with_access
from registration.admin.base import csv_response
from registration.models import Organisation, RegistrationApplication

PAGE_SIZE = 50
CSV_HEADER = ("Organisation", "UKPRN", "Kind of purpose", "Registered since")
_PURPOSES: dict[str, str] = {
    RegistrationApplication.Purpose.OWN_STUDENTS: gettext_noop(
        "Enrolling its own learners"
    ),
    RegistrationApplication.Purpose.OTHER: gettext_noop(
        "Another purpose, approved after a follow-up discussion"
    ),
}


def purpose_kind(organisation: Organisation) -> str:
    """In English (the CSV is data); the page says it with gettext."""
    return _PURPOSES.get(organisation.purpose, gettext_noop("Another purpose"))


def _rows() -> Iterator[list[object]]:
    for organisation in organisations_with_access():
        yield [
            organisation.legal_name,
            organisation.ukprn,
            purpose_kind(organisation),
            timezone.localdate(organisation.registered_at).isoformat(),
        ]


@require_GET
def access_register(request: HttpRequest) -> HttpResponse:
    organisations = organisations_with_access()
    page = Paginator(organisations, PAGE_SIZE).get_page(request.GET.get("page"))
    for organisation in page:
        organisation.purpose_kind = gettext(purpose_kind(organisation))  # type: ignore[attr-defined]
    return render(
        request,
        "records/access_register.html",
        {"page": page, "today": timezone.localdate()},
    )


@require_GET
def access_register_csv(request: HttpRequest) -> HttpResponse:
    filename = f"lrs-access-register-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, CSV_HEADER, _rows())


@require_GET
def your_record(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "records/your_record.html",
        {
            "support_email": settings.SUPPORT_EMAIL,
            "retention_months": settings.LEARNER_VIEW_RETENTION_MONTHS,
        },
    )
