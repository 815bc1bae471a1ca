"""Synthetic demo data at benchmark scale, loaded with COPY.

Every row is synthetic and says so: slugs start with `demo-`, every company, facility and
project cites the Source `demo-synthetic-data` ("Synthetic benchmark data — not real").
The generator refuses a database that holds curated data (any Source without the prefix),
because synthetic rows mixed into real ones could never be told apart in metrics.

Rows are produced in Python streams (one seeded `random.Random` per table, so a seed always
gives the same content) and sent with psycopg `COPY`. Ids are reserved from each table's
sequence up front, so children reference parents without a round trip per row.

For speed the big tables are loaded the way PostgreSQL's docs recommend for bulk loads, all
inside one transaction (a failure leaves nothing behind): foreign keys and secondary indexes
are dropped and re-created after the load (re-adding a foreign key re-validates every row in
one join, so integrity is still checked by the database), and optionally the `portal_audit`
trigger is disabled during the COPY (`skip_audit=True`), which the caller must announce.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction

from projects.investment_cells import PROJECT_TRIGGER_NAMES, REBUILD_STATEMENT

GENERATOR_VERSION = 1
DEMO_PREFIX = "demo-"
SOURCE_KEY = "demo-synthetic-data"
SOURCE_TITLE = "Synthetic benchmark data — not real"
SYNTHETIC_NOTE = "Synthetic benchmark record — not real."
# Fixed bookkeeping timestamps keep a seed's output identical from one day to the next.
STAMP = "2026-01-01 00:00:00+00"
CHECKED_ON = "2026-01-01"
FIRST_DAY = datetime.date(2015, 1, 1)
LAST_DAY = datetime.date(2026, 6, 30)
COPY_CHUNK_ROWS = 5000


class DemoDataRefused(Exception):
    """The target database is not a safe place for synthetic rows."""


@dataclass(frozen=True)
class Scale:
    companies: int
    facilities_per_company: int = 2
    projects_per_company: int = 10
    seed: int = 1

    @property
    def facilities(self) -> int:
        return self.companies * self.facilities_per_company

    @property
    def projects(self) -> int:
        return self.companies * self.projects_per_company


# Provincial-level divisions (real geography; every record placed in them is synthetic).
# (slug stem, English, Chinese, is municipality, weight of CGT activity, lat, lon)
PROVINCES = [
    ("beijing", "Beijing", "北京", True, 9, 39.9, 116.4),
    ("shanghai", "Shanghai", "上海", True, 14, 31.2, 121.5),
    ("tianjin", "Tianjin", "天津", True, 3, 39.1, 117.2),
    ("chongqing", "Chongqing", "重庆", True, 2, 29.6, 106.5),
    ("jiangsu", "Jiangsu", "江苏", False, 12, 32.1, 118.8),
    ("zhejiang", "Zhejiang", "浙江", False, 7, 30.3, 120.2),
    ("guangdong", "Guangdong", "广东", False, 10, 23.1, 113.3),
    ("shandong", "Shandong", "山东", False, 4, 36.7, 117.0),
    ("hubei", "Hubei", "湖北", False, 4, 30.6, 114.3),
    ("sichuan", "Sichuan", "四川", False, 4, 30.7, 104.1),
    ("hunan", "Hunan", "湖南", False, 2, 28.2, 112.9),
    ("henan", "Henan", "河南", False, 2, 34.8, 113.7),
    ("fujian", "Fujian", "福建", False, 2, 26.1, 119.3),
    ("anhui", "Anhui", "安徽", False, 2, 31.8, 117.3),
    ("hebei", "Hebei", "河北", False, 1, 38.0, 114.5),
    ("liaoning", "Liaoning", "辽宁", False, 1, 41.8, 123.4),
    ("jilin", "Jilin", "吉林", False, 1, 43.9, 125.3),
    ("heilongjiang", "Heilongjiang", "黑龙江", False, 1, 45.8, 126.5),
    ("shaanxi", "Shaanxi", "陕西", False, 1, 34.3, 108.9),
    ("shanxi", "Shanxi", "山西", False, 1, 37.9, 112.5),
    ("jiangxi", "Jiangxi", "江西", False, 1, 28.7, 115.9),
    ("guangxi", "Guangxi", "广西", False, 1, 22.8, 108.3),
    ("yunnan", "Yunnan", "云南", False, 1, 25.0, 102.7),
    ("guizhou", "Guizhou", "贵州", False, 1, 26.6, 106.7),
    ("hainan", "Hainan", "海南", False, 2, 20.0, 110.3),
    ("gansu", "Gansu", "甘肃", False, 1, 36.1, 103.8),
    ("qinghai", "Qinghai", "青海", False, 1, 36.6, 101.8),
    ("ningxia", "Ningxia", "宁夏", False, 1, 38.5, 106.3),
    ("xinjiang", "Xinjiang", "新疆", False, 1, 43.8, 87.6),
    ("xizang", "Xizang", "西藏", False, 1, 29.6, 91.1),
    ("inner-mongolia", "Inner Mongolia", "内蒙古", False, 1, 40.8, 111.7),
]
CITIES_PER_PROVINCE = 10
DISTRICTS_PER_CITY = 4
DISTRICTS_PER_MUNICIPALITY = 16

MODALITIES = [
    "cell_therapy",
    "car_t",
    "tcr_t",
    "nk_cell",
    "stem_cell",
    "gene_therapy",
    "gene_diagnostics",
    "biologics",
    "vaccine",
    "testing_services",
]
NAME_STEMS = [
    "Hua", "Xin", "Kang", "Sheng", "Rui", "Tai", "Bo", "Heng", "Jia", "Yuan",
    "Ming", "Tian", "Chuang", "Zhi", "Hai", "Long", "An", "Fu", "Yi", "Cheng",
]  # fmt: skip
NAME_SUFFIXES = [
    "Biotech",
    "Cell Therapeutics",
    "Gene Medicine",
    "Biopharma",
    "Life Sciences",
    "Regenerative Medicine",
    "Immunotherapy",
    "Bio-Manufacturing",
]
ZH_STEMS = ["华", "新", "康", "盛", "瑞", "泰", "博", "恒", "嘉", "源"]
FACILITY_KINDS = ["manufacturing", "innovation_center", "biobank", "testing_lab", "office"]
FACILITY_KIND_WEIGHTS = [40, 25, 5, 10, 20]
FACILITY_STATUSES = ["announced", "planned", "under_construction", "operational", "closed"]
FACILITY_STATUS_WEIGHTS = [15, 15, 20, 45, 5]
PROJECT_KINDS = [
    "new_facility",
    "expansion",
    "equity_investment",
    "cooperation_agreement",
    "rd_program",
]
PROJECT_KIND_WEIGHTS = [30, 20, 25, 15, 10]
PROJECT_STATUSES = ["announced", "signed", "under_construction", "operational", "cancelled"]
PROJECT_STATUS_WEIGHTS = [25, 25, 20, 25, 5]
AMOUNT_KINDS = ["capital_expenditure", "commitment", "expected_annual_output"]
AMOUNT_KIND_WEIGHTS = [55, 35, 10]
CURRENCIES = ["CNY", "USD", "EUR"]
CURRENCY_WEIGHTS = [75, 18, 7]
# Yearly reference rates (CNY per unit) so converted totals are plausible.
RATES_TO_CNY = {"USD": "7.10000000", "EUR": "7.80000000"}
OWNERSHIP_TYPES = ["domestic", "foreign_invested", "joint_venture", "state_owned"]
OWNERSHIP_WEIGHTS = [60, 25, 10, 5]
MILESTONE_KINDS = [
    "clinical_trial_approval",
    "registration_filing",
    "market_authorization",
    "commercial_launch",
    "breakthrough_designation",
]
MILESTONE_WEIGHTS = [55, 15, 10, 5, 15]
TARGETS = ["CD19", "BCMA", "GPC3", "CLDN18.2", "HER2", "MSLN", "CD22", "AAV-FIX"]
INDICATIONS = [
    "B-cell lymphoma",
    "multiple myeloma",
    "hepatocellular carcinoma",
    "gastric cancer",
    "haemophilia B",
    "knee osteoarthritis",
]
COUNTRIES = ["CN"] * 16 + ["US", "US", "DE", "CH", "GB", "JP"]

DAYS = [
    (FIRST_DAY + datetime.timedelta(days=offset)).isoformat()
    for offset in range((LAST_DAY - FIRST_DAY).days + 1)
]


def _rng(seed: int, table: str) -> random.Random:
    # One stream per table: changing how one table is generated leaves the others as they were.
    return random.Random(f"{GENERATOR_VERSION}:{seed}:{table}")


def _weighted_picker(rng: random.Random, values: list, weights: list[int]) -> Callable[[], object]:
    """A fast weighted choice: a flat lookup table, one random() per pick."""
    table = [value for value, weight in zip(values, weights, strict=True) for _ in range(weight)]
    size = len(table)
    rand = rng.random
    return lambda: table[int(rand() * size)]


def _array(values: Iterable[str]) -> str:
    return "{" + ",".join(values) + "}"


def _null(value) -> str:
    return "\\N" if value is None else str(value)


@dataclass
class _Plan:
    """Ids reserved for every table and the picks shared between tables."""

    scale: Scale
    ids: dict[str, int] = field(default_factory=dict)
    content_types: dict[str, int] = field(default_factory=dict)
    source_id: int = 0
    authority_id: int = 0
    country_id: int = 0
    # Regions where companies and facilities sit: (id, name, lat, lon), weighted by activity.
    places: list[tuple[int, str, float, float]] = field(default_factory=list)


class _Loader:
    """COPY streams of text rows into tables through the Django connection's psycopg cursor."""

    def __init__(self, cursor, progress):
        self.cursor = cursor
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}

    def reserve_ids(self, table: str, count: int) -> int:
        """Take `count` consecutive ids from the table's sequence; returns the first."""
        if count == 0:
            return 0
        self.cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, count],
        )
        return self.cursor.fetchone()[0] - count + 1

    def copy(self, model: type[models.Model], columns: list[str], lines: Iterator[str]) -> int:
        table = model._meta.db_table
        started = time.perf_counter()
        extra_columns, extra_text = _constant_defaults(model, columns)
        all_columns = ", ".join(f'"{name}"' for name in columns + extra_columns)
        count = 0
        raw = self.cursor.cursor
        with raw.copy(f'COPY "{table}" ({all_columns}) FROM STDIN') as copy:
            buffer: list[str] = []
            for line in lines:
                buffer.append(line + extra_text if extra_text else line)
                if len(buffer) >= COPY_CHUNK_ROWS:
                    copy.write("\n".join(buffer) + "\n")
                    count += len(buffer)
                    self.progress.update(len(buffer))
                    buffer.clear()
            if buffer:
                copy.write("\n".join(buffer) + "\n")
                count += len(buffer)
                self.progress.update(len(buffer))
        self.counts[table] = self.counts.get(table, 0) + count
        self.timings[table] = self.timings.get(table, 0.0) + time.perf_counter() - started
        return count


def _constant_defaults(model: type[models.Model], columns: list[str]) -> tuple[list[str], str]:
    """Columns the generator does not set but the table requires, filled from model defaults.

    Other engineers add fields while the benchmark is being built; a new NOT NULL column with
    a Python default would otherwise break COPY. Callable defaults must be constant here.
    """
    extra, values = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.column in columns or model_field.null or model_field.primary_key:
            continue
        if not model_field.has_default() and model_field.db_default is models.NOT_PROVIDED:
            raise RuntimeError(
                f"{model._meta.label}.{model_field.name} is required and the demo generator "
                "does not fill it; add it to bench/demo_data.py"
            )
        if model_field.db_default is not models.NOT_PROVIDED:
            continue
        value = model_field.get_db_prep_save(model_field.get_default(), connection)
        if isinstance(value, bool):
            text = "t" if value else "f"
        elif isinstance(value, list | tuple):
            text = _array(str(item) for item in value)
        else:
            text = _null(value)
        extra.append(model_field.column)
        values.append(text)
    return extra, "".join("\t" + value for value in values)


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


BULK_TABLES = [
    "companies.Company",
    "companies.OwnershipPeriod",
    "companies.Facility",
    "companies.FacilityStatusChange",
    "projects.InvestmentProject",
    "projects.ProjectStatusChange",
    "projects.Product",
    "projects.RegulatoryMilestone",
    "portal.Citation",
]


def refuse_unsafe_target(*, force_into_curated: bool = False) -> None:
    """Refuse a database with curated data (or demo data already loaded)."""
    source = _model("portal.Source")
    if source.objects.filter(key=SOURCE_KEY).exists():
        raise DemoDataRefused(
            "This database already contains demo data (Source demo-synthetic-data); "
            "generate into a fresh database."
        )
    curated = source.objects.exclude(key__startswith=DEMO_PREFIX)
    if curated.exists() and not force_into_curated:
        raise DemoDataRefused(
            f"This database contains curated data ({curated.count()} sources without the "
            f"'{DEMO_PREFIX}' prefix); synthetic rows would mix with real ones. "
            "Use a separate database, or --force-into-curated if you really mean it."
        )


def generate(
    scale: Scale,
    *,
    force_into_curated: bool = False,
    skip_audit: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, int]:
    """Load the synthetic dataset in one transaction; returns row counts per table."""
    from tqdm import tqdm

    refuse_unsafe_target(force_into_curated=force_into_curated)
    total = _expected_total(scale)
    bar = tqdm(total=total, unit="row", unit_scale=True, disable=not progress, desc="demo data")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Pending deferred checks would forbid the ALTER TABLEs below; run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            loader = _Loader(cursor, bar)
            plan = _Plan(scale=scale)
            _load_reference(loader, plan)
            bulk = [_model(label)._meta.db_table for label in BULK_TABLES]
            bulk.append(_model("projects.InvestmentProject").partners.through._meta.db_table)
            suspended = _suspend_constraints(cursor, bulk, skip_audit=skip_audit)
            if skip_audit:
                log(f"portal_audit trigger disabled during COPY on {len(bulk)} tables")
            _load_bulk(loader, plan)
            bar.set_description("indexes + foreign keys")
            started = time.perf_counter()
            _restore_constraints(cursor, suspended)
            loader.timings["(indexes + foreign keys)"] = time.perf_counter() - started
            if skip_audit:
                log("portal_audit trigger re-enabled")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    finally:
        bar.close()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The running totals rebuilt after the load are planned against like any loaded table.
        derived = ["projects_companyinvestmentcell", "projects_regioninvestmentcell"]
        for table in [*loader.counts, *derived]:
            cursor.execute(f'ANALYZE "{table}"')
    loader.timings["(analyze)"] = time.perf_counter() - started
    for name, seconds in sorted(loader.timings.items(), key=lambda item: -item[1]):
        log(f"  {seconds:6.1f} s  {name}")
    return loader.counts


def _expected_total(scale: Scale) -> int:
    products = sum(index % 3 for index in range(scale.companies))
    return (
        _region_count()
        + int(scale.companies * 3.2)  # company, ownership (1.2 on average), citation
        + scale.facilities * 3
        + scale.projects * 3
        + products * 2
    )


def _region_count() -> int:
    count = 1
    for province in PROVINCES:
        if province[3]:
            count += 1 + 2 * DISTRICTS_PER_MUNICIPALITY
        else:
            count += 1 + CITIES_PER_PROVINCE * (1 + 2 * DISTRICTS_PER_CITY)
    return count


def _suspend_constraints(cursor, tables: list[str], *, skip_audit: bool) -> dict:
    """Drop foreign keys and secondary indexes of the bulk tables; remember how to rebuild."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY 1",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    audited = []
    if skip_audit:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'portal_audit' AND tgrelid = ANY(%s::regclass[])",
            [tables],
        )
        audited = [row[0] for row in cursor.fetchall()]
        for table in audited:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER portal_audit")
    # Investment cells are rebuilt once after the load instead of per COPY batch.
    for trigger in PROJECT_TRIGGER_NAMES:
        cursor.execute(f"ALTER TABLE projects_investmentproject DISABLE TRIGGER {trigger}")
    return {"foreign_keys": foreign_keys, "indexes": indexes, "audited": audited}


def _restore_constraints(cursor, suspended: dict) -> None:
    for _name, definition in suspended["indexes"]:
        cursor.execute(definition)
    for table, name, definition in suspended["foreign_keys"]:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table in suspended["audited"]:
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER portal_audit")
    for trigger in PROJECT_TRIGGER_NAMES:
        cursor.execute(f"ALTER TABLE projects_investmentproject ENABLE TRIGGER {trigger}")
    # Queues every cell, so the first metric recompute writes every investment figure.
    cursor.execute(REBUILD_STATEMENT)


def _load_reference(loader: _Loader, plan: _Plan) -> None:
    """Source, authority, exchange rates and the region tree (small, audited as usual)."""
    from django.contrib.contenttypes.models import ContentType

    cursor = loader.cursor
    cursor.execute(
        "INSERT INTO portal_source (version, created_at, updated_at, key, title, publisher, url,"
        " published_on, published_on_precision, language, seed_file) VALUES "
        "(1, %s, %s, %s, %s, %s, '', NULL, 'day', 'en', '') RETURNING id",
        [STAMP, STAMP, SOURCE_KEY, SOURCE_TITLE, "Benchmark generator (synthetic)"],
    )
    plan.source_id = cursor.fetchone()[0]
    for label in ("companies.Company", "companies.Facility", "projects.InvestmentProject"):
        plan.content_types[label] = ContentType.objects.get_for_model(_model(label)).id
    _load_regions(loader, plan)
    cursor.execute(
        "INSERT INTO portal_authority (version, created_at, updated_at, slug, name_en, name_zh,"
        " abbreviation, region_id) VALUES (1, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [
            STAMP,
            STAMP,
            "demo-national-regulator",
            "Demo National Medical Products Regulator",
            "示例国家药品监管机构",
            "DEMO-NMPA",
            plan.country_id,
        ],
    )
    plan.authority_id = cursor.fetchone()[0]
    for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
        for currency, rate in RATES_TO_CNY.items():
            cursor.execute(
                "INSERT INTO portal_exchangerate (version, created_at, updated_at, currency, date,"
                " rate_to_cny) VALUES (1, %s, %s, %s, %s, %s) "
                "ON CONFLICT (currency, date) DO NOTHING",
                [STAMP, STAMP, currency, f"{year}-01-01", rate],
            )


def _load_regions(loader: _Loader, plan: _Plan) -> None:
    """Country → provinces/municipalities → cities → districts → parks, one COPY per level.

    The BEFORE INSERT trigger computes `path` from the parent row, so a level is loaded only
    after its parents.
    """
    from portal.models import Region

    rng = _rng(plan.scale.seed, "region")
    first = loader.reserve_ids("portal_region", _region_count())
    next_id = iter(range(first, first + _region_count()))
    columns = [
        "id", "version", "created_at", "updated_at", "slug", "kind", "parent_id", "name_en",
        "name_zh", "name_zh_provenance", "aliases", "latitude", "longitude",
        "coordinates_approximate",
    ]  # fmt: skip
    levels: list[list[str]] = [[] for _ in range(5)]

    def add(level, region_id, slug, kind, parent, name_en, name_zh, lat, lon):
        levels[level].append(
            f"{region_id}\t1\t{STAMP}\t{STAMP}\t{slug}\t{kind}\t{_null(parent)}\t{name_en}\t"
            f"{name_zh}\tunofficial\t{{}}\t{lat:.6f}\t{lon:.6f}\tt"
        )

    plan.country_id = next(next_id)
    add(0, plan.country_id, "demo-china", "country", None, "China", "中国", 35.0, 105.0)
    for stem, name_en, name_zh, municipality, weight, lat, lon in PROVINCES:
        province_id = next(next_id)
        kind = "municipality" if municipality else "province"
        add(1, province_id, f"demo-{stem}", kind, plan.country_id, name_en, name_zh, lat, lon)
        if municipality:
            districts = DISTRICTS_PER_MUNICIPALITY
            parents = [(province_id, f"demo-{stem}", name_en, name_zh, 1, districts)]
        else:
            parents = []
            for city in range(1, CITIES_PER_PROVINCE + 1):
                city_id = next(next_id)
                city_slug, city_en = f"demo-{stem}-city-{city}", f"{name_en} City {city}"
                city_zh = f"{name_zh}示例市{city}"
                clat, clon = lat + rng.uniform(-2, 2), lon + rng.uniform(-2, 2)
                add(2, city_id, city_slug, "city", province_id, city_en, city_zh, clat, clon)
                parents.append((city_id, city_slug, city_en, city_zh, 2, DISTRICTS_PER_CITY))
        for parent_id, parent_slug, parent_en, parent_zh, level, districts in parents:
            for district in range(1, districts + 1):
                district_id, park_id = next(next_id), next(next_id)
                dlat, dlon = lat + rng.uniform(-2.5, 2.5), lon + rng.uniform(-2.5, 2.5)
                district_en = f"{parent_en} District {district}"
                add(
                    level + 1, district_id, f"{parent_slug}-district-{district}", "district",
                    parent_id, district_en, f"{parent_zh}{district}区", dlat, dlon,
                )  # fmt: skip
                park_zh = f"{parent_zh}{district}区生物医药园"
                add(
                    level + 2, park_id, f"{parent_slug}-district-{district}-biotech-park", "park",
                    district_id, f"{district_en} Biotech Park", park_zh, dlat + 0.01, dlon + 0.01,
                )  # fmt: skip
                plan.places.extend(
                    [(park_id, f"{district_en} Biotech Park", dlat, dlon)] * (2 * weight)
                    + [(district_id, district_en, dlat, dlon)] * weight
                )
    for level in levels:
        if level:
            loader.copy(Region, columns, iter(level))


def _load_bulk(loader: _Loader, plan: _Plan) -> None:
    scale = plan.scale
    n_companies = scale.companies
    plan.ids["company"] = loader.reserve_ids("companies_company", n_companies)
    plan.ids["facility"] = loader.reserve_ids("companies_facility", scale.facilities)
    plan.ids["project"] = loader.reserve_ids("projects_investmentproject", scale.projects)
    products = sum(index % 3 for index in range(n_companies))
    plan.ids["product"] = loader.reserve_ids("projects_product", products)
    company_places = _load_companies(loader, plan)
    facility_places = _load_facilities(loader, plan, company_places)
    _load_projects(loader, plan, facility_places)
    _load_products(loader, plan, products)


COMMON = "1\t" + STAMP + "\t" + STAMP  # version, created_at, updated_at
COMMON_COLUMNS = ["version", "created_at", "updated_at"]


def _load_companies(loader: _Loader, plan: _Plan) -> list[int]:
    """Companies, their ownership periods and citations; returns each company's place index."""
    from companies.models import Company, OwnershipPeriod

    scale, first = plan.scale, plan.ids["company"]
    rng = _rng(scale.seed, "company")
    rand, randrange = rng.random, rng.randrange
    place_count = len(plan.places)
    places = [randrange(place_count) for _ in range(scale.companies)]
    modality_count = len(MODALITIES)

    def companies() -> Iterator[str]:
        for index in range(scale.companies):
            company_id = first + index
            number = index + 1
            stem = NAME_STEMS[index % 20] + NAME_STEMS[(index // 20) % 20].lower()
            name_en = f"{stem} {NAME_SUFFIXES[index % 8]} {number}"
            name_zh = f"{ZH_STEMS[index % 10]}{ZH_STEMS[(index // 10) % 10]}示例生物{number}"
            kind = "institution" if rand() < 0.05 else "company"
            picked = {MODALITIES[randrange(modality_count)] for _ in range(1 + randrange(3))}
            parent = first + randrange(index) if index > 10 and rand() < 0.05 else None
            country = COUNTRIES[randrange(len(COUNTRIES))]
            region_id = plan.places[places[index]][0]
            yield (
                f"{company_id}\t{COMMON}\tdemo-company-{number:06d}\t{kind}\t{name_en}\t"
                f"{name_zh}\tunofficial\t{SYNTHETIC_NOTE}\t{country}\t{_null(parent)}\t"
                f"{_array(sorted(picked))}\t{region_id}\thttps://demo-company-{number:06d}.example"
            )

    loader.copy(
        Company,
        ["id", *COMMON_COLUMNS, "slug", "kind", "name_en", "name_zh", "name_zh_provenance",
         "description", "headquarters_country", "parent_id", "modalities", "registered_region_id",
         "website"],
        companies(),
    )  # fmt: skip
    ownership_rng = _rng(scale.seed, "ownership")
    pick_type = _weighted_picker(ownership_rng, OWNERSHIP_TYPES, OWNERSHIP_WEIGHTS)
    day_count = len(DAYS)

    def ownership() -> Iterator[str]:
        orand, orandrange = ownership_rng.random, ownership_rng.randrange
        for index in range(scale.companies):
            company_id = first + index
            start = orandrange(day_count - 800)
            first_type = pick_type()
            if orand() < 0.2:
                # A change of ownership: the first period closes the day before the next opens.
                switch = start + 30 + orandrange(700)
                second_type = "joint_venture" if first_type != "joint_venture" else "domestic"
                yield f"{COMMON}\t{company_id}\t{first_type}\t{DAYS[start]}\t{DAYS[switch - 1]}"
                yield f"{COMMON}\t{company_id}\t{second_type}\t{DAYS[switch]}\t\\N"
            else:
                yield f"{COMMON}\t{company_id}\t{first_type}\t{DAYS[start]}\t\\N"

    loader.copy(
        OwnershipPeriod,
        [*COMMON_COLUMNS, "company_id", "ownership_type", "effective_from", "effective_to"],
        ownership(),
    )
    content_type = plan.content_types["companies.Company"]
    _copy_citations(loader, plan, content_type, first, scale.companies, "company")
    return places


def _copy_citations(loader, plan, content_type: int, first: int, count: int, noun: str) -> None:
    from portal.models import Citation

    excerpt = f"Synthetic {noun} generated for benchmarking; not a real {noun}."
    prefix = f"{COMMON}\t{content_type}\t"
    suffix = f"\t\t{plan.source_id}\t{excerpt}\tverified\t{CHECKED_ON}"
    loader.copy(
        Citation,
        [*COMMON_COLUMNS, "content_type_id", "object_id", "field_name", "source_id", "excerpt",
         "verification", "checked_on"],
        (f"{prefix}{object_id}{suffix}" for object_id in range(first, first + count)),
    )  # fmt: skip


def _load_facilities(loader: _Loader, plan: _Plan, company_places: list[int]) -> list[int]:
    """Facilities with one status change each (status/status_since mirror it)."""
    from companies.models import Facility, FacilityStatusChange

    scale, first = plan.scale, plan.ids["facility"]
    rng = _rng(scale.seed, "facility")
    rand, randrange = rng.random, rng.randrange
    pick_kind = _weighted_picker(rng, FACILITY_KINDS, FACILITY_KIND_WEIGHTS)
    pick_status = _weighted_picker(rng, FACILITY_STATUSES, FACILITY_STATUS_WEIGHTS)
    place_count, per_company = len(plan.places), scale.facilities_per_company
    places = [0] * scale.facilities
    statuses: list[tuple[str, str]] = [("", "")] * scale.facilities
    day_count = len(DAYS)
    modality_count = len(MODALITIES)
    kind_labels = {
        "manufacturing": "Manufacturing Site",
        "innovation_center": "Innovation Center",
        "biobank": "Biobank",
        "testing_lab": "Testing Lab",
        "office": "Office",
    }

    def facilities() -> Iterator[str]:
        for index in range(scale.facilities):
            company_index = index // per_company
            # Most sites sit where the company is registered; some elsewhere.
            place = company_places[company_index] if rand() < 0.6 else randrange(place_count)
            places[index] = place
            region_id, _name, lat, lon = plan.places[place]
            kind = pick_kind()
            status, since = pick_status(), DAYS[randrange(day_count)]
            statuses[index] = (status, since)
            number = index + 1
            modality = MODALITIES[randrange(modality_count)]
            yield (
                f"{first + index}\t{COMMON}\tdemo-facility-{number:07d}\t"
                f"{plan.ids['company'] + company_index}\t"
                f"Demo {kind_labels[kind]} {number}\t示例设施{number}\t{kind}\t"
                f"{{{modality}}}\t{region_id}\t{status}\t{since}\t{SYNTHETIC_NOTE}\t"
                f"{lat + rand() * 0.05:.6f}\t{lon + rand() * 0.05:.6f}"
            )

    loader.copy(
        Facility,
        ["id", *COMMON_COLUMNS, "slug", "company_id", "name_en", "name_zh", "kind", "modalities",
         "region_id", "status", "status_since", "capacity_notes", "latitude", "longitude"],
        facilities(),
    )  # fmt: skip
    loader.copy(
        FacilityStatusChange,
        [*COMMON_COLUMNS, "facility_id", "status", "date", "date_precision", "note"],
        (
            f"{COMMON}\t{first + index}\t{status}\t{since}\tday\t{SYNTHETIC_NOTE}"
            for index, (status, since) in enumerate(statuses)
        ),
    )
    content_type = plan.content_types["companies.Facility"]
    _copy_citations(loader, plan, content_type, first, scale.facilities, "facility")
    return places


def _load_projects(loader: _Loader, plan: _Plan, facility_places: list[int]) -> None:
    """Investment projects in mixed currencies and amount kinds, one status change each."""
    from projects.models import InvestmentProject, ProjectStatusChange

    scale, first = plan.scale, plan.ids["project"]
    rng = _rng(scale.seed, "project")
    rand, randrange, lognormvariate = rng.random, rng.randrange, rng.lognormvariate
    pick_kind = _weighted_picker(rng, PROJECT_KINDS, PROJECT_KIND_WEIGHTS)
    pick_status = _weighted_picker(rng, PROJECT_STATUSES, PROJECT_STATUS_WEIGHTS)
    pick_amount_kind = _weighted_picker(rng, AMOUNT_KINDS, AMOUNT_KIND_WEIGHTS)
    pick_currency = _weighted_picker(rng, CURRENCIES, CURRENCY_WEIGHTS)
    per_company, per_facility = scale.projects_per_company, scale.facilities_per_company
    place_count, day_count = len(plan.places), len(DAYS)
    statuses: list[tuple[str, str]] = [("", "")] * scale.projects
    partners: list[tuple[int, int]] = []
    kind_titles = {
        "new_facility": "new facility",
        "expansion": "expansion",
        "equity_investment": "equity investment",
        "cooperation_agreement": "cooperation agreement",
        "rd_program": "R&D program",
    }
    log_scale = math.log(50_000_000)

    def projects() -> Iterator[str]:
        for index in range(scale.projects):
            company_index = index // per_company
            project_id = first + index
            if per_facility and rand() < 0.5:
                facility_index = company_index * per_facility + randrange(per_facility)
                facility = plan.ids["facility"] + facility_index
                place = facility_places[facility_index]
            else:
                facility, place = "\\N", randrange(place_count)
            region_id = plan.places[place][0]
            kind = pick_kind()
            if rand() < 0.85:
                amount = f"{lognormvariate(log_scale, 1.4):.2f}"
                currency = pick_currency()
            else:
                amount = currency = "\\N"
            announced = randrange(day_count - 400)
            status = pick_status()
            since = announced if status == "announced" else announced + randrange(400)
            statuses[index] = (status, DAYS[since])
            if rand() < 0.05 and scale.companies > 1:
                partner = randrange(scale.companies - 1)
                partner += partner >= company_index  # never the project's own company
                partners.append((project_id, plan.ids["company"] + partner))
            number = index + 1
            yield (
                f"{project_id}\t{COMMON}\tdemo-project-{number:07d}\t"
                f"{plan.ids['company'] + company_index}\t{facility}\t"
                f"Demo {kind_titles[kind]} {number}\t{kind}\t{amount}\t"
                f"{currency}\t{pick_amount_kind()}\t{DAYS[announced]}\tday\t{region_id}\t"
                f"{status}\t{DAYS[since]}"
            )

    loader.copy(
        InvestmentProject,
        ["id", *COMMON_COLUMNS, "slug", "company_id", "facility_id", "title", "kind", "amount",
         "currency", "amount_kind", "announced_on", "announced_on_precision", "region_id",
         "status", "status_since"],
        projects(),
    )  # fmt: skip
    loader.copy(
        ProjectStatusChange,
        [*COMMON_COLUMNS, "project_id", "status", "date", "date_precision", "note"],
        (
            f"{COMMON}\t{first + index}\t{status}\t{since}\tday\t{SYNTHETIC_NOTE}"
            for index, (status, since) in enumerate(statuses)
        ),
    )
    through = InvestmentProject.partners.through
    loader.copy(
        through,
        ["investmentproject_id", "company_id"],
        (f"{project}\t{company}" for project, company in partners),
    )
    content_type = plan.content_types["projects.InvestmentProject"]
    _copy_citations(loader, plan, content_type, first, scale.projects, "project")


def _load_products(loader: _Loader, plan: _Plan, count: int) -> None:
    """0–2 products per company (1 on average), each with one regulatory milestone."""
    from projects.models import Product, RegulatoryMilestone

    scale, first = plan.scale, plan.ids["product"]
    rng = _rng(scale.seed, "product")
    rand, randrange = rng.random, rng.randrange
    pick_milestone = _weighted_picker(rng, MILESTONE_KINDS, MILESTONE_WEIGHTS)
    owners = [index for index in range(scale.companies) for _ in range(index % 3)]
    modality_count, day_count = len(MODALITIES), len(DAYS)
    milestones: list[str] = []

    def products() -> Iterator[str]:
        for offset, company_index in enumerate(owners):
            product_id, number = first + offset, offset + 1
            target = TARGETS[randrange(len(TARGETS))]
            indication = INDICATIONS[randrange(len(INDICATIONS))]
            milestones.append(
                f"{COMMON}\tdemo-milestone-{number:07d}\t{product_id}\t{pick_milestone()}\t"
                f"{plan.authority_id}\t{DAYS[randrange(day_count)]}\tday\t{plan.country_id}\t"
                f"{SYNTHETIC_NOTE}"
            )
            yield (
                f"{product_id}\t{COMMON}\tdemo-product-{number:07d}\t"
                f"{plan.ids['company'] + company_index}\tDEMO-{number:07d}\t示例产品{number}\t"
                f"{MODALITIES[randrange(modality_count)] if rand() < 0.9 else 'car_t'}\t"
                f'{{{target}}}\t{{"{indication}"}}'
            )

    assert len(owners) == count
    loader.copy(
        Product,
        ["id", *COMMON_COLUMNS, "slug", "company_id", "name", "name_zh", "modality", "targets",
         "indications"],
        products(),
    )  # fmt: skip
    loader.copy(
        RegulatoryMilestone,
        [*COMMON_COLUMNS, "slug", "product_id", "kind", "authority_id", "date", "date_precision",
         "region_id", "note"],
        iter(milestones),
    )  # fmt: skip


# Content checksums by natural key (slugs), so two runs compare equal whatever ids they got.
CHECKSUM_QUERIES = {
    "regions": "SELECT md5(string_agg(concat_ws('|', r.slug, r.kind, p.slug, r.name_en,"
    " r.name_zh, r.latitude, r.longitude, r.depth), ',' ORDER BY r.slug)) FROM portal_region r"
    " LEFT JOIN portal_region p ON p.id = r.parent_id WHERE r.slug LIKE 'demo-%%'",
    "companies": "SELECT md5(string_agg(concat_ws('|', c.slug, c.kind, c.name_en, c.name_zh,"
    " c.modalities::text, c.headquarters_country, p.slug, r.slug), ',' ORDER BY c.slug))"
    " FROM companies_company c LEFT JOIN companies_company p ON p.id = c.parent_id"
    " LEFT JOIN portal_region r ON r.id = c.registered_region_id WHERE c.slug LIKE 'demo-%%'",
    "ownership_periods": "SELECT md5(string_agg(concat_ws('|', c.slug, o.ownership_type,"
    " o.effective_from, o.effective_to), ',' ORDER BY c.slug, o.effective_from))"
    " FROM companies_ownershipperiod o JOIN companies_company c ON c.id = o.company_id"
    " WHERE c.slug LIKE 'demo-%%'",
    "facilities": "SELECT md5(string_agg(concat_ws('|', f.slug, c.slug, f.name_en, f.kind,"
    " f.modalities::text, r.slug, f.status, f.status_since, f.latitude, f.longitude),"
    " ',' ORDER BY f.slug)) FROM companies_facility f JOIN companies_company c"
    " ON c.id = f.company_id JOIN portal_region r ON r.id = f.region_id"
    " WHERE f.slug LIKE 'demo-%%'",
    "projects": "SELECT md5(string_agg(concat_ws('|', p.slug, c.slug, f.slug, p.title, p.kind,"
    " p.amount, p.currency, p.amount_kind, p.announced_on, r.slug, p.status, p.status_since),"
    " ',' ORDER BY p.slug)) FROM projects_investmentproject p JOIN companies_company c"
    " ON c.id = p.company_id LEFT JOIN companies_facility f ON f.id = p.facility_id"
    " JOIN portal_region r ON r.id = p.region_id WHERE p.slug LIKE 'demo-%%'",
    "status_changes": "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
    " SELECT concat_ws('|', f.slug, s.status, s.date) AS x FROM companies_facilitystatuschange s"
    " JOIN companies_facility f ON f.id = s.facility_id WHERE f.slug LIKE 'demo-%%'"
    " UNION ALL SELECT concat_ws('|', p.slug, s.status, s.date)"
    " FROM projects_projectstatuschange s JOIN projects_investmentproject p"
    " ON p.id = s.project_id WHERE p.slug LIKE 'demo-%%') t",
    "products": "SELECT md5(string_agg(concat_ws('|', p.slug, c.slug, p.modality,"
    " p.targets::text, p.indications::text, m.slug, m.kind, m.date), ',' ORDER BY p.slug))"
    " FROM projects_product p JOIN companies_company c ON c.id = p.company_id"
    " LEFT JOIN projects_regulatorymilestone m ON m.product_id = p.id"
    " WHERE p.slug LIKE 'demo-%%'",
    "citations": "SELECT md5(string_agg(concat_ws('|', t.model, ci.object_id - m.first_id,"
    " ci.excerpt), ',' ORDER BY t.model, ci.object_id)) FROM portal_citation ci"
    " JOIN django_content_type t ON t.id = ci.content_type_id"
    " JOIN portal_source s ON s.id = ci.source_id AND s.key = 'demo-synthetic-data'"
    " JOIN (SELECT content_type_id, min(object_id) AS first_id FROM portal_citation"
    " GROUP BY content_type_id) m ON m.content_type_id = ci.content_type_id",
    "partners": "SELECT md5(string_agg(concat_ws('|', p.slug, c.slug), ',' ORDER BY p.slug,"
    " c.slug)) FROM projects_investmentproject_partners x JOIN projects_investmentproject p"
    " ON p.id = x.investmentproject_id JOIN companies_company c ON c.id = x.company_id"
    " WHERE p.slug LIKE 'demo-%%'",
}


def content_checksums() -> dict[str, str]:
    with connection.cursor() as cursor:
        result = {}
        for name, query in CHECKSUM_QUERIES.items():
            cursor.execute(query)
            result[name] = cursor.fetchone()[0]
        return result
