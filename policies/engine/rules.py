"""Subsidy rules as frozen dataclasses, parsed and validated from JSON-shaped dicts.

The condition vocabulary is fixed (see FACTS below and docs/subsidy-rules.md). Validation
reports every problem with its field path, e.g. `conditions[0].op: 'like' is not one of ...`.
Whether a region or modality slug exists in the DB is the caller's check, not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .currencies import is_currency_code
from .facts import EVENT_KINDS, EVENT_REGION_FIELDS, OWNERSHIP_TYPES
from .values import parse_amount, parse_date, parse_rate, parse_slug, parse_text

# fact path -> (value type, allowed ops). Value types:
#   region: one region slug, op `within` (hierarchical, via the fact's ancestor path)
#   ownership / kind: `eq` one value, or `in` a list of values from the fixed vocabulary
#   modalities: `in` a list of modality slugs; matches if the fact set intersects the list
#   amount: numeric threshold on the event amount, in the rule's currency
FACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "company.registered_region": ("region", ("within",)),
    "company.ownership": ("ownership", ("eq", "in")),
    "company.modalities": ("modalities", ("in",)),
    "event.kind": ("kind", ("eq", "in")),
    "event.modality": ("modalities", ("in",)),
    **{f"event.{field}": ("region", ("within",)) for field in EVENT_REGION_FIELDS},
    "event.amount": ("amount", (">=", ">", "<=", "<")),
}
ALL_OPS: tuple[str, ...] = ("eq", "in", "within", ">=", ">", "<=", "<")
BENEFIT_KINDS: tuple[str, ...] = ("fixed", "up_to", "percentage")
# What one benefit "item" is: each qualifying event, or each distinct product (first
# qualifying event wins, so a product authorized twice counts once).
BENEFIT_ITEMS: tuple[str, ...] = ("event", "product")
# "calendar_year": per entity per calendar year of the item date (as BenefitPeriod in the DB).
CAP_PERIODS: tuple[str, ...] = ("calendar_year",)
MAX_PROVISION_TEXT = 20_000

ConditionValue = str | Decimal | frozenset[str]


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in rule data; `path` names the field, e.g. `conditions[0].op`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class RuleValidationError(ValueError):
    """Raised by `parse_rule` / `parse_cap_group` with every issue found."""

    def __init__(self, issues: list[ValidationIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))


@dataclass(frozen=True)
class Condition:
    """`fact op value`, e.g. company.registered_region within shanghai."""

    fact: str
    op: str
    value: ConditionValue

    def value_for_json(self) -> str | list[str]:
        if isinstance(self.value, frozenset):
            return sorted(self.value)
        return str(self.value)


@dataclass(frozen=True)
class Benefit:
    """How much one item is worth. Amounts are in the rule's currency."""

    kind: str  # fixed | up_to | percentage
    item: str = "event"  # event | product
    amount: Decimal | None = None  # fixed, up_to
    rate: Decimal | None = None  # percentage: share of the event amount
    item_cap: Decimal | None = None  # percentage: ceiling per item


@dataclass(frozen=True)
class Provision:
    """Citation: where the rule comes from; `excerpt` is verbatim from `text`."""

    path: str
    text: str
    excerpt: str
    source_title: str
    source_file: str


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    provision: Provision
    effective_from: date
    effective_to: date | None  # None: open-ended
    currency: str
    conditions: tuple[Condition, ...]
    benefit: Benefit
    cap_group: str | None = None


@dataclass(frozen=True)
class CapGroup:
    """Aggregate ceiling shared by several rules, per entity per calendar year."""

    code: str
    amount: Decimal
    currency: str
    period: str = "calendar_year"


class _Issues:
    """Collects issues; `check` runs a parser and records its ValueError under `path`."""

    def __init__(self) -> None:
        self.items: list[ValidationIssue] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(ValidationIssue(path, message))

    def check[T](self, path: str, parser: Callable[[object], T], value: object) -> T | None:
        try:
            return parser(value)
        except ValueError as error:
            self.add(path, str(error))
            return None


def _unknown_keys(issues: _Issues, path: str, data: Mapping, allowed: tuple[str, ...]) -> None:
    for key in sorted(set(data) - set(allowed), key=str):
        issues.add(f"{path}.{key}" if path else str(key), "unknown field")


def _parse_condition(issues: _Issues, path: str, raw: object) -> Condition | None:
    if not isinstance(raw, Mapping):
        issues.add(path, "must be an object with fact, op and value")
        return None
    _unknown_keys(issues, path, raw, ("fact", "op", "value"))
    for key in ("fact", "op", "value"):
        if key not in raw:
            issues.add(f"{path}.{key}", "is required")
    fact, op = raw.get("fact"), raw.get("op")
    if "fact" in raw and (not isinstance(fact, str) or fact not in FACTS):
        shown = repr(fact)[:40]
        issues.add(f"{path}.fact", f"{shown} is not one of {', '.join(FACTS)}")
        return None
    if fact is None or op is None or "value" not in raw:
        return None
    value_type, ops = FACTS[fact]
    if op not in ops:
        if op in ALL_OPS:
            issues.add(f"{path}.op", f"{op!r} cannot be used with {fact}; use {', '.join(ops)}")
        else:
            issues.add(f"{path}.op", f"{repr(op)[:40]} is not one of {', '.join(ALL_OPS)}")
        return None
    value = _parse_condition_value(issues, f"{path}.value", value_type, op, raw["value"])
    return None if value is None else Condition(fact, op, value)


def _parse_condition_value(
    issues: _Issues, path: str, value_type: str, op: str, raw: object
) -> ConditionValue | None:
    if value_type == "region":
        return issues.check(path, parse_slug, raw)
    if value_type == "amount":
        return issues.check(path, parse_amount, raw)
    vocabulary = {"ownership": OWNERSHIP_TYPES, "kind": EVENT_KINDS}.get(value_type)

    def one(item: object) -> str:
        slug = parse_slug(item)
        if vocabulary is not None and slug not in vocabulary:
            raise ValueError(f"{slug!r} is not one of {', '.join(sorted(vocabulary))}")
        return slug

    if op == "eq":
        return issues.check(path, one, raw)
    if not isinstance(raw, list) or not raw:
        issues.add(path, "must be a non-empty list")
        return None
    values = [issues.check(f"{path}[{index}]", one, item) for index, item in enumerate(raw)]
    return None if None in values else frozenset(values)


def _parse_benefit(issues: _Issues, raw: object) -> Benefit | None:
    path = "benefit"
    if not isinstance(raw, Mapping):
        issues.add(path, "must be an object")
        return None
    kind = raw.get("kind")
    if kind not in BENEFIT_KINDS:
        issues.add(f"{path}.kind", f"{kind!r} is not one of {', '.join(BENEFIT_KINDS)}")
        return None
    item = raw.get("item", "event")
    if item not in BENEFIT_ITEMS:
        issues.add(f"{path}.item", f"{item!r} is not one of {', '.join(BENEFIT_ITEMS)}")
    if kind == "percentage":
        _unknown_keys(issues, path, raw, ("kind", "item", "rate", "item_cap"))
        if "rate" not in raw:
            issues.add(f"{path}.rate", "is required for a percentage benefit")
        rate = issues.check(f"{path}.rate", parse_rate, raw["rate"]) if "rate" in raw else None
        item_cap = None
        if raw.get("item_cap") is not None:
            item_cap = issues.check(f"{path}.item_cap", parse_amount, raw["item_cap"])
        if rate is None or item not in BENEFIT_ITEMS:
            return None
        return Benefit(kind, item, rate=rate, item_cap=item_cap)
    _unknown_keys(issues, path, raw, ("kind", "item", "amount"))
    if "amount" not in raw:
        issues.add(f"{path}.amount", f"is required for a {kind} benefit")
        return None
    amount = issues.check(f"{path}.amount", parse_amount, raw["amount"])
    if amount is None or item not in BENEFIT_ITEMS:
        return None
    return Benefit(kind, item, amount=amount)


def _parse_conditions(issues: _Issues, raw: object) -> tuple[Condition, ...] | None:
    if not isinstance(raw, list):
        issues.add("conditions", "must be a list")
        return None
    before = len(issues.items)
    parsed = [_parse_condition(issues, f"conditions[{i}]", item) for i, item in enumerate(raw)]
    if len(issues.items) > before:
        return None
    # Every rule is about events: the event.kind condition says which events make items.
    if not any(condition.fact == "event.kind" for condition in parsed):
        issues.add("conditions", "must include an event.kind condition")
        return None
    return tuple(c for c in parsed if c is not None)


def validate_rule_data(conditions: object, benefit: object) -> list[ValidationIssue]:
    """Validate the JSON `conditions` list and `benefit` dict; return issues (empty if OK)."""
    issues = _Issues()
    _parse_conditions(issues, conditions)
    _parse_benefit(issues, benefit)
    return issues.items


def _parse_provision(issues: _Issues, raw: object) -> Provision | None:
    if not isinstance(raw, Mapping):
        issues.add("provision", "must be an object")
        return None
    keys = ("path", "text", "excerpt", "source_title", "source_file")
    _unknown_keys(issues, "provision", raw, keys)
    values: dict[str, str | None] = {}
    for key in keys:
        if key not in raw:
            issues.add(f"provision.{key}", "is required")
            values[key] = None
            continue
        limit = MAX_PROVISION_TEXT if key in ("text", "excerpt") else 300
        values[key] = issues.check(
            f"provision.{key}", lambda v, limit=limit: parse_text(v, max_length=limit), raw[key]
        )
    if values["text"] and values["excerpt"] and values["excerpt"] not in values["text"]:
        issues.add("provision.excerpt", "must appear verbatim in provision.text")
        return None
    if None in values.values():
        return None
    return Provision(**values)  # type: ignore[arg-type]


def _parse_currency(value: object) -> str:
    if not is_currency_code(value):
        raise ValueError(f"{str(value)[:20]!r} is not an active ISO 4217 currency code")
    return value  # type: ignore[return-value]


def parse_rule(data: object) -> Rule:
    """Build a `Rule` from its stored JSON form; raise RuleValidationError listing all issues."""
    issues = _Issues()
    if not isinstance(data, Mapping):
        raise RuleValidationError([ValidationIssue("rule", "must be an object")])
    required = ("code", "name", "provision", "effective_from", "currency", "conditions", "benefit")
    _unknown_keys(issues, "", data, (*required, "effective_to", "cap_group"))
    for key in required:
        if key not in data:
            issues.add(key, "is required")
    code = issues.check("code", parse_slug, data["code"]) if "code" in data else None
    name = issues.check("name", parse_text, data["name"]) if "name" in data else None
    provision = _parse_provision(issues, data.get("provision"))
    effective_from = (
        issues.check("effective_from", parse_date, data["effective_from"])
        if "effective_from" in data
        else None
    )
    effective_to = None
    if data.get("effective_to") is not None:
        effective_to = issues.check("effective_to", parse_date, data["effective_to"])
    if effective_from and effective_to and effective_to < effective_from:
        issues.add("effective_to", "must not be before effective_from")
    currency = issues.check("currency", _parse_currency, data.get("currency"))
    conditions = _parse_conditions(issues, data.get("conditions"))
    benefit = _parse_benefit(issues, data.get("benefit"))
    cap_group = None
    if data.get("cap_group") is not None:
        cap_group = issues.check("cap_group", parse_slug, data["cap_group"])
    if issues.items:
        raise RuleValidationError(issues.items)
    return Rule(
        code=code,
        name=name,
        provision=provision,
        effective_from=effective_from,
        effective_to=effective_to,
        currency=currency,
        conditions=conditions,
        benefit=benefit,
        cap_group=cap_group,
    )


def parse_cap_group(data: object) -> CapGroup:
    """Build a `CapGroup` from `{"code", "amount", "currency", "period"?}`."""
    issues = _Issues()
    if not isinstance(data, Mapping):
        raise RuleValidationError([ValidationIssue("cap_group", "must be an object")])
    _unknown_keys(issues, "", data, ("code", "amount", "currency", "period"))
    code = issues.check("code", parse_slug, data.get("code"))
    amount = issues.check("amount", parse_amount, data.get("amount"))
    currency = issues.check("currency", _parse_currency, data.get("currency"))
    period = data.get("period", "calendar_year")
    if period not in CAP_PERIODS:
        issues.add("period", f"{period!r} is not one of {', '.join(CAP_PERIODS)}")
    if issues.items:
        raise RuleValidationError(issues.items)
    return CapGroup(code=code, amount=amount, currency=currency, period=period)
