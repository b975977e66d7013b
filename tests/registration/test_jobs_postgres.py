"""The nightly registration jobs under PostgreSQL's advisory lock: a second run
while another holds the lock does nothing and says so (architecture rule 7)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from lrs_portal.jobs import advisory_lock
from lrs_portal.models import JobRun
from registration.models import ReverificationCase
from tests.factories import OrganisationFactory, member_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_reverify_organisations_skips_while_another_run_holds_the_lock():
    OrganisationFactory.create()
    out = StringIO()

    # advisory_lock takes the lock on a connection of its own: another run.
    with advisory_lock("lrs.job.reverify_organisations") as held:
        call_command("reverify_organisations", stdout=out)

    assert held is True
    assert "Another reverify_organisations run holds the lock" in out.getvalue()
    assert JobRun.objects.get().outcome == JobRun.Outcome.SKIPPED
    assert not ReverificationCase.objects.exists()


@pytest.mark.parametrize(("options", "recorded"), [((), 1), (("--dry-run",), 0)])
def test_housekeeping_skips_while_another_run_holds_the_lock(options, recorded):
    organisation = OrganisationFactory.create()
    unused = member_of(organisation, date_joined=timezone.now() - timedelta(days=400))
    out = StringIO()

    with advisory_lock("lrs.job.housekeeping") as held:
        call_command("housekeeping", *options, stdout=out)

    assert held is True
    assert "Another housekeeping run holds the lock" in out.getvalue()
    unused.refresh_from_db()
    assert unused.is_active is True
    skipped = JobRun.objects.filter(job="housekeeping")
    assert [run.outcome for run in skipped] == [JobRun.Outcome.SKIPPED] * recorded
