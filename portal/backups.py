"""Backups with pg_dump (custom format), restores into a fresh database, checksum verification."""

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

# Ordering by the row's text form makes the checksum independent of physical row order.
TABLE_CHECKSUM_SQL = (
    "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') "
    'FROM "{schema}"."{table}" AS t'
)


def _client_binary(name: str) -> str:
    """A pg client matching the local server major version when several are installed."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _connection_env(database: dict) -> dict:
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    return env


def _connection_args(database: dict) -> list[str]:
    args = []
    if database.get("HOST"):
        args += ["--host", database["HOST"]]
    if database.get("PORT"):
        args += ["--port", str(database["PORT"])]
    if database.get("USER"):
        args += ["--username", database["USER"]]
    return args


def backup_database(*, output: Path, database: dict | None = None) -> Path:
    """Dump the whole database to `output` in pg_dump's custom format."""
    database = database or settings.DATABASES["default"]
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [
        _client_binary("pg_dump"),
        "--format=custom",
        "--no-owner",
        "--file",
        str(output),
        *_connection_args(database),
        database["NAME"],
    ]
    subprocess.run(command, check=True, env=_connection_env(database), capture_output=True)  # noqa: S603
    return output


def restore_database(*, dump: Path, target_name: str, database: dict | None = None) -> None:
    """Create `target_name` (it must not exist) and restore `dump` into it."""
    database = database or settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target_name])
        if cursor.fetchone():
            raise ValueError(f"database {target_name!r} already exists; restore needs a fresh one")
    createdb = [_client_binary("createdb"), *_connection_args(database), target_name]
    subprocess.run(createdb, check=True, env=_connection_env(database), capture_output=True)  # noqa: S603
    restore = [
        _client_binary("pg_restore"),
        "--no-owner",
        "--exit-on-error",
        "--dbname",
        target_name,
        *_connection_args(database),
        str(dump),
    ]
    subprocess.run(restore, check=True, env=_connection_env(database), capture_output=True)  # noqa: S603


def table_checksums(*, database_name: str, database: dict | None = None) -> dict[str, tuple]:
    """Row count and content checksum of every table in the public schema of `database_name`."""
    database = database or settings.DATABASES["default"]
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=database_name,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
    )
    checksums = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(TABLE_CHECKSUM_SQL.format(schema="public", table=table))
            checksums[table] = tuple(cursor.fetchone())
    return checksums


def compare_checksums(source: dict[str, tuple], restored: dict[str, tuple]) -> list[str]:
    """Names of tables whose count or checksum differ, or that exist on one side only."""
    return sorted(
        table for table in set(source) | set(restored) if source.get(table) != restored.get(table)
    )
