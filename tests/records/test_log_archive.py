"""Months of the learner view log past retention: detached, archived (gzip, a
manifest with the row count and SHA-256), verified, only then dropped; and
restored into a table with the same rows and checksum (records/log_archive.py).

On real PostgreSQL, inside each test's transaction (DDL is transactional)."""

import gzip
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, transaction

from lrs_portal.models import JobRun
from records import log_archive, log_grants, log_partitions
from records.models import LearnerView
from tests.records.test_log_postgres import (
    as_role,
    log_row,
    mid_month,
    month_add,
    roles,  # noqa: F401 (a fixture)
    sql,
    this_month,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
RETENTION = 24


@pytest.fixture
def archive_dir(settings, tmp_path):
    settings.LEARNER_VIEW_RETENTION_MONTHS = RETENTION
    settings.LEARNER_VIEW_ARCHIVE_DIR = tmp_path / "archives"
    return settings.LEARNER_VIEW_ARCHIVE_DIR


@pytest.fixture
def old_month():
    """A month well past retention, with its partition and three rows."""
    month = month_add(this_month(), -(RETENTION + 6))
    log_partitions.partitions_ensure(months_ahead=0, today=month)
    for day in (2, 15, 27):
        log_row(viewed_at=mid_month(month).replace(day=day))
    return month


def rows_of(table: str) -> list[tuple[object, ...]]:
    return sql(
        f"SELECT id, viewed_at, user_id, organisation_id, action, outcome, "  # noqa: S608
        f'learner_uln, channel FROM "{table}" ORDER BY id'
    )


def retire(archive_dir):
    return log_partitions.partitions_drop_older_than(
        retention_months=RETENTION, archive_dir=archive_dir
    )


def test_a_month_past_retention_is_archived_then_dropped_and_restores_whole(
    archive_dir, old_month
):
    name = log_partitions.partition_name(old_month)
    before = rows_of(name)

    retired = retire(archive_dir)

    assert name in retired.archived
    assert name in retired.dropped
    assert sql("SELECT to_regclass(%s)", [name]) == [(None,)]
    archive, manifest_path = log_archive.archive_paths(archive_dir, name)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["rows"] == 3
    assert archive.stat().st_mode & 0o077 == 0  # the owner's alone
    assert manifest["file_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    content = gzip.decompress(archive.read_bytes())
    assert manifest["content_sha256"] == hashlib.sha256(content).hexdigest()
    out = StringIO()

    call_command("restore_log_archive", name, "--archive-dir", archive_dir, stdout=out)

    assert rows_of(f"{name}_restored") == before
    assert "Restored 3 rows" in out.getvalue()
    assert "SHA-256 checksum match" in out.getvalue()


def test_a_month_within_retention_is_untouched(archive_dir, old_month):
    kept_month = month_add(this_month(), -RETENTION)  # partly within retention
    log_partitions.partitions_ensure(months_back=RETENTION, months_ahead=0)
    kept = log_row(viewed_at=mid_month(kept_month))

    retired = retire(archive_dir)

    assert log_partitions.partition_name(kept_month) not in retired.dropped
    assert LearnerView.objects.filter(pk=kept.pk).exists()
    archived = {path.name for path in archive_dir.iterdir()}
    assert archived == {
        f"{log_partitions.partition_name(old_month)}.csv.gz",
        f"{log_partitions.partition_name(old_month)}.manifest.json",
    }


def test_a_corrupt_archive_is_refused_and_nothing_is_restored(archive_dir, old_month):
    name = log_partitions.partition_name(old_month)
    retire(archive_dir)
    archive, _ = log_archive.archive_paths(archive_dir, name)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="corrupt"):
        call_command("restore_log_archive", name, "--archive-dir", archive_dir)
    assert sql("SELECT to_regclass(%s)", [f"{name}_restored"]) == [(None,)]


def test_an_archive_whose_manifest_claims_other_rows_is_refused(archive_dir, old_month):
    name = log_partitions.partition_name(old_month)
    retire(archive_dir)
    _, manifest_path = log_archive.archive_paths(archive_dir, name)
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "rows": 4}))

    with pytest.raises(CommandError, match="the manifest says 4"):
        call_command("restore_log_archive", name, "--archive-dir", archive_dir)
    assert sql("SELECT to_regclass(%s)", [f"{name}_restored"]) == [(None,)]


def test_run_twice_the_second_run_archives_and_drops_nothing(archive_dir, old_month):
    call_command("maintain_partitions", stdout=StringIO())
    name = log_partitions.partition_name(old_month)
    archive, _ = log_archive.archive_paths(archive_dir, name)
    first = archive.read_bytes()
    out = StringIO()

    call_command("maintain_partitions", stdout=out)

    assert "Nothing to do" in out.getvalue()
    assert archive.read_bytes() == first
    runs = JobRun.objects.order_by("started_at")
    assert [run.counts["dropped"] for run in runs] == [1, 0]
    assert [run.counts["archived"] for run in runs] == [1, 0]


def test_a_partition_left_detached_by_a_failed_run_is_archived_by_the_next(
    archive_dir, old_month, tmp_path
):
    name = log_partitions.partition_name(old_month)
    before = rows_of(name)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")

    with pytest.raises(FileExistsError), transaction.atomic():
        retire(blocked)
    # The failed run's savepoint rolled back; detach by hand as a crash would leave it.
    sql(f'ALTER TABLE "{log_grants.LOG_TABLE}" DETACH PARTITION "{name}"')
    assert name not in [n for n, _, _ in log_partitions.partitions_list()]

    retired = retire(archive_dir)

    assert retired.archived == retired.dropped == [name]
    call_command(
        "restore_log_archive", name, "--archive-dir", archive_dir, stdout=StringIO()
    )
    assert rows_of(f"{name}_restored") == before


def test_a_bad_archive_already_there_is_written_afresh_before_any_drop(
    archive_dir, old_month
):
    name = log_partitions.partition_name(old_month)
    archive, manifest_path = log_archive.archive_paths(archive_dir, name)
    archive_dir.mkdir(parents=True)
    archive.write_bytes(b"not gzip")
    manifest_path.write_text("{}")

    retired = retire(archive_dir)

    assert retired.archived == [name]
    manifest = log_archive.manifest_read(manifest_path)
    assert manifest.rows == 3


def test_a_detached_month_gives_the_app_role_nothing(archive_dir, old_month, roles):  # noqa: F811
    app, _ = roles
    name = log_partitions.partition_name(old_month)
    sql(f'ALTER TABLE "{log_grants.LOG_TABLE}" DETACH PARTITION "{name}"')

    for verb in ("SELECT * FROM", "DELETE FROM"):
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            as_role(app),
        ):
            sql(f'{verb} "{name}"')


def test_the_app_role_cannot_archive_or_drop_a_month(archive_dir, old_month, roles):  # noqa: F811
    app, _ = roles

    with as_role(app), pytest.raises(CommandError, match="owner role"):
        call_command("maintain_partitions", stdout=StringIO())
    assert log_partitions.partition_name(old_month) in [
        n for n, _, _ in log_partitions.partitions_list()
    ]


def test_restore_refuses_a_partitions_name_for_its_table(archive_dir, old_month):
    name = log_partitions.partition_name(old_month)
    retire(archive_dir)

    with pytest.raises(CommandError, match="not a partition's name"):
        call_command(
            "restore_log_archive", name, "--archive-dir", archive_dir, "--table", name
        )
