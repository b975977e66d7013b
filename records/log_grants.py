"""The learner view log's table in PostgreSQL, and the revokes that leave only a
table's owner any privilege on it.

Below both records.pg (which partitions the log and restricts it) and
records.log_archive (which restores a partition into a table of its own), so
neither needs the other for these.
"""

from typing import Any

LOG_TABLE = "records_learnerview"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def partition_revokes(cursor: Any, name: str) -> list[str]:
    """The statements that leave only the owner any privilege on table name."""
    grantees = table_grantees(cursor, name, keeping=())
    if not grantees:
        return []
    return [f"REVOKE ALL ON TABLE {_q(name)} FROM {', '.join(grantees)}"]


def table_grantees(cursor: Any, table: str, *, keeping: tuple[str, ...]) -> list[str]:
    """The roles other than the owner holding a privilege on table not in keeping."""
    cursor.execute(
        "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'"
        " ELSE quote_ident(pg_get_userbyid(a.grantee)) END"
        " FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner"
        " AND NOT a.privilege_type = ANY(%s::text[]) ORDER BY 1",
        [table, list(keeping)],
    )
    return [grantee for (grantee,) in cursor.fetchall()]
