"""Export the rows the list API serves into a SQLite file for Datasette, the outside baseline.

Columns mirror the API list fields, with the related briefs flattened (Datasette serves
tables, not nested objects). Indexes cover the orderings and filters the benchmark asks for,
so Datasette is measured at its best.

Usage: python -m bench.datasette_export DSN OUT.sqlite
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import psycopg

EXPORTS = {
    "companies": (
        """SELECT c.id, c.slug, c.kind, c.name_en, c.name_zh, c.description,
                  c.headquarters_country, array_to_string(c.modalities, ','), c.website,
                  r.slug, r.name_en, p.slug
             FROM companies_company c
             LEFT JOIN portal_region r ON r.id = c.registered_region_id
             LEFT JOIN companies_company p ON p.id = c.parent_id""",
        "id INTEGER PRIMARY KEY, slug TEXT, kind TEXT, name_en TEXT, name_zh TEXT, "
        "description TEXT, headquarters_country TEXT, modalities TEXT, website TEXT, "
        "region_slug TEXT, region_name_en TEXT, parent_slug TEXT",
        ["CREATE INDEX companies_name ON companies (name_en, id)"],
    ),
    "facilities": (
        """SELECT f.id, f.slug, f.name_en, f.name_zh, f.kind, array_to_string(f.modalities, ','),
                  f.status, f.status_since::text, f.capacity_notes, f.latitude::float8,
                  f.longitude::float8, c.slug, c.name_en, r.slug, r.name_en
             FROM companies_facility f
             JOIN companies_company c ON c.id = f.company_id
             JOIN portal_region r ON r.id = f.region_id""",
        "id INTEGER PRIMARY KEY, slug TEXT, name_en TEXT, name_zh TEXT, kind TEXT, "
        "modalities TEXT, status TEXT, status_since TEXT, capacity_notes TEXT, latitude REAL, "
        "longitude REAL, company_slug TEXT, company_name_en TEXT, region_slug TEXT, "
        "region_name_en TEXT",
        ["CREATE INDEX facilities_name ON facilities (name_en, id)"],
    ),
    "projects": (
        """SELECT p.id, p.slug, p.title, p.kind, p.amount::text, p.currency, p.amount_kind,
                  p.announced_on::text, p.status, p.status_since::text, c.slug, c.name_en,
                  r.slug, r.name_en, r.path
             FROM projects_investmentproject p
             JOIN companies_company c ON c.id = p.company_id
             JOIN portal_region r ON r.id = p.region_id""",
        "id INTEGER PRIMARY KEY, slug TEXT, title TEXT, kind TEXT, amount TEXT, currency TEXT, "
        "amount_kind TEXT, announced_on TEXT, status TEXT, status_since TEXT, "
        "company_slug TEXT, company_name_en TEXT, region_slug TEXT, region_name_en TEXT, "
        "region_path TEXT",
        [
            "CREATE INDEX projects_announced ON projects (announced_on, id)",
            "CREATE INDEX projects_kind_path ON projects (amount_kind, region_path)",
        ],
    ),
}


def export(dsn: str, out: Path) -> dict[str, int]:
    """Write every exported table to `out` (replaced atomically); returns row counts."""
    partial = out.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    counts = {}
    target = sqlite3.connect(partial)
    target.execute("PRAGMA journal_mode = OFF")
    target.execute("PRAGMA synchronous = OFF")
    with psycopg.connect(dsn) as source:
        for table, (query, columns, indexes) in EXPORTS.items():
            target.execute(f"CREATE TABLE {table} ({columns})")
            placeholders = ", ".join("?" * len(columns.split(",")))
            count = 0
            # A named (server-side) cursor streams the rows instead of loading a million.
            with source.cursor(name=f"export_{table}") as cursor:
                cursor.itersize = 20000
                cursor.execute(query)
                while rows := cursor.fetchmany(20000):
                    target.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)
                    count += len(rows)
            for statement in indexes:
                target.execute(statement)
            counts[table] = count
    target.commit()
    target.execute("ANALYZE")
    target.close()
    partial.replace(out)
    return counts


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    started = time.perf_counter()
    counts = export(argv[1], Path(argv[2]))
    print(f"exported {counts} to {argv[2]} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
