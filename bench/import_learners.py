"""Benchmark: import_learners against a bare PostgreSQL COPY of the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/import_learners.py [--rows 200000] [--seed 1]

Generates N synthetic learners (records/synthetic.py), creates a scratch database
next to DATABASE_URL's and migrates it, then times

1. a bare COPY of the file, streamed from this process, into an empty table
   like the learners table (``LIKE records_learner INCLUDING ALL``: its columns,
   defaults, constraints and indexes): the same rows into the same table, with
   nothing checked, reported or upserted;
   and, for information, a COPY into an unlogged table with no indexes or
   constraints: PostgreSQL parsing the CSV and nothing else, less than any load
   into a durable, indexed table can cost (building the learners' two indexes
   alone takes longer);
2. ``manage.py import_learners`` of the same file into the empty learners table
   (the file COPYed as it is into a staging table, screened in SQL, the rows the
   screen turns away checked in Python, repeats found in SQL, one insert in ULN
   order, the indexes built afterwards);
3. the same import again (every row unchanged), for information.

It prints the times and the ratio of 2 to 1 (the issue's target: within 2x of a
bare COPY of the same file) and to the unlogged COPY, then drops the scratch
database and deletes the files. It refuses SQLite.
"""

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import psycopg
from scratch import django_on_scratch_database, libpq

COPY_CHUNK = 1 << 20


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="default 200,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database",
        default="",
        help="name of the scratch database (default lrs_bench_import_<pid>)",
    )
    return parser.parse_args()


def _unlogged_copy(url: str, path: Path) -> float:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "CREATE UNLOGGED TABLE bench_copy (uln text, given_name text, "
            "middle_names text, family_name text, previous_family_name text, "
            "date_of_birth date, gender smallint, postcode text, email text)"
        )
        try:
            started = time.perf_counter()
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    "COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)"
                ) as copy,
                path.open("rb") as file,
            ):
                while chunk := file.read(COPY_CHUNK):
                    copy.write(chunk)
            return time.perf_counter() - started
        finally:
            conn.execute("DROP TABLE bench_copy")


def _bare_copy(url: str, path: Path) -> float:
    """A bare COPY of the file into a table like the learners': its columns,
    defaults, constraints and indexes (what any loader pays to put the rows
    there)."""
    optional = "middle_names, previous_family_name, email"
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_indexed (LIKE records_learner INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE bench_indexed ALTER ability_to_share SET DEFAULT -1, "
            "ALTER updated_at SET DEFAULT now()"
        )
        try:
            started = time.perf_counter()
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    "COPY bench_indexed (uln, given_name, middle_names, family_name, "
                    "previous_family_name, date_of_birth, gender, postcode, email) "
                    f"FROM STDIN (FORMAT csv, HEADER true, FORCE_NOT_NULL ({optional}))"
                ) as copy,
                path.open("rb") as file,
            ):
                while chunk := file.read(COPY_CHUNK):
                    copy.write(chunk)
            return time.perf_counter() - started
        finally:
            conn.execute("DROP TABLE bench_indexed")


def _import(path: Path) -> tuple[float, str]:
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    call_command("import_learners", str(path), stdout=out, stderr=err)
    return time.perf_counter() - started, out.getvalue().strip().replace("\n", ", ")


def _run(rows: int, seed: int, folder: Path) -> None:
    from django.core.management import call_command
    from django.db import connection

    from records.models import Learner
    from records.synthetic import synthetic_write

    call_command("migrate", verbosity=0, interactive=False)
    path = folder / "learners.csv"
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as file:
        synthetic_write(count=rows, learners_to=file, seed=seed)
    size = path.stat().st_size / 1e6
    print(f"generate {rows:,} learners: {time.perf_counter() - started:.2f} s")
    print(f"file: {path.name}, {size:.1f} MB")

    url = os.environ["DATABASE_URL"]
    copy_time = _bare_copy(url, path)
    print(f"1. bare COPY into a table like the learners':  {copy_time:6.2f} s")
    unlogged_time = _unlogged_copy(url, path)
    print(f"   (COPY into an unlogged table, no indexes:    {unlogged_time:6.2f} s)")
    assert not Learner.objects.exists()
    import_time, summary = _import(path)
    print(f"2. import_learners, empty table:                {import_time:6.2f} s")
    print(f"   {summary}")
    reload_time, summary = _import(path)
    print(f"3. import_learners, same file again:            {reload_time:6.2f} s")
    print(f"   {summary}")
    ratio = import_time / copy_time
    verdict = "within" if ratio <= 2 else "NOT within"
    print(f"ratio 2 / 1: {ratio:.2f}x ({verdict} the 2x target)")
    print(f"ratio 2 / the unlogged COPY: {import_time / unlogged_time:.2f}x")
    connection.close()


def main() -> None:
    arguments = _arguments()
    with (
        django_on_scratch_database(
            kind="import",
            name=arguments.database,
            needs="bench/import_learners.py measures PostgreSQL's COPY (SQLite has "
            "no COPY to compare against)",
            env={"DEBUG": os.environ.get("DEBUG", "true")},
        ),
        tempfile.TemporaryDirectory(prefix="lrs-bench-") as folder,
    ):
        _run(arguments.rows, arguments.seed, Path(folder))


if __name__ == "__main__":
    main()
