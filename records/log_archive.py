"""Archives of the learner view log's months past retention (PostgreSQL only).

A detached partition is written with ``COPY … TO STDOUT`` (CSV with a header,
rows in (viewed_at, id) order, times in UTC) through gzip into
``<partition>.csv.gz``, beside a manifest ``<partition>.manifest.json`` holding
its row count, the SHA-256 of the CSV and of the compressed file. It is verified
(the file read back, and the table copied out again, must give the same
checksum) before records.log_partitions drops the table. ``restore_log_archive``
loads an archive into a table and checks its count and checksum the same way.
Runbook: docs/runbooks/database-roles.md; why: docs/decisions/0024-log-retention.md.
"""

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from lrs_portal.pg import quoted
from records.log_grants import LOG_TABLE, partition_revokes

FORMAT = "csv, header, UTF-8, gzip; rows ordered by viewed_at, id; times in UTC"
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """An archive that does not match its manifest or its table: never trusted."""


@dataclass(frozen=True)
class Manifest:
    partition: str
    first_day: str
    first_day_after: str
    rows: int
    columns: list[str]
    content_sha256: str  # of the CSV, as COPY wrote it
    file_sha256: str  # of the .csv.gz file
    format: str
    archived_at: str


def archive_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """The archive file and its manifest for one partition."""
    return directory / f"{name}.csv.gz", directory / f"{name}.manifest.json"


def _columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s)"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _copy_out(cursor: Any, table: str, columns: list[str]) -> Iterator[bytes]:
    """The table as CSV, in a fixed order and format, chunk by chunk."""
    cursor.execute("SET LOCAL TimeZone = 'UTC'")
    cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    names = ", ".join(map(quoted, columns))
    raw = cursor.connection.cursor()
    with (
        raw,
        raw.copy(
            f"COPY (SELECT {names} FROM {quoted(table)} ORDER BY viewed_at, id)"  # noqa: S608 # nosec B608 (quoted names)
            " TO STDOUT (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            yield bytes(chunk)


def _table_sha256(cursor: Any, table: str, columns: list[str]) -> str:
    digest = hashlib.sha256()
    for chunk in _copy_out(cursor, table, columns):
        digest.update(chunk)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _content_sha256(path: Path) -> str:
    """The SHA-256 of the archive's CSV; ArchiveError if it does not decompress."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ArchiveError(f"{path.name} cannot be decompressed ({exc})") from exc
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".part")
    # ULNs and who looked them up: readable by the owner of the files only.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)


def manifest_read(path: Path) -> Manifest:
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ArchiveError(f"{path.name} is not an archive manifest ({exc})") from exc


def partition_archive(
    *, name: str, first_day: date, first_day_after: date, directory: Path, using: str
) -> Manifest:
    """Write a detached partition to its archive and manifest, then verify both
    against the table; the manifest, or ArchiveError (the table is kept)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    archive, manifest_path = archive_paths(directory, name)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        columns = _columns(cursor, name)
        cursor.execute(f"SELECT count(*) FROM {quoted(name)}")  # noqa: S608 # nosec B608 (quoted name)
        (rows,) = cursor.fetchone()
        content = hashlib.sha256()

        def write(file: Any) -> None:
            with gzip.GzipFile(fileobj=file, mode="wb", mtime=0, compresslevel=6) as gz:
                for chunk in _copy_out(cursor, name, columns):
                    content.update(chunk)
                    gz.write(chunk)

        _write_atomically(archive, write)
        manifest = Manifest(
            partition=name,
            first_day=first_day.isoformat(),
            first_day_after=first_day_after.isoformat(),
            rows=rows,
            columns=columns,
            content_sha256=content.hexdigest(),
            file_sha256=_file_sha256(archive),
            format=FORMAT,
            archived_at=timezone.now().isoformat(),
        )
        text = json.dumps(asdict(manifest), indent=2).encode()
        _write_atomically(manifest_path, lambda file: file.write(text))
        archive_verify(name=name, directory=directory, using=using)
    return manifest


def _verified_file(directory: Path, name: str) -> Manifest:
    """The manifest, once the archive file matches it; else ArchiveError."""
    archive, manifest_path = archive_paths(directory, name)
    if not archive.exists() or not manifest_path.exists():
        raise ArchiveError(f"no archive of {name} in {directory}")
    manifest = manifest_read(manifest_path)
    if manifest.partition != name:
        raise ArchiveError(f"{manifest_path.name} is the manifest of another table")
    if _file_sha256(archive) != manifest.file_sha256:
        raise ArchiveError(
            f"{archive.name} does not match its manifest's SHA-256: it is corrupt"
        )
    if _content_sha256(archive) != manifest.content_sha256:
        raise ArchiveError(f"{archive.name}'s rows do not match its manifest")
    return manifest


def archive_verify(*, name: str, directory: Path, using: str) -> Manifest:
    """Check the archive of a table still in the database: the file matches its
    manifest, and the table has the manifest's rows and checksum."""
    manifest = _verified_file(directory, name)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quoted(name)}")  # noqa: S608 # nosec B608 (quoted name)
        (rows,) = cursor.fetchone()
        if rows != manifest.rows:
            raise ArchiveError(f"{name} has {rows} rows; its archive {manifest.rows}")
        if _table_sha256(cursor, name, manifest.columns) != manifest.content_sha256:
            raise ArchiveError(f"{name}'s rows differ from its archive")
    return manifest


def archive_restore(
    *, name: str, directory: Path, table: str, using: str = DEFAULT_DB_ALIAS
) -> Manifest:
    """Load the archive of partition ``name`` into a new table ``table`` (shaped
    like the log, readable by its owner only) and check that it holds the
    manifest's row count and checksum. A corrupt archive, or a table that does
    not match, is refused (ArchiveError) and nothing is left behind."""
    manifest = _verified_file(directory, name)
    archive, _ = archive_paths(directory, name)
    names = ", ".join(map(quoted, manifest.columns))
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        like = f"LIKE {quoted(LOG_TABLE)} INCLUDING DEFAULTS"
        cursor.execute(f"CREATE TABLE {quoted(table)} ({like})")
        for statement in partition_revokes(cursor, table):
            cursor.execute(statement)
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
        raw = cursor.connection.cursor()
        with (
            raw,
            raw.copy(
                f"COPY {quoted(table)} ({names}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            gzip.open(archive, "rb") as file,
        ):
            while chunk := file.read(_CHUNK):
                copy.write(chunk)
        cursor.execute(f"SELECT count(*) FROM {quoted(table)}")  # noqa: S608 # nosec B608 (quoted name)
        (rows,) = cursor.fetchone()
        if rows != manifest.rows:
            raise ArchiveError(
                f"{table} holds {rows} rows; the manifest says {manifest.rows}"
            )
        if _table_sha256(cursor, table, manifest.columns) != manifest.content_sha256:
            raise ArchiveError(f"{table}'s rows do not match the archive's checksum")
    return manifest
