"""Static checks on the hand-curated dataset in ``fixtures/curated/*.yaml``.

Plain pytest: no database and no Django import, so it also runs with ``-p no:django``.
The format is specified in ``docs/dataset-format.md``; this test encodes it as small
per-file schemas and then checks provenance (every excerpt verbatim in its source file),
referential integrity, natural-key uniqueness and value formats.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CURATED = ROOT / "fixtures" / "curated"
SOURCES_DIR = ROOT / "fixtures" / "sources"

# Files owned by the curated-dataset work, in load order (subsidy_rules.yaml is owned and
# tested elsewhere and is deliberately not checked here).
FILES = [
    "sources.yaml",
    "regions.yaml",
    "companies.yaml",
    "facilities.yaml",
    "projects.yaml",
    "products.yaml",
    "milestones.yaml",
    "authorities.yaml",
    "policies.yaml",
    "policy_relations.yaml",
    "reported_figures.yaml",
    "exchange_rates.yaml",
]

ACTION_PLAN = "shanghai-cell-therapy-action-plan-2022-2024"
# Key tasks whose English text names no responsible units (no trailing parenthetical).
# Their responsible_authorities stay empty rather than being guessed.
TASKS_WITHOUT_NAMED_AUTHORITIES = {"IV.1", "IV.5", "IV.6"}

# How the Action Plan's parentheticals spell each responsible authority.
AUTHORITY_NAMES_IN_ACTION_PLAN = {
    "shanghai-municipal-science-and-technology-commission": [
        "Municipal Science and Technology Commission",
        "Shanghai Municipal Science and Technology Commission",
        "City Science and Technology Commission",
    ],
    "shanghai-municipal-commission-of-economy-and-informatization": [
        "Municipal Economic Information and Informatization Commission",
        "Municipal Economic and Information Technology Commission",
        "Municipal Commission of Economy and Information Technology",
        "Municipal Commission of Economy and Informatization",
        "Shanghai Municipal Commission of Economy and Informatization",
        "City Commission of Economy and Informatization",
    ],
    "shanghai-municipal-development-and-reform-commission": [
        "Municipal Development and Reform Commission",
        "Shanghai Municipal Development and Reform Commission",
    ],
    "shanghai-municipal-medical-products-administration": [
        "Municipal Drug Administration",
        "Shanghai Municipal Drug Administration",
        "City Drug Administration Bureau",
    ],
    "shanghai-municipal-health-commission": [
        "Municipal Health Commission",
        "Shanghai Municipal Health Commission",
        "City Health Commission",
    ],
    "shenkang-hospital-development-center": [
        "Shenkang Hospital Development Center",
        "Shinkang Hospital Development Center",
    ],
    "shanghai-science-and-technology-innovation-office": [
        "Shanghai Science and Technology Innovation Office",
        "Shanghai Science & Technology Innovation Office",
    ],
    "shanghai-municipal-market-supervision-administration": [
        "Shanghai Municipal Market Supervision Administration"
    ],
    "shanghai-municipal-intellectual-property-office": [
        "Shanghai Municipal Intellectual Property Office"
    ],
    "shanghai-municipal-finance-bureau": ["City Finance Bureau"],
    "shanghai-municipal-local-financial-regulatory-bureau": [
        "City Local Financial Regulatory Bureau",
        "Shanghai Municipal Local Financial Regulatory Bureau",
    ],
    "shanghai-banking-and-insurance-regulatory-bureau": [
        "Shanghai Banking and Insurance Regulatory Bureau",
        "Shanghai Branch of the China Banking and Insurance Regulatory Commission",
    ],
    "shanghai-municipal-commission-of-commerce": ["Municipal Commission of Commerce"],
    "shanghai-customs": ["Shanghai Customs"],
    "shanghai-municipal-ecology-and-environment-bureau": [
        "Municipal Ecology and Environment Bureau"
    ],
    "shanghai-municipal-transportation-commission": ["Municipal Transportation Commission"],
    "east-china-regional-administration-of-civil-aviation": [
        "East China Regional Administration of Civil Aviation"
    ],
    "pudong-new-area-government": ["Pudong New Area"],
    "shanghai-municipal-healthcare-security-bureau": [
        "Shanghai Municipal Healthcare Security Bureau"
    ],
}
# Named as responsible in the text but not a single authority, so not represented.
UNREPRESENTED_RESPONSIBLE_UNITS = {"relevant district governments"}

# --------------------------------------------------------------------------- enums
REGION_KINDS = {"country", "province", "municipality", "city", "district", "zone", "park"}
REGION_RANK = {
    "country": 0,
    "province": 1,
    "municipality": 1,
    "city": 2,
    "district": 3,
    "zone": 4,
    "park": 4,
}
PROVENANCE = {"official", "unofficial"}
PRECISIONS = {"day", "month", "year"}
VERIFICATION = {"verified", "pending", "disputed"}
OWNERSHIP_TYPES = {"foreign_invested", "domestic", "joint_venture", "state_owned"}
MODALITIES = {
    "cell_therapy",
    "car_t",
    "tcr_t",
    "nk_cell",
    "stem_cell",
    "gene_therapy",
    "gene_diagnostics",
    "small_molecule",
    "biologics",
    "inhalation",
    "vaccine",
    "testing_services",
    "other",
}
COMPANY_KINDS = {"company", "institution"}
FACILITY_KINDS = {"manufacturing", "innovation_center", "biobank", "testing_lab", "office"}
FACILITY_STATUSES = {"announced", "planned", "under_construction", "operational", "closed"}
PROJECT_KINDS = {
    "new_facility",
    "expansion",
    "equity_investment",
    "cooperation_agreement",
    "rd_program",
}
AMOUNT_KINDS = {"capital_expenditure", "commitment", "expected_annual_output"}
PROJECT_STATUSES = {"announced", "signed", "under_construction", "operational", "cancelled"}
MILESTONE_KINDS = {
    "clinical_trial_approval",
    "registration_filing",
    "market_authorization",
    "commercial_launch",
    "breakthrough_designation",
}
POLICY_KINDS = {
    "law",
    "regulation",
    "action_plan",
    "plan",
    "opinion",
    "notice",
    "announcement",
    "negative_list",
}
PROVISION_KINDS = {
    "preamble",
    "principle",
    "objective",
    "task",
    "subsidy",
    "restriction",
    "facilitation",
    "target",
    "assurance",
}
TARGET_METRICS = {
    "clinical_trial_approvals",
    "market_authorizations",
    "facilities_operational",
    "companies",
    "investment_amount",
    "industry_scale",
    "other",
}
COMPARATORS = {"exactly", "more_than", "at_least", "about", "less_than", "at_most"}
RELATION_KINDS = {"implements", "amends", "supersedes", "relates_to", "based_on"}
SUBJECT_TYPES = {"region", "company", "policy"}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
ANY = object()  # placeholder: no type constraint beyond presence


# --------------------------------------------------------------------------- helpers
def norm(text: str) -> str:
    """Whitespace normalisation used for excerpt checks (runs of whitespace -> one space)."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def load(name: str):
    with (CURATED / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def source_text(seed_file: str) -> str:
    return norm((SOURCES_DIR / seed_file).read_text(encoding="utf-8"))


@cache
def sources_by_key() -> dict:
    return {s["key"]: s for s in load("sources.yaml")}


def by_slug(name: str) -> dict:
    return {r["slug"]: r for r in load(name)}


def is_date(value) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def is_decimal_string(value, *, allow_negative: bool = False) -> bool:
    if not isinstance(value, str):
        return False
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and (allow_negative or number >= 0)


# --------------------------------------------------------------------------- schemas
# key -> (required, validator). A validator is a set (enum), a type, a callable or ANY.
def nullable(check):
    return ("nullable", check)


def list_of(check):
    return ("list", check)


DATE = ("date",)
STR = str
SLUG = ("slug",)
DECIMAL = ("decimal",)

CITATION = {
    "source": (True, STR),
    "excerpt": (True, STR),
    "field": (False, nullable(STR)),
    "verification": (False, VERIFICATION),
    "checked_on": (False, DATE),
}
CITATIONS = list_of(CITATION)

STATUS_ENTRY = {
    "status": (True, ANY),  # enum depends on the file; checked separately
    "date": (True, nullable(DATE)),
    "date_precision": (True, nullable(PRECISIONS)),
    "notes": (False, nullable(STR)),
    "citations": (True, CITATIONS),
}

SCHEMAS = {
    "sources.yaml": {
        "key": (True, SLUG),
        "seed_file": (True, STR),
        "title": (True, STR),
        "publisher": (True, nullable(STR)),
        "url": (True, nullable(STR)),
        "published_on": (True, nullable(DATE)),
        "published_on_precision": (False, nullable(PRECISIONS)),
        "language": (True, STR),
        "notes": (False, nullable(STR)),
        "citations": (False, CITATIONS),
    },
    "regions.yaml": {
        "slug": (True, SLUG),
        "kind": (True, REGION_KINDS),
        "parent": (True, nullable(SLUG)),
        "name_en": (True, STR),
        "name_zh": (True, nullable(STR)),
        "name_zh_provenance": (True, nullable(PROVENANCE)),
        "aliases": (True, list_of(STR)),
        "latitude": (True, nullable(("decimal-signed",))),
        "longitude": (True, nullable(("decimal-signed",))),
        "coordinates_approximate": (True, nullable(bool)),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "companies.yaml": {
        "slug": (True, SLUG),
        "kind": (False, COMPANY_KINDS),
        "name_en": (True, STR),
        "name_zh": (True, nullable(STR)),
        "name_zh_provenance": (True, nullable(PROVENANCE)),
        "aliases": (
            True,
            list_of(
                {
                    "name": (True, STR),
                    "language": (True, STR),
                    "provenance": (True, PROVENANCE),
                }
            ),
        ),
        "ownership": (
            True,
            list_of(
                {
                    "type": (True, OWNERSHIP_TYPES),
                    "effective_from": (True, nullable(DATE)),
                    "effective_to": (True, nullable(DATE)),
                }
            ),
        ),
        "headquarters_country": (True, nullable(("country",))),
        "parent": (True, nullable(SLUG)),
        "listings": (
            True,
            list_of(
                {
                    "exchange": (True, STR),
                    "ticker": (True, STR),  # a listing without a ticker cannot be stored
                }
            ),
        ),
        "modalities": (True, list_of(MODALITIES)),
        "registered_region": (True, nullable(SLUG)),
        "website": (True, nullable(STR)),
        "description": (True, nullable(STR)),
        "scope_events": (
            True,
            list_of(
                {
                    "date": (True, nullable(DATE)),
                    "date_precision": (False, nullable(PRECISIONS)),
                    "description": (True, STR),
                    "modalities": (True, list_of(MODALITIES)),
                    "notes": (False, nullable(STR)),
                    "citations": (True, CITATIONS),
                }
            ),
        ),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "facilities.yaml": {
        "slug": (True, SLUG),
        "company": (True, SLUG),  # the data model requires an operator
        "name_en": (True, STR),
        "name_zh": (True, nullable(STR)),
        "name_zh_provenance": (False, nullable(PROVENANCE)),
        "kind": (True, FACILITY_KINDS),
        "modalities": (True, list_of(MODALITIES)),
        "region": (True, SLUG),
        "status_history": (True, list_of(STATUS_ENTRY)),
        "capacity_notes": (True, nullable(STR)),
        "latitude": (True, nullable(("decimal-signed",))),
        "longitude": (True, nullable(("decimal-signed",))),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "projects.yaml": {
        "slug": (True, SLUG),
        "company": (True, SLUG),
        "facility": (True, nullable(SLUG)),
        "title": (True, STR),
        "kind": (True, PROJECT_KINDS),
        "amount": (True, nullable(DECIMAL)),
        "currency": (True, nullable(("currency",))),
        "amount_kind": (True, nullable(AMOUNT_KINDS)),
        "announced_on": (True, DATE),  # required by the data model
        "announced_on_precision": (True, PRECISIONS),
        "region": (True, SLUG),
        "partners": (True, list_of(SLUG)),
        "status_history": (True, list_of(STATUS_ENTRY)),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "products.yaml": {
        "slug": (True, SLUG),
        "company": (True, SLUG),
        "name": (True, STR),
        "modality": (True, MODALITIES),
        "targets": (True, list_of(STR)),
        "indications": (True, list_of(STR)),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "milestones.yaml": {
        "slug": (True, SLUG),
        "product": (True, SLUG),
        "kind": (True, MILESTONE_KINDS),
        "authority": (True, SLUG),
        "date": (True, DATE),  # required by the data model
        "date_precision": (True, PRECISIONS),
        "region": (True, SLUG),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "authorities.yaml": {
        "slug": (True, SLUG),
        "name_en": (True, STR),
        "name_zh": (True, nullable(STR)),
        "name_zh_provenance": (False, nullable(PROVENANCE)),
        "abbreviation": (True, nullable(STR)),
        "region": (True, SLUG),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "policies.yaml": {
        "slug": (True, SLUG),
        "title_en": (True, STR),
        "title_zh": (True, nullable(STR)),
        "title_zh_provenance": (True, nullable(PROVENANCE)),
        "document_number": (True, nullable(STR)),
        "kind": (True, POLICY_KINDS),
        "issuing_authorities": (True, list_of(SLUG)),
        "jurisdiction": (True, SLUG),
        "published_on": (True, nullable(DATE)),
        "published_on_precision": (False, nullable(PRECISIONS)),
        "effective_from": (True, nullable(DATE)),
        "expires_on": (True, nullable(DATE)),
        "repealed_on": (True, nullable(DATE)),
        "summary": (True, nullable(STR)),
        "provisions": (
            True,
            list_of(
                {
                    "path": (True, STR),
                    "heading": (True, nullable(STR)),
                    "kind": (True, PROVISION_KINDS),
                    "text": (True, STR),
                    "responsible_authorities": (True, list_of(SLUG)),
                    "citations": (True, CITATIONS),
                }
            ),
        ),
        "targets": (
            True,
            list_of(
                {
                    "slug": (True, SLUG),
                    "provision": (True, STR),
                    "metric": (True, TARGET_METRICS),
                    "description": (True, STR),
                    "comparator": (True, COMPARATORS),
                    "value": (True, DECIMAL),
                    "unit": (True, STR),
                    "period_start": (True, nullable(DATE)),
                    "deadline": (True, nullable(DATE)),
                    "region": (True, SLUG),
                    "citations": (True, CITATIONS),
                }
            ),
        ),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "policy_relations.yaml": {
        "from": (True, SLUG),
        "to": (True, SLUG),
        "kind": (True, RELATION_KINDS),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "reported_figures.yaml": {
        "slug": (True, SLUG),
        "subject_type": (True, SUBJECT_TYPES),
        "subject": (True, SLUG),
        "measure": (True, STR),
        "description": (True, STR),
        "value": (True, DECIMAL),
        "unit": (True, STR),
        "comparator": (True, COMPARATORS),
        "as_of": (True, DATE),  # required by the data model
        "as_of_precision": (True, PRECISIONS),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
    "exchange_rates.yaml": {
        "currency": (True, ("currency",)),
        "rate_to_cny": (True, DECIMAL),
        "date": (True, DATE),
        "date_precision": (False, nullable(PRECISIONS)),
        "notes": (False, nullable(STR)),
        "citations": (True, CITATIONS),
    },
}


def check_value(value, check, where: str, errors: list[str]) -> None:
    if check is ANY:
        return
    if isinstance(check, tuple) and check and check[0] == "nullable":
        if value is not None:
            check_value(value, check[1], where, errors)
        return
    if isinstance(check, tuple) and check and check[0] == "list":
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list, got {value!r}")
            return
        for i, item in enumerate(value):
            check_value(item, check[1], f"{where}[{i}]", errors)
        return
    if isinstance(check, dict):
        check_record(value, check, where, errors)
        return
    if isinstance(check, (set, frozenset)):
        if value not in check:
            errors.append(f"{where}: {value!r} not in {sorted(check)}")
        return
    if check is DATE:
        if not is_date(value):
            errors.append(f"{where}: {value!r} is not an ISO date")
        return
    if check is SLUG:
        if not isinstance(value, str) or not SLUG_RE.match(value):
            errors.append(f"{where}: {value!r} is not a slug")
        return
    if check is DECIMAL:
        if not is_decimal_string(value):
            errors.append(f"{where}: {value!r} is not a non-negative decimal string")
        return
    if check == ("decimal-signed",):
        if not is_decimal_string(value, allow_negative=True):
            errors.append(f"{where}: {value!r} is not a decimal string")
        return
    if check == ("currency",):
        if not isinstance(value, str) or not CURRENCY_RE.match(value):
            errors.append(f"{where}: {value!r} is not a 3-letter uppercase currency code")
        return
    if check == ("country",):
        if not isinstance(value, str) or not COUNTRY_RE.match(value):
            errors.append(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 code")
        return
    if isinstance(check, type):
        if not isinstance(value, check) or (check is str and not value.strip()):
            errors.append(f"{where}: expected non-empty {check.__name__}, got {value!r}")
        return
    raise AssertionError(f"unknown check {check!r}")  # pragma: no cover


def check_record(record, schema: dict, where: str, errors: list[str]) -> None:
    if not isinstance(record, dict):
        errors.append(f"{where}: expected a mapping, got {record!r}")
        return
    unknown = set(record) - set(schema)
    if unknown:
        errors.append(f"{where}: unknown keys {sorted(unknown)}")
    for key, (required, check) in schema.items():
        if key not in record:
            if required:
                errors.append(f"{where}: missing key {key!r}")
            continue
        check_value(record[key], check, f"{where}.{key}", errors)


def record_label(name: str, index: int, record) -> str:
    if isinstance(record, dict):
        for key in ("slug", "key"):
            if key in record:
                return f"{name}[{record[key]}]"
        if "from" in record:
            return f"{name}[{record.get('from')}->{record.get('to')}]"
        if "currency" in record:
            return f"{name}[{record.get('currency')}@{record.get('date')}]"
    return f"{name}[{index}]"


def iter_citations(node, where: str):
    """Yield (where, citation) for every citation anywhere inside a record."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citations" and isinstance(value, list):
                for i, citation in enumerate(value):
                    yield f"{where}.citations[{i}]", citation
            else:
                yield from iter_citations(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from iter_citations(item, f"{where}[{i}]")


def iter_precision_pairs(node, where: str):
    """Yield (where, date, precision) for every `<x>` / `<x>_precision` pair in a record."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_precision"):
                base = key[: -len("_precision")]
                if base in node:
                    yield f"{where}.{base}", node[base], value
            else:
                yield from iter_precision_pairs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from iter_precision_pairs(item, f"{where}[{i}]")


def all_records():
    for name in FILES:
        for i, record in enumerate(load(name)):
            yield name, record_label(name, i, record), record


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", FILES)
def test_file_parses_as_non_empty_list(name):
    data = load(name)
    assert isinstance(data, list) and data, f"{name} must be a non-empty YAML list"


@pytest.mark.parametrize("name", FILES)
def test_records_match_schema(name):
    errors: list[str] = []
    for i, record in enumerate(load(name)):
        check_record(record, SCHEMAS[name], record_label(name, i, record), errors)
    assert not errors, "\n".join(errors)


def test_status_enums_per_file():
    errors = []
    for name, allowed in (
        ("facilities.yaml", FACILITY_STATUSES),
        ("projects.yaml", PROJECT_STATUSES),
    ):
        for i, record in enumerate(load(name)):
            for entry in record.get("status_history", []):
                if entry.get("status") not in allowed:
                    errors.append(
                        f"{record_label(name, i, record)}: status {entry.get('status')!r}"
                    )
    assert not errors, "\n".join(errors)


def test_sources_point_at_seed_files():
    sources = load("sources.yaml")
    seeds = {s["seed_file"] for s in sources}
    for source in sources:
        assert (SOURCES_DIR / source["seed_file"]).is_file(), source["seed_file"]
    on_disk = {p.name for p in SOURCES_DIR.glob("*.txt")}
    assert seeds == on_disk, f"every seed file is described exactly once: {seeds ^ on_disk}"


def test_every_record_has_a_citation():
    missing = []
    for _file, label, record in all_records():
        if not record.get("citations"):
            missing.append(label)
        # nested records that carry their own evidence
        for key in ("status_history", "scope_events", "provisions", "targets"):
            for j, item in enumerate(record.get(key) or []):
                if isinstance(item, dict) and not item.get("citations"):
                    missing.append(f"{label}.{key}[{j}]")
    assert not missing, "records without citations:\n" + "\n".join(missing)


def test_every_citation_is_verbatim_in_its_source():
    sources = sources_by_key()
    errors = []
    for _name, label, record in all_records():
        for where, citation in iter_citations(record, label):
            key = citation.get("source")
            if key not in sources:
                errors.append(f"{where}: unknown source {key!r}")
                continue
            excerpt = norm(citation.get("excerpt") or "")
            if not excerpt:
                errors.append(f"{where}: empty excerpt")
            elif excerpt not in source_text(sources[key]["seed_file"]):
                errors.append(f"{where}: excerpt not verbatim in {key}: {excerpt[:90]!r}")
    assert not errors, "\n".join(errors)


def test_provision_text_is_verbatim_and_backed_by_its_citations():
    sources = sources_by_key()
    errors = []
    for policy in load("policies.yaml"):
        policy_sources = {c["source"] for c in policy["citations"]}
        for provision in policy["provisions"]:
            where = f"{policy['slug']}:{provision['path']}"
            text = norm(provision["text"])
            cited = {c["source"] for c in provision["citations"]} | policy_sources
            if not any(text in source_text(sources[k]["seed_file"]) for k in cited if k in sources):
                errors.append(f"{where}: text not verbatim in any cited source")
            if not any(norm(c["excerpt"]) in text for c in provision["citations"]):
                errors.append(f"{where}: no citation excerpt is taken from the provision text")
    assert not errors, "\n".join(errors)


def test_natural_keys_are_unique():
    keys = {
        "sources.yaml": lambda r: r["key"],
        "policy_relations.yaml": lambda r: (r["from"], r["to"], r["kind"]),
        "exchange_rates.yaml": lambda r: (r["currency"], r["date"]),
    }
    errors = []
    for name in FILES:
        key = keys.get(name, lambda r: r["slug"])
        counts = Counter(key(r) for r in load(name))
        errors += [f"{name}: duplicate key {k!r}" for k, n in counts.items() if n > 1]
    target_slugs = Counter(t["slug"] for p in load("policies.yaml") for t in p["targets"])
    errors += [f"targets: duplicate slug {k}" for k, n in target_slugs.items() if n > 1]
    for policy in load("policies.yaml"):
        paths = Counter(p["path"] for p in policy["provisions"])
        errors += [f"{policy['slug']}: duplicate path {k}" for k, n in paths.items() if n > 1]
    assert not errors, "\n".join(errors)


def test_region_tree():
    regions = by_slug("regions.yaml")
    errors = []
    roots = [r for r in regions.values() if r["parent"] is None]
    for root in roots:
        if root["kind"] != "country":
            errors.append(f"{root['slug']}: only countries may be roots")
    assert "china" in regions and regions["china"]["parent"] is None
    for slug, region in regions.items():
        parent = region["parent"]
        if parent is None:
            continue
        if parent not in regions:
            errors.append(f"{slug}: unknown parent {parent}")
            continue
        child_rank, parent_rank = REGION_RANK[region["kind"]], REGION_RANK[regions[parent]["kind"]]
        zone_in_zone = region["kind"] in {"zone", "park"} and regions[parent]["kind"] in {
            "zone",
            "park",
        }
        if not (parent_rank < child_rank or zone_in_zone):
            errors.append(
                f"{slug} ({region['kind']}) cannot sit under {parent} ({regions[parent]['kind']})"
            )
        if region["kind"] == "country":
            errors.append(f"{slug}: a country must be a root")
        # walk up: no cycles, every Chinese region ends at china
        seen, node = {slug}, parent
        while node is not None and node in regions:
            if node in seen:
                errors.append(f"{slug}: cycle via {node}")
                break
            seen.add(node)
            top, node = node, regions[node]["parent"]
        else:
            if regions[top]["kind"] != "country":
                errors.append(f"{slug}: tree does not end at a country")
    assert (
        regions["shanghai"]["kind"] == "municipality" and regions["shanghai"]["parent"] == "china"
    )
    for slug, region in regions.items():
        has_coords = region["latitude"] is not None
        if has_coords != (region["longitude"] is not None):
            errors.append(f"{slug}: latitude/longitude must both be set or both null")
        if has_coords:
            lat, lon = Decimal(region["latitude"]), Decimal(region["longitude"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                errors.append(f"{slug}: coordinates out of range")
            if region["coordinates_approximate"] is not True:
                errors.append(f"{slug}: coordinates must be marked approximate")
        if (region["name_zh"] is None) != (region["name_zh_provenance"] is None):
            errors.append(f"{slug}: name_zh_provenance must accompany name_zh")
    assert not errors, "\n".join(errors)


def test_slug_references_resolve():
    regions = by_slug("regions.yaml")
    companies = by_slug("companies.yaml")
    facilities = by_slug("facilities.yaml")
    products = by_slug("products.yaml")
    authorities = by_slug("authorities.yaml")
    policies = by_slug("policies.yaml")
    errors = []

    def ref(where, value, table, table_name, allow_null=False):
        if value is None and allow_null:
            return
        if value not in table:
            errors.append(f"{where}: {value!r} is not a {table_name} slug")

    for slug, company in companies.items():
        ref(f"company {slug}.parent", company["parent"], companies, "company", True)
        ref(
            f"company {slug}.registered_region",
            company["registered_region"],
            regions,
            "region",
            True,
        )
    for slug, facility in facilities.items():
        ref(f"facility {slug}.company", facility["company"], companies, "company")
        ref(f"facility {slug}.region", facility["region"], regions, "region")
    for project in load("projects.yaml"):
        where = f"project {project['slug']}"
        ref(f"{where}.company", project["company"], companies, "company")
        ref(f"{where}.facility", project["facility"], facilities, "facility", True)
        ref(f"{where}.region", project["region"], regions, "region")
        for partner in project["partners"]:
            ref(f"{where}.partners", partner, companies, "company")
        if project["company"] in project["partners"]:
            errors.append(f"{where}: the company is listed as its own partner")
        facility = facilities.get(project["facility"])
        if facility and facility["company"] not in (None, project["company"]):
            errors.append(f"{where}: facility belongs to {facility['company']}")
    for product in load("products.yaml"):
        ref(f"product {product['slug']}.company", product["company"], companies, "company")
    for milestone in load("milestones.yaml"):
        where = f"milestone {milestone['slug']}"
        ref(f"{where}.product", milestone["product"], products, "product")
        ref(f"{where}.authority", milestone["authority"], authorities, "authority")
        ref(f"{where}.region", milestone["region"], regions, "region")
    for slug, authority in authorities.items():
        ref(f"authority {slug}.region", authority["region"], regions, "region")
    for slug, policy in policies.items():
        for authority in policy["issuing_authorities"]:
            ref(f"policy {slug}.issuing_authorities", authority, authorities, "authority")
        ref(f"policy {slug}.jurisdiction", policy["jurisdiction"], regions, "region")
        paths = {p["path"] for p in policy["provisions"]}
        for provision in policy["provisions"]:
            for authority in provision["responsible_authorities"]:
                ref(f"policy {slug}:{provision['path']}", authority, authorities, "authority")
        for target in policy["targets"]:
            if target["provision"] not in paths:
                errors.append(
                    f"target {target['slug']}: no provision {target['provision']!r} in {slug}"
                )
            ref(f"target {target['slug']}.region", target["region"], regions, "region")
    for relation in load("policy_relations.yaml"):
        ref("relation.from", relation["from"], policies, "policy")
        ref("relation.to", relation["to"], policies, "policy")
        if relation["from"] == relation["to"]:
            errors.append(f"relation {relation['from']}: relates a policy to itself")
    subject_tables = {"region": regions, "company": companies, "policy": policies}
    for figure in load("reported_figures.yaml"):
        table = subject_tables[figure["subject_type"]]
        ref(f"figure {figure['slug']}.subject", figure["subject"], table, figure["subject_type"])
    assert not errors, "\n".join(errors)


def test_action_plan_structure():
    plan = by_slug("policies.yaml")[ACTION_PLAN]
    provisions = plan["provisions"]
    tasks = [p for p in provisions if re.fullmatch(r"IV\.\d+", p["path"])]
    assert [p["path"] for p in tasks] == [f"IV.{n}" for n in range(1, 14)], (
        "13 key tasks IV.1-IV.13"
    )
    paths = [p["path"] for p in provisions]
    for required in (
        "preamble",
        "I",
        "II.1",
        "II.2",
        "II.3",
        "II.4",
        "III",
        "III.1",
        "III.2",
        "V.1",
        "V.2",
        "V.3",
    ):
        assert required in paths, f"Action Plan provision {required} missing"
    # provisions are ordered as in the document
    text = source_text(sources_by_key()[plan["citations"][0]["source"]]["seed_file"])
    offsets = [text.index(norm(p["text"])) for p in provisions]
    assert offsets == sorted(offsets), "provisions must follow document order"
    kinds = {p["path"]: p["kind"] for p in provisions}
    assert kinds["preamble"] == "preamble"
    assert all(kinds[f"V.{n}"] == "assurance" for n in (1, 2, 3))
    assert all(kinds[p] == "objective" for p in ("III", "III.1", "III.2"))
    assert plan["targets"], "the Action Plan's quantified 2024 goals are recorded as targets"


def _named_units(provision_text: str) -> list[str] | None:
    match = re.search(r"\(([^()]*)\)\s*$", norm(provision_text))
    if not match:
        return None
    units = [re.sub(r"^and\s+", "", u.strip()) for u in match.group(1).split(",")]
    return [u for u in units if u]


def test_action_plan_responsible_authorities_match_text():
    plan = by_slug("policies.yaml")[ACTION_PLAN]
    lookup = {
        name: slug for slug, names in AUTHORITY_NAMES_IN_ACTION_PLAN.items() for name in names
    }
    errors = []
    for provision in plan["provisions"]:
        path, listed = provision["path"], provision["responsible_authorities"]
        units = _named_units(provision["text"])
        if units is None:
            if listed:
                errors.append(f"{path}: text names no responsible units but lists {listed}")
            if re.fullmatch(r"IV\.\d+", path) and path not in TASKS_WITHOUT_NAMED_AUTHORITIES:
                errors.append(f"{path}: key task without responsible units in the text")
            continue
        if re.fullmatch(r"IV\.\d+", path) and not listed:
            errors.append(f"{path}: key task has no responsible authority")
        expected = []
        for unit in units:
            if unit in UNREPRESENTED_RESPONSIBLE_UNITS:
                continue
            if unit not in lookup:
                errors.append(f"{path}: responsible unit {unit!r} has no authority mapping")
                continue
            expected.append(lookup[unit])
        if sorted(expected) != sorted(listed) or len(set(listed)) != len(listed):
            errors.append(f"{path}: responsible_authorities {listed} != text {expected}")
    for path in TASKS_WITHOUT_NAMED_AUTHORITIES:
        provision = next(p for p in plan["provisions"] if p["path"] == path)
        assert _named_units(provision["text"]) is None, f"{path} now names units; update the list"
    assert not errors, "\n".join(errors)


def test_dates_amounts_and_currencies():
    errors = []
    for _name, label, record in all_records():
        for where, value, precision in iter_precision_pairs(record, label):
            if value is None:
                if precision not in (None, "day"):
                    errors.append(f"{where}: precision {precision!r} without a date")
                continue
            if not is_date(value):
                errors.append(f"{where}: {value!r} is not a date")
            elif precision == "month" and value.day != 1:
                errors.append(f"{where}: month precision must use the first day")
            elif precision == "year" and (value.month, value.day) != (1, 1):
                errors.append(f"{where}: year precision must use 1 January")
    for policy in load("policies.yaml"):
        start, end = policy["effective_from"], policy["expires_on"]
        if start and end and start > end:
            errors.append(f"{policy['slug']}: effective_from after expires_on")
        if policy["published_on"] and end and policy["published_on"] > end:
            errors.append(f"{policy['slug']}: published after it expired")
        for target in policy["targets"]:
            if (
                target["period_start"]
                and target["deadline"]
                and target["period_start"] > target["deadline"]
            ):
                errors.append(f"target {target['slug']}: period_start after deadline")
    for company in load("companies.yaml"):
        for own in company["ownership"]:
            if (
                own["effective_from"]
                and own["effective_to"]
                and own["effective_from"] > own["effective_to"]
            ):
                errors.append(f"{company['slug']}: ownership dates reversed")
    for name in ("facilities.yaml", "projects.yaml"):
        for record in load(name):
            dates = [e["date"] for e in record["status_history"] if e["date"] is not None]
            if dates != sorted(dates):
                errors.append(f"{name}[{record['slug']}]: status_history must be oldest first")
            if not record["status_history"]:
                errors.append(f"{name}[{record['slug']}]: empty status_history")
    for project in load("projects.yaml"):
        has_amount = project["amount"] is not None
        if has_amount != (project["currency"] is not None) or has_amount != (
            project["amount_kind"] is not None
        ):
            errors.append(
                f"project {project['slug']}: amount, currency and amount_kind go together"
            )
    for rate in load("exchange_rates.yaml"):
        if Decimal(rate["rate_to_cny"]) <= 0:
            errors.append(f"exchange rate {rate['currency']}: rate must be positive")
        if rate["currency"] == "CNY":
            errors.append("exchange rates are for foreign currencies into CNY")
    assert not errors, "\n".join(errors)


def test_amount_kinds_follow_the_cited_wording():
    """An expected annual output value is never recorded as investment, and vice versa."""
    errors = []
    for project in load("projects.yaml"):
        amount_citations = [
            norm(c["excerpt"]).lower() for c in project["citations"] if c.get("field") == "amount"
        ]
        if project["amount"] is None:
            continue
        if not amount_citations:
            errors.append(f"{project['slug']}: an amount needs a citation with field: amount")
            continue
        says_output = any("output value" in e for e in amount_citations)
        if says_output != (project["amount_kind"] == "expected_annual_output"):
            errors.append(
                f"{project['slug']}: amount_kind {project['amount_kind']} "
                f"vs wording {amount_citations}"
            )
    assert not errors, "\n".join(errors)


def test_business_scope_events_are_dated_and_cited():
    events = [(c["slug"], e) for c in load("companies.yaml") for e in c["scope_events"]]
    assert events, "the business-scope changes of the foreign-invested companies are recorded"
    for slug, event in events:
        assert event["modalities"], f"{slug}: scope event without modalities"
