import os
import re
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction

from lrs_portal import pg as portal_pg
from records import log_grants, pg

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_KIND = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


class Command(BaseCommand):
    help = (
        "Create, or bring up to date, the owner role that owns every table and the "
        "application role the web and workers connect as: it may read and write "
        "every table, but only SELECT and INSERT the learner view log, the history "
        "tables, the admin log and the change trail. Run it as a "
        "superuser after migrate; run again, it changes nothing. Prints each "
        "statement it ran. See docs/runbooks/database-roles.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app-role",
            default=settings.DATABASE_APP_ROLE,
            help="The application's role (default: DATABASE_APP_ROLE, %(default)s).",
        )
        parser.add_argument(
            "--owner-role",
            default="lrs_owner",
            help="The role that owns the schema's objects (default: %(default)s).",
        )
        parser.add_argument(
            "--app-password-env",
            metavar="VAR",
            help="Set the application role's password from this environment variable.",
        )
        parser.add_argument(
            "--owner-password-env",
            metavar="VAR",
            help="Let the owner role log in, with the password in this variable "
            "(otherwise it cannot log in: grant it to the role that runs migrate).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not pg.is_postgres():
            raise CommandError("Database roles and grants are PostgreSQL-only.")
        app, owner = _role(options["app_role"]), _role(options["owner_role"])
        if app == owner:
            raise CommandError("The application role and the owner role must differ.")
        passwords = {
            owner: _password(options["owner_password_env"]),
            app: _password(options["app_password_env"]),
        }
        if not _exists("SELECT to_regclass(%s)", log_grants.LOG_TABLE):
            raise CommandError(
                f"{log_grants.LOG_TABLE} does not exist: run migrate first."
            )
        try:
            with transaction.atomic():
                statements = _roles(app=app, owner=owner, passwords=passwords)
                statements += _ownership(owner=owner)
                statements += _grants(app=app, owner=owner)
                _check_app_role(app=app, owner=owner)
        except DatabaseError as exc:
            raise CommandError(f"{exc}".strip() + "\nNothing was changed.") from exc
        self.stdout.write("\n".join(f"{statement};" for statement in statements))


def _role(name: str) -> str:
    if not _ROLE.match(name):
        raise CommandError(
            f"{name!r} is not a usable role name: use lower-case letters, digits "
            "and underscores, starting with a letter or underscore."
        )
    return name


def _password(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise CommandError(f"The environment variable {variable} is not set or empty.")
    return value


def _exists(query: str, *params: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return bool(row and row[0])


def _run(statements: list[str]) -> list[str]:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


def _roles(*, app: str, owner: str, passwords: dict[str, str | None]) -> list[str]:
    statements = []
    for role in (owner, app):
        login = "LOGIN" if role == app or passwords[role] else "NOLOGIN"
        if not _exists("SELECT 1 FROM pg_roles WHERE rolname = %s", role):
            statements.append(
                f'CREATE ROLE "{role}" {login} NOSUPERUSER NOCREATEDB NOCREATEROLE'
                " NOREPLICATION NOBYPASSRLS"
            )
        elif passwords[role]:
            statements.append(f'ALTER ROLE "{role}" LOGIN')
    shown = _run(statements)[:]
    for role, password in passwords.items():
        if password:
            # Only the SCRAM verifier reaches the server (and its logs).
            verifier = connection.connection.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            ).decode()
            _run([f"ALTER ROLE \"{role}\" PASSWORD '{verifier}'"])
            shown.append(f"ALTER ROLE \"{role}\" PASSWORD '<SCRAM verifier>'")
    return shown


def _ownership(*, owner: str) -> list[str]:
    """Give the owner every table, view, sequence and routine in the schema that no
    extension owns (identity and serial sequences follow their tables)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind, quote_ident(c.relname) FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " AND pg_get_userbyid(c.relowner) <> %s"
            " AND NOT EXISTS (SELECT FROM pg_depend d"
            " WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
            " AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))"
            " ORDER BY c.relname",
            [owner],
        )
        relations = cursor.fetchall()
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " WHERE p.pronamespace = current_schema()::regnamespace"
            " AND p.prokind IN ('f', 'p') AND pg_get_userbyid(p.proowner) <> %s"
            " AND NOT EXISTS (SELECT FROM pg_depend d"
            " WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid"
            " AND d.deptype = 'e')"
            " ORDER BY 1",
            [owner],
        )
        routines = [name for (name,) in cursor.fetchall()]
    statements = [
        f'ALTER {_KIND.get(kind, "SEQUENCE")} {name} OWNER TO "{owner}"'
        for kind, name in relations
    ]
    statements += [f'ALTER ROUTINE {name} OWNER TO "{owner}"' for name in routines]
    return _run(statements)


def _grants(*, app: str, owner: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(current_database()), quote_ident(current_schema()),"
            " pg_get_serial_sequence(%s, 'id')",
            [log_grants.LOG_TABLE],
        )
        database, schema, sequence = cursor.fetchone() or ("", "", None)
    defaults = f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA {schema}'
    statements = _run(
        [
            f'GRANT CONNECT ON DATABASE {database} TO "{owner}", "{app}"',
            f'GRANT USAGE, CREATE ON SCHEMA {schema} TO "{owner}"',
            f'GRANT USAGE ON SCHEMA {schema} TO "{app}"',
            # What the owner creates later: new migrations' tables, and partitions
            # (from which records.log_grants takes every privilege again).
            f'{defaults} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{app}"',
            f'{defaults} GRANT USAGE, SELECT ON SEQUENCES TO "{app}"',
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema}"
            f' TO "{app}"',
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema}"
            f' FROM "{app}"',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO "{app}"',
        ]
    )
    # Rule 3: the log is SELECT and INSERT only, for this role and every other.
    statements += log_grants.log_privileges_restrict()
    # The history tables, the admin log and the change trail: SELECT and INSERT
    # only; job runs: no DELETE or TRUNCATE (docs/decisions/0019-*.md).
    portal_pg.history_marks_ensure()
    statements += portal_pg.trails_restrict(app=app)
    log = [f'GRANT SELECT, INSERT ON TABLE {log_grants.LOG_TABLE} TO "{app}"']
    if sequence:  # an identity needs no grant to be used; this keeps it explicit
        log.append(f'GRANT USAGE ON SEQUENCE {sequence} TO "{app}"')
    return statements + _run(log)


def _check_app_role(*, app: str, owner: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolbypassrls OR pg_has_role(%s, %s, 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [app, owner, app],
        )
        row = cursor.fetchone()
    if row and row[0]:
        raise CommandError(
            f"The role {app} is a superuser or a member of {owner}, so grants cannot "
            "hold it back: the application needs a plain role. Nothing was changed."
        )
