"""Benchmark: retiring a month of the lookup log past retention (issue 15).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/log_archive.py [--rows 1000000]

Creates a scratch database next to DATABASE_URL's and migrates it, puts --rows
LearnerView rows in one month well past retention (one INSERT ... SELECT
generate_series, ULNs, actions and outcomes mixed), then times, in one run:

(a) a bare ``COPY (SELECT * FROM partition) TO STDOUT`` read and thrown away:
    what PostgreSQL takes to hand the month over at all;
(b) records.log_partitions.partitions_drop_older_than on that month: detach,
    COPY through gzip to the archive, the manifest, the verification (the file
    read back and the table copied out again), and the drop;
(c) restore_log_archive of it into a table, with its count and checksum checks.

It prints (b)/(a), (c)/(a), the archive's size and bytes a row, and drops the
scratch database at the end (and its archive directory). It refuses SQLite.
"""

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scratch import django_on_scratch_database  # bench/ is the script's folder


def _fill(rows: int) -> str:
    from django.db import connection
    from django.utils import timezone

    from lrs_portal.models import User
    from records import log_partitions
    from registration.models import Organisation

    month = timezone.now().date().replace(day=1)
    month = log_partitions.month_add(month, -36)
    log_partitions.partitions_ensure(months_ahead=0, today=month)
    user = User.objects.create(email="bench@example.com", full_name="Bench")
    organisation = Organisation.objects.create(
        ukprn="10000001",
        legal_name="BENCH PROVIDER LIMITED",
        companies_house_number="00000001",
        ico_number="Z0000001",
        registered_address="1 Bench Road",
        website="https://bench.example.com",
        estimated_learners_per_year=20_000,
        purpose="own_students",
    )
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_learnerview (viewed_at, user_id, organisation_id,"
            " action, outcome, match_count, learner_uln, request_id)"
            " SELECT %s::timestamptz + (g %% (27 * 86400)) * interval '1 second',"
            " %s, %s,"
            " (ARRAY['search_uln', 'search_demographics', 'view_record'])[1 + g %% 3],"
            " (ARRAY['exact_match', 'no_match', 'possible_matches', 'shown'])"
            "[1 + (g / 3) %% 4], 1,"
            " (1000000000 + (g::bigint * 7919) %% 899999999)::text,"
            " md5(g::text)"
            " FROM generate_series(1, %s) AS g",
            [start, user.pk, organisation.pk, rows],
        )
        cursor.execute("ANALYZE records_learnerview")
    return log_partitions.partition_name(month)


def _bare_copy(name: str) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        raw = cursor.connection.cursor()
        with raw, raw.copy(f'COPY (SELECT * FROM "{name}") TO STDOUT') as copy:
            for _ in copy:
                pass
        return time.perf_counter() - began


def _run(rows: int, archive_dir: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from records import log_archive, log_partitions

    call_command("migrate", verbosity=0)
    name = _fill(rows)
    bare = _bare_copy(name)
    began = time.perf_counter()
    retired = log_partitions.partitions_drop_older_than(
        retention_months=settings.LEARNER_VIEW_RETENTION_MONTHS,
        archive_dir=archive_dir,
    )
    archived = time.perf_counter() - began
    if name not in retired.dropped:
        sys.exit(f"{name} was not retired: {retired}")
    began = time.perf_counter()
    log_archive.archive_restore(name=name, directory=archive_dir, table="restored")
    restored = time.perf_counter() - began
    archive, _ = log_archive.archive_paths(archive_dir, name)
    size = archive.stat().st_size
    print(f"rows: {rows:,}")
    print(f"(a) bare COPY TO STDOUT: {bare:.2f} s")
    print(
        f"(b) detach, archive, verify, drop: {archived:.2f} s ({archived / bare:.1f}x)"
    )
    print(f"(c) restore and check: {restored:.2f} s ({restored / bare:.1f}x)")
    print(f"archive: {size / 1e6:.1f} MB, {size / rows:.1f} bytes a row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    archive_dir = Path(tempfile.mkdtemp(prefix="lrs-bench-archive-"))
    try:
        with django_on_scratch_database(
            kind="archive",
            needs="bench/log_archive.py measures partition archiving on PostgreSQL",
            env=env,
        ):
            _run(arguments.rows, archive_dir)
    finally:
        shutil.rmtree(archive_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
