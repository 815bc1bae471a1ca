"""Plain facts the engine evaluates: a company, its dated events, and an as-of date.

The Django layer (or `scenario.parse_scenario`) builds these; the engine never touches a DB.
Regions arrive with their ancestor path and modalities arrive already expanded to their
parents, so every check is a set or tuple lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Fixed vocabularies. Modalities are deliberately not fixed here: they live in the DB and the
# caller passes a parents mapping (see DEFAULT_MODALITY_PARENTS for the built-in default).
OWNERSHIP_TYPES: frozenset[str] = frozenset(
    {"foreign_invested", "domestic", "joint_venture", "state_owned"}
)
EVENT_KINDS: frozenset[str] = frozenset(
    {
        "market_authorization",
        "commercialization",
        "liability_insurance_premium",
        "investment",
        "clinical_trial_approval",
    }
)
# Region-valued event fields; a condition on `event.<field>` uses `within`.
EVENT_REGION_FIELDS: tuple[str, ...] = ("commercialized_in", "located_in")

# modality slug -> direct parents; mirrors companies.choices.MODALITY_PARENTS so the engine can
# run without Django. `car_t` facts become {"car_t", "cell_therapy"}.
DEFAULT_MODALITY_PARENTS: dict[str, tuple[str, ...]] = {
    "cell_therapy": (),
    "car_t": ("cell_therapy",),
    "tcr_t": ("cell_therapy",),
    "nk_cell": ("cell_therapy",),
    "stem_cell": ("cell_therapy",),
    "gene_therapy": (),
    "gene_diagnostics": (),
    "small_molecule": (),
    "biologics": (),
    "inhalation": (),
    "vaccine": (),
    "testing_services": (),
    "other": (),
}

# Upper bound for any money amount (10^15). Keeps Decimal arithmetic exact and rejects junk.
MAX_AMOUNT = Decimal("1000000000000000")


@dataclass(frozen=True)
class RegionRef:
    """A region slug plus its path from the root, e.g. ("china", "shanghai", "pudong")."""

    slug: str
    path: tuple[str, ...]

    def within(self, target: str) -> bool:
        """True if this region is `target` or lies inside it."""
        return target in self.path


@dataclass(frozen=True)
class CompanyFacts:
    """What we know about the company. None / empty means unknown, not "no"."""

    registered_region: RegionRef | None = None
    ownership: str | None = None
    modalities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Event:
    """A dated thing that happened to the company, e.g. a market authorization or a premium.

    `reference` identifies the event in results and traces and breaks allocation ties, so it
    should be unique within one `Facts`.
    """

    kind: str
    date: date
    reference: str
    product: str | None = None
    modality: frozenset[str] = frozenset()
    commercialized_in: RegionRef | None = None
    located_in: RegionRef | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Facts:
    """Input to `evaluate`: events dated after `as_of` are ignored."""

    as_of: date
    company: CompanyFacts
    events: tuple[Event, ...] = ()


def expand_modalities(slugs: Iterable[str], parents: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Add every ancestor of each slug (transitively); unknown slugs are kept as they are."""
    expanded: set[str] = set()
    pending = list(slugs)
    while pending:
        slug = pending.pop()
        if slug in expanded:
            continue
        expanded.add(slug)
        pending.extend(parents.get(slug, ()))
    return frozenset(expanded)
