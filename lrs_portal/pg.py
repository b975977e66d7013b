"""lrs_portal's PostgreSQL-only features, behind plain functions.

- The change trail: a trigger on each table that decides access writes every
  change (who, as which database role, when, the changed columns' old and new
  values) into ``lrs_portal_changetrail``, which the application's role may only
  read and add to. lrs_portal.trail compares it with simple-history each night.
- Insert-only trails: the history tables, Django's admin log and the change trail
  take no UPDATE, DELETE or TRUNCATE from the application's role; job runs no
  DELETE or TRUNCATE.
- The web's statement time-out, set on each connection the web process opens.
- Whether the connected role is one the web and workers must never run as (a
  superuser, or a role that owns the tables): lrs_portal.checks refuses it.

On SQLite every function here does nothing. Roles and grants:
docs/runbooks/database-roles.md; why: docs/decisions/0019-*.md.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.special import RunPython

TRAIL_TABLE = "lrs_portal_changetrail"
MARKS_TABLE = "lrs_portal_historytransaction"
MARK_FUNCTION = "lrs_history_mark"
TRAIL_FUNCTION = "lrs_trail_record"
APPEND_ONLY_FUNCTION = "lrs_append_only"
# What the application's role may do to each kind of trail table.
INSERT_ONLY = "SELECT, INSERT"
INSERT_ONLY_TAKES = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
JOB_RUNS_TABLE = "lrs_portal_jobrun"
JOB_RUNS_TAKES = "DELETE, TRUNCATE, REFERENCES, TRIGGER"


def is_postgres(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"


def quoted(identifier: str) -> str:
    """An identifier for raw SQL: in double quotes, any double quote inside it
    doubled (the one quoting of table, column and index names in raw SQL)."""
    return '"' + identifier.replace('"', '""') + '"'


# The trigger function. TG_ARGV is 'only' or 'except', then column names: the
# columns recorded (or left out: passwords, secrets). An UPDATE that changes
# none of the recorded columns writes nothing. SECURITY INVOKER, so
# current_user is whoever made the change; the trail is named with its schema
# and search_path is fixed, so a temporary table of the same name cannot take
# the row instead.
def _trail_function_sql(schema: str) -> str:
    # The schema is the catalog's quote_ident; the rest are constants.
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{TRAIL_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    only_listed boolean := TG_ARGV[0] = 'only';
    listed text[] := TG_ARGV[1:TG_NARGS - 1];
    old_values jsonb := '{{}}';
    new_values jsonb := '{{}}';
    name text;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    FOR name IN SELECT jsonb_object_keys(COALESCE(new_row, old_row)) LOOP
        CONTINUE WHEN only_listed <> (name = ANY(listed));
        CONTINUE WHEN TG_OP = 'UPDATE'
            AND old_row -> name IS NOT DISTINCT FROM new_row -> name;
        IF old_row IS NOT NULL THEN
            old_values := old_values || jsonb_build_object(name, old_row -> name);
        END IF;
        IF new_row IS NOT NULL THEN
            new_values := new_values || jsonb_build_object(name, new_row -> name);
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND new_values = '{{}}' THEN
        RETURN NULL;
    END IF;
    INSERT INTO {schema}.{TRAIL_TABLE} (changed_at, db_user, login_user,
        table_name, operation, row_id, old_values, new_values, transaction_id)
    VALUES (clock_timestamp(), current_user, session_user, TG_TABLE_NAME, TG_OP,
        COALESCE(new_row, old_row) ->> 'id', old_values, new_values,
        txid_current());
    RETURN NULL;
END;
$$"""  # noqa: S608 # nosec B608 (catalog-quoted schema, constant names)


# A statement trigger on every history table and the admin log: the transaction
# wrote history. ON CONFLICT: one row a transaction, however many statements.
def _mark_function_sql(schema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{MARK_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO {schema}.{MARKS_TABLE} (transaction_id, recorded_at)
    VALUES (txid_current(), now()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$"""  # noqa: S608 # nosec B608 (catalog-quoted schema, constant names)


def _append_only_function_sql(schema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{APPEND_ONLY_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING DETAIL = format('%s on %I refused.', TG_OP, TG_TABLE_NAME);
END;
$$"""


def _schema(cursor: object) -> str:
    cursor.execute("SELECT quote_ident(current_schema())")  # type: ignore[attr-defined]
    return str(cursor.fetchone()[0])  # type: ignore[attr-defined]


def trail_install(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the trail's trigger functions and make the trail refuse UPDATE and
    DELETE from every role, its owner too (the grants are the first layer)."""
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        schema = _schema(cursor)
        cursor.execute(_trail_function_sql(schema))
        cursor.execute(_append_only_function_sql(schema))
        cursor.execute(_mark_function_sql(schema))
        cursor.execute(
            f'CREATE TRIGGER "{TRAIL_TABLE}_append_only" BEFORE UPDATE OR DELETE'
            f" ON {TRAIL_TABLE} FOR EACH ROW EXECUTE FUNCTION"
            f" {schema}.{APPEND_ONLY_FUNCTION}()"
        )


def trail_uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            f'DROP TRIGGER IF EXISTS "{TRAIL_TABLE}_append_only" ON {TRAIL_TABLE}'
        )
        cursor.execute(f"DROP FUNCTION IF EXISTS {TRAIL_FUNCTION}() CASCADE")
        cursor.execute(f"DROP FUNCTION IF EXISTS {APPEND_ONLY_FUNCTION}()")
        cursor.execute(f"DROP FUNCTION IF EXISTS {MARK_FUNCTION}() CASCADE")


def trail_track(
    table: str,
    *,
    only: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Record every insert, update and delete of table in the trail: only the
    columns in only, or every column but those in exclude."""
    if not is_postgres(using=using):
        return
    if bool(only) == bool(exclude) and only:
        raise ValueError("give only or exclude, not both")
    mode, columns = ("only", only) if only else ("except", exclude)
    arguments = ", ".join(f"'{name}'" for name in (mode, *columns))
    with connections[using].cursor() as cursor:
        schema = _schema(cursor)
        cursor.execute(
            f'CREATE TRIGGER "{table}_trail" AFTER INSERT OR UPDATE OR DELETE'
            f' ON "{table}" FOR EACH ROW EXECUTE FUNCTION'
            f" {schema}.{TRAIL_FUNCTION}({arguments})"
        )


def trail_untrack(table: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    if not is_postgres(using=using):
        return
    with connections[using].cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_trail" ON "{table}"')


def track_operation(
    *tables: str, only: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> Operation:
    """A migration operation putting tables on the trail (and off it in reverse).

    To put a new table that decides access on the trail (API clients, say), add
    a migration with ``track_operation("registration_apiclient", exclude=("secret",))``.
    """

    def forward(apps: object, schema_editor: object) -> None:
        alias = schema_editor.connection.alias  # type: ignore[attr-defined]
        for table in tables:
            trail_track(table, only=only, exclude=exclude, using=alias)

    def backward(apps: object, schema_editor: object) -> None:
        alias = schema_editor.connection.alias  # type: ignore[attr-defined]
        for table in tables:
            trail_untrack(table, using=alias)

    return RunPython(forward, backward, elidable=False)


def history_marks_ensure(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Give every history table and the admin log the trigger that marks the
    transactions writing them (run after every migrate: new history tables get
    it too); return the tables that lacked it."""
    if not is_postgres(using=using):
        return []
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regproc(%s)", [MARK_FUNCTION])
        row = cursor.fetchone()
        if not row or row[0] is None:  # before lrs_portal's migration 0006
            return []
        schema = _schema(cursor)
        missing = []
        for table in insert_only_tables(using=using):
            if table in (TRAIL_TABLE, MARKS_TABLE):
                continue
            cursor.execute(
                "SELECT NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = %s"
                " AND tgrelid = %s::regclass)",
                [f"{table}_marks", table],
            )
            if cursor.fetchone()[0]:
                cursor.execute(
                    f'CREATE TRIGGER "{table}_marks" AFTER INSERT ON "{table}"'
                    f" FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{MARK_FUNCTION}()"
                )
                missing.append(table)
    return missing


def history_marks_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **_: object) -> None:
    """post_migrate: keep every history table marking its transactions."""
    history_marks_ensure(using=using)


# --- grants ------------------------------------------------------------------------


def insert_only_tables(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Every table the application may only read and add to: the history
    tables (simple-history's, and its many-to-many ones), the admin log, the
    change trail and the marks of transactions that wrote history."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('r', 'p') AND (c.relname LIKE %s"
            " OR c.relname IN ('django_admin_log', %s, %s)) ORDER BY 1",
            [r"%\_historical%", TRAIL_TABLE, MARKS_TABLE],
        )
        return [name for (name,) in cursor.fetchall()]


def trails_restrict(*, app: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Take from the application's role everything on the trail tables but
    SELECT and INSERT, and DELETE and TRUNCATE on job runs; return the statements
    it ran."""
    if not is_postgres(using=using):
        return []
    statements = [
        f'REVOKE {INSERT_ONLY_TAKES} ON TABLE "{table}" FROM "{app}"'
        for table in insert_only_tables(using=using)
    ]
    statements.append(
        f'REVOKE {JOB_RUNS_TAKES} ON TABLE "{JOB_RUNS_TABLE}" FROM "{app}"'
    )
    with connections[using].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


# --- the role the process connects as ----------------------------------------------


def connected_role_problems(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """What makes the connected role unfit for the web and workers: a superuser,
    or a role that owns (or has the privileges of the owner of) the schema's
    tables, and so could change the log, the trail and their triggers."""
    if not is_postgres(using=using):
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT current_user, r.rolsuper, r.rolbypassrls,"
            " (SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ', ')"
            "  FROM pg_class c"
            "  WHERE c.relnamespace = current_schema()::regnamespace"
            "  AND c.relkind IN ('r', 'p')"
            "  AND pg_has_role(current_user, c.relowner, 'USAGE'))"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
        user, superuser, bypass, owners = cursor.fetchone()
    if superuser:
        return [f"the database role {user} is a superuser"]
    problems = []
    if bypass:
        problems.append(f"the database role {user} can bypass row security")
    if owners:
        problems.append(
            f"the database role {user} owns the application's tables "
            f"(or acts as their owner, {owners})"
        )
    return problems


def statement_timeout_apply(connection: BaseDatabaseWrapper, **_: object) -> None:
    """Give one connection the web's statement time-out
    (DATABASE_STATEMENT_TIMEOUT_MS; 0 leaves PostgreSQL's, none). A statement
    cancelled by it raises OperationalError (QueryCanceled), which the web answers
    with a 503 page (lrs_portal.middleware.DatabaseUnavailableMiddleware)."""
    milliseconds = settings.DATABASE_STATEMENT_TIMEOUT_MS
    if connection.vendor != "postgresql" or not milliseconds:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)", [f"{milliseconds}ms"]
        )


def jit_off_apply(connection: BaseDatabaseWrapper) -> None:
    """Turn PostgreSQL's JIT compilation off for one connection. A web request's
    statements are short, but at national size the planner's cost estimate of
    an organisation's 30 days of log passes jit_above_cost, and compiling the
    plan took 4.8 s of a 12.3 s statement (docs/capacity.md); the nightly audit
    turns it off in its own transaction for the same reason (AUDIT_SESSION)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', false)")


def statement_timeout_for_web() -> None:
    """Every connection this process opens from now on gets the statement
    time-out, and no JIT compilation. The WSGI entry point calls it: web requests
    have a time budget; workers and commands (imports, the nightly audit, migrate)
    run long statements by design and are bounded by their Celery time limits
    instead (decision 26)."""
    connection_created.connect(
        _statement_timeout_on_connect, dispatch_uid="lrs-web-statement-timeout"
    )


def _statement_timeout_on_connect(
    sender: object, connection: BaseDatabaseWrapper, **_: object
) -> None:
    statement_timeout_apply(connection)
    jit_off_apply(connection)
