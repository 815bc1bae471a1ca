"""Backups restore into a fresh database with every table identical (per-table checksums)."""

import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from portal.backups import compare_checksums, table_checksums
from tests import factories


@pytest.fixture
def restored_database_name():
    name = f"restore_{uuid.uuid4().hex[:10]}"
    yield name
    connection.close()  # the pool may hold nothing on the restored DB, but be explicit
    database = settings.DATABASES["default"]
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
    )
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_has_no_checksum_mismatch(tmp_path, restored_database_name, capsys):
    facility = factories.FacilityFactory(name_en="Lingang CAR-T plant", name_zh="临港细胞工厂")
    factories.InvestmentProjectFactory(company=facility.company, facility=facility)
    factories.PolicyTargetFactory()
    dump = tmp_path / "portal.dump"

    call_command("backup", output=dump)
    call_command("restore", str(dump), target_db=restored_database_name, verify=True)

    out = capsys.readouterr().out
    assert "mismatches: 0" in out
    source = table_checksums(database_name=settings.DATABASES["default"]["NAME"])
    restored = table_checksums(database_name=restored_database_name)
    assert compare_checksums(source, restored) == []
    assert source["companies_facility"][0] == 1
    assert len(source) > 20  # every table was compared, not just a few


def test_checksum_comparison_names_each_differing_table():
    source = {"a": (1, "x"), "b": (2, "y"), "c": (0, "")}
    restored = {"a": (1, "x"), "b": (2, "z"), "d": (0, "")}
    assert compare_checksums(source, restored) == ["b", "c", "d"]


@pytest.mark.django_db
def test_restore_refuses_an_existing_database(tmp_path):
    dump = tmp_path / "missing.dump"
    dump.write_bytes(b"not a dump")
    with pytest.raises(CommandError, match="already exists"):
        call_command("restore", str(dump), target_db=settings.DATABASES["default"]["NAME"])
