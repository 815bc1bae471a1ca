"""Registry of metric families, change-to-subject mappings and subject expansions.

Apps register from their own `metrics.py`; `ensure_loaded()` imports those modules by name
(Django's `autodiscover_modules`), so the portal core never names an app.

A **family** is one parameterised SELECT returning the metric rows of one subject type:
columns `subject_id, name, dimensions (jsonb), value (numeric), unit, inputs (jsonb)`.
Parameters available to it: `%(subject_ids)s` (bigint[] or NULL for "every subject") and
`%(today)s` (date). It must filter by `%(subject_ids)s` itself, as early as it can, so an
incremental recompute reads only the dirty subjects' rows. A family owns its metric `names`
for its subject type: rows of those names that the SELECT no longer returns are deleted.

A **change mapping** turns audit-log rows of one table into the subjects they affect: a
SELECT over `{rows}` (columns `change_id bigint, data jsonb`, old and new row images of that
table's Change rows) returning `subject_type, subject_id, change_id`. Region subjects are
expanded to every ancestor by the core.

An **expansion** derives further subjects from the dirty set: a SELECT over `dirty`
(`subject_type, subject_id, change_id`) returning the same columns (e.g. the policies whose
targets cover a dirty region).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module

from django.utils.module_loading import autodiscover_modules

SUBJECT_TYPES = ("company", "region", "policy", "portal")

# A Python-computed family returns the same row shape as a SQL family, as dicts.
PythonCompute = Callable[[list[int] | None], Iterable[dict]]


@dataclass(frozen=True)
class MetricFamily:
    key: str
    subject_type: str
    names: tuple[str, ...]
    sql: str | None = None
    compute: PythonCompute | None = field(default=None, compare=False)
    description: str = ""
    # Lineage shared by every row of the family (rows carry only their own counts).
    tables: tuple[str, ...] = ()
    # A keyed family reads running totals kept by database triggers, which queue each changed
    # cell: `pending_sql` consumes that queue (a DELETE … RETURNING subject_id, part, guarded
    # by `(SELECT ok FROM allowed)` and `%(subject_ids)s`; `part` is the cell's key within its
    # subject). In a pending-only run its SQL rewrites the figures the queued cells (`scope`)
    # can change, and names each of those figures that no longer exists by a row with a NULL
    # value (a tombstone), which the run deletes by exact key.
    pending_sql: str | None = None
    # Its figures' values are read live from the cells (the `portal_figure` view): a pending
    # run only adds new figures, deletes vanished ones and records history; a full run
    # rewrites the stored rows as for any family.
    live: bool = False

    def __post_init__(self):
        if self.subject_type not in SUBJECT_TYPES:
            raise ValueError(f"unknown subject type {self.subject_type!r}")
        if (self.sql is None) == (self.compute is None):
            raise ValueError(f"family {self.key}: give exactly one of sql or compute")
        if self.live and self.pending_sql is None:
            raise ValueError(f"family {self.key}: only a keyed family is served live")

    @property
    def keyed(self) -> bool:
        return self.pending_sql is not None

    def reads(self, tables: Iterable[str]) -> bool:
        """Whether an edit of one of `tables` can change this family's figures: its `tables`
        are its dependencies as well as its lineage, and the data version (input
        `portal_change`) changes with every edit."""
        return "portal_change" in self.tables or not set(self.tables).isdisjoint(tables)


_families: dict[str, MetricFamily] = {}
_change_mappings: list[tuple[str, str]] = []
_expansions: list[str] = []
_refreshes: dict[str, str] = {}
_loaded = False


def register_family(family: MetricFamily) -> MetricFamily:
    existing = _families.get(family.key)
    if existing is not None and existing != family:
        raise ValueError(f"metric family {family.key} registered twice")
    for other in _families.values():
        if other.key != family.key and other.subject_type == family.subject_type:
            clash = set(other.names) & set(family.names)
            if clash:
                # Deletion is scoped by name, so two owners would delete each other's rows.
                raise ValueError(f"{family.key} and {other.key} both own {sorted(clash)}")
    _families[family.key] = family
    return family


def register_change_mapping(table: str, sql: str) -> None:
    if (table, sql) not in _change_mappings:
        _change_mappings.append((table, sql))


_COMPANY_SUBJECT = """
SELECT 'company' AS subject_type, (r.data ->> '{company}')::bigint AS subject_id, r.change_id
  FROM {{rows}} r
UNION ALL
"""
_OWN_REGION = """SELECT 'region', (r.data ->> '{region}')::bigint, r.change_id FROM {{rows}} r
"""
_REGISTERED_REGION = """SELECT 'region', c.registered_region_id, r.change_id
  FROM {{rows}} r JOIN companies_company c ON c.id = (r.data ->> '{company}')::bigint
"""


def company_and_region_mapping(company_column: str, region_column: str | None = None) -> str:
    """Mapping SQL for a row that names its company directly.

    The region is the row's own `region_column`, or, when None, the company's registered region.
    """
    for column in (company_column, region_column or "id"):
        # Column names come from code; refuse anything that is not a plain identifier.
        if not column.isidentifier():
            raise ValueError(f"not a column name: {column!r}")
    region = _OWN_REGION if region_column else _REGISTERED_REGION
    return (_COMPANY_SUBJECT + region).format(company=company_column, region=region_column)


def register_refresh(key: str, sql: str) -> None:
    """A statement a full recompute runs before the families: it rebuilds the running totals
    keyed families read from the base rows (triggers keep them exact; the full run proves it)
    and returns how many it had to correct."""
    if _refreshes.get(key, sql) != sql:
        raise ValueError(f"refresh {key} registered twice")
    _refreshes[key] = sql


def refreshes() -> dict[str, str]:
    ensure_loaded()
    return dict(_refreshes)


def register_expansion(sql: str) -> None:
    if sql not in _expansions:
        _expansions.append(sql)


def ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        import_module("portal.metrics.core")
        autodiscover_modules("metrics")
        _loaded = True


def families(subject_type: str | None = None) -> list[MetricFamily]:
    ensure_loaded()
    return [
        family
        for family in _families.values()
        if subject_type is None or family.subject_type == subject_type
    ]


def families_reading(subject_type: str, tables: Iterable[str] | None) -> list[MetricFamily]:
    """The families of `subject_type` an edit of one of `tables` can change (None: all); an
    edit of a table no family of a subject reads leaves that subject's figures as they are."""
    candidates = families(subject_type)
    if tables is None:
        return candidates
    changed = set(tables)
    return [family for family in candidates if family.reads(changed)]


def family(key: str) -> MetricFamily:
    ensure_loaded()
    return _families[key]


def family_of(subject_type: str, name: str) -> MetricFamily | None:
    """The family that owns metric `name` of `subject_type` (names are unique per type)."""
    for candidate in families(subject_type):
        if name in candidate.names:
            return candidate
    return None


def change_mappings() -> list[tuple[str, str]]:
    ensure_loaded()
    return list(_change_mappings)


def mapped_tables() -> frozenset[str]:
    return frozenset(table for table, _ in change_mappings())


def expansions() -> list[str]:
    ensure_loaded()
    return list(_expansions)
