"""Parse the investor scenario JSON into `Facts`, collecting every error with its field path.

Shape (keys are fixed; unknown keys are errors):
    {"as_of": "YYYY-MM-DD",
     "company": {"registered_region": slug|null, "ownership": str|null, "modalities": [slug]},
     "events": [{"kind": str, "date": "YYYY-MM-DD", "product": str|null,
                 "modality": slug|[slug]|null, "commercialized_in": slug|null,
                 "located_in": slug|null, "amount": "decimal"|null, "currency": "ISO"|null,
                 "reference": str|null}]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .currencies import is_currency_code
from .facts import (
    DEFAULT_MODALITY_PARENTS,
    EVENT_KINDS,
    EVENT_REGION_FIELDS,
    OWNERSHIP_TYPES,
    CompanyFacts,
    Event,
    Facts,
    RegionRef,
    expand_modalities,
)
from .values import parse_amount, parse_date, parse_text

MAX_EVENTS = 1000
COMPANY_KEYS = ("registered_region", "ownership", "modalities")
EVENT_KEYS = (
    "kind",
    "date",
    "product",
    "modality",
    *EVENT_REGION_FIELDS,
    "amount",
    "currency",
    "reference",
)


class ScenarioError(ValueError):
    """Invalid scenario; `errors` maps field paths to messages, e.g. {"events[1].amount": [...]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in errors.items()))


class _Parser:
    def __init__(
        self,
        region_paths: Mapping[str, Iterable[str]],
        modality_parents: Mapping[str, Iterable[str]],
    ) -> None:
        self.region_paths = region_paths
        self.modality_parents = {slug: tuple(parents) for slug, parents in modality_parents.items()}
        self.known_modalities = set(self.modality_parents).union(*self.modality_parents.values())
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def field[T](self, path: str, parser: Callable[[object], T], value: object) -> T | None:
        try:
            return parser(value)
        except ValueError as error:
            self.error(path, str(error))
            return None

    def check_keys(self, path: str, data: Mapping, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                name = str(key)[:40]
                self.error(f"{path}.{name}" if path else name, "unknown field")

    def region(self, value: object) -> RegionRef:
        if not isinstance(value, str):
            raise ValueError(f"must be a region slug string, not {type(value).__name__}")
        if value not in self.region_paths:
            raise ValueError(f"unknown region {value[:40]!r}")
        path = tuple(self.region_paths[value])
        # The engine relies on the path ending with the region itself.
        return RegionRef(value, path if path[-1:] == (value,) else (*path, value))

    def modalities(self, value: object, *, allow_single: bool) -> frozenset[str]:
        if allow_single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("must be a list of modality slugs")
        for slug in value:
            if not isinstance(slug, str) or slug not in self.known_modalities:
                raise ValueError(f"unknown modality {str(slug)[:40]!r}")
        return expand_modalities(set(value), self.modality_parents)

    def company(self, data: object) -> CompanyFacts | None:
        if not isinstance(data, Mapping):
            self.error("company", "must be an object")
            return None
        self.check_keys("company", data, COMPANY_KEYS)
        region = ownership = None
        modalities: frozenset[str] | None = frozenset()
        if data.get("registered_region") is not None:
            region = self.field("company.registered_region", self.region, data["registered_region"])
        if data.get("ownership") is not None:
            ownership = self.field("company.ownership", _ownership, data["ownership"])
        if data.get("modalities") is not None:
            modalities = self.field(
                "company.modalities",
                lambda v: self.modalities(v, allow_single=False),
                data["modalities"],
            )
        return CompanyFacts(region, ownership, modalities or frozenset())

    def event(self, path: str, index: int, data: object) -> Event | None:
        if not isinstance(data, Mapping):
            self.error(path, "must be an object")
            return None
        self.check_keys(path, data, EVENT_KEYS)
        for key in ("kind", "date"):
            if key not in data:
                self.error(f"{path}.{key}", "is required")
        kind = self.field(f"{path}.kind", _kind, data["kind"]) if "kind" in data else None
        when = self.field(f"{path}.date", parse_date, data["date"]) if "date" in data else None
        optional: dict[str, object] = {}
        parsers: dict[str, Callable[[object], object]] = {
            "product": parse_text,
            "reference": parse_text,
            "modality": lambda v: self.modalities(v, allow_single=True),
            "amount": parse_amount,
            "currency": _currency,
            **dict.fromkeys(EVENT_REGION_FIELDS, self.region),
        }
        for key, parser in parsers.items():
            if data.get(key) is not None:
                optional[key] = self.field(f"{path}.{key}", parser, data[key])
        if data.get("amount") is not None and data.get("currency") is None:
            self.error(f"{path}.currency", "is required when amount is given")
        if kind is None or when is None or None in optional.values():
            return None
        return Event(
            kind=kind,
            date=when,
            reference=optional.get("reference") or f"events[{index}]",
            product=optional.get("product"),
            modality=optional.get("modality") or frozenset(),
            commercialized_in=optional.get("commercialized_in"),
            located_in=optional.get("located_in"),
            amount=optional.get("amount"),
            currency=optional.get("currency"),
        )

    def events(self, data: object) -> tuple[Event, ...] | None:
        if not isinstance(data, list):
            self.error("events", "must be a list")
            return None
        if len(data) > MAX_EVENTS:
            self.error("events", f"must have at most {MAX_EVENTS} events")
            return None
        events = [self.event(f"events[{i}]", i, item) for i, item in enumerate(data)]
        first_index: dict[str, int] = {}
        for index, event in enumerate(events):
            if event is None:
                continue
            previous = first_index.setdefault(event.reference, index)
            if previous != index:
                self.error(f"events[{index}].reference", f"duplicates events[{previous}]")
        return tuple(event for event in events if event is not None)


def _kind(value: object) -> str:
    if not isinstance(value, str) or value not in EVENT_KINDS:
        raise ValueError(f"{str(value)[:40]!r} is not one of {', '.join(sorted(EVENT_KINDS))}")
    return value


def _ownership(value: object) -> str:
    if not isinstance(value, str) or value not in OWNERSHIP_TYPES:
        raise ValueError(f"{str(value)[:40]!r} is not one of {', '.join(sorted(OWNERSHIP_TYPES))}")
    return value


def _currency(value: object) -> str:
    if not is_currency_code(value):
        raise ValueError(f"{str(value)[:20]!r} is not an active ISO 4217 currency code")
    return value  # type: ignore[return-value]


def parse_scenario(
    data: object,
    region_paths: Mapping[str, Iterable[str]],
    modality_parents: Mapping[str, Iterable[str]] | None = None,
) -> Facts:
    """Validate the investor scenario and build `Facts`; raise ScenarioError with all errors.

    `region_paths` maps each known region slug to its path from the root (including itself);
    `modality_parents` maps each known modality slug to its direct parents (default:
    DEFAULT_MODALITY_PARENTS). Event modalities are expanded to include all ancestors.
    """
    parser = _Parser(
        region_paths, DEFAULT_MODALITY_PARENTS if modality_parents is None else modality_parents
    )
    if not isinstance(data, Mapping):
        raise ScenarioError({"scenario": ["must be an object"]})
    parser.check_keys("", data, ("as_of", "company", "events"))
    for key in ("as_of", "company", "events"):
        if key not in data:
            parser.error(key, "is required")
    as_of = parser.field("as_of", parse_date, data["as_of"]) if "as_of" in data else None
    company = parser.company(data["company"]) if "company" in data else None
    events = parser.events(data["events"]) if "events" in data else None
    if parser.errors:
        raise ScenarioError(parser.errors)
    return Facts(as_of=as_of, company=company, events=events)
