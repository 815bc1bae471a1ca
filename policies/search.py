"""Search: one box across every kind of record, grouped by kind with counts.

Two matchers, OR-ed per kind:
* PostgreSQL full-text search over weighted fields (names A, aliases B, descriptions/text C),
  served by GIN expression indexes built from the very same `search_vector` expressions (see
  the `search_indexes` migrations; a test checks the planner uses them);
* trigram word similarity (`pg_trgm`, `<%`, GIN trigram indexes on name_en/name_zh) for
  misspellings ("Zhangjang") and for Chinese, which the `simple` text search configuration
  cannot split into words ("张江" inside "张江高科技园区").

The query text only ever travels as a bound parameter (websearch_to_tsquery never raises on
odd input), so quotes, semicolons or markup are just characters to look for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db.models import Count, Exists, FloatField, OuterRef, Q, Value, Window
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from companies.models import Company, CompanyAlias, Facility
from policies.models import Policy, Provision, SubsidyRule
from portal.models import Authority, Region
from projects.models import InvestmentProject, Product

SEARCH_CONFIG = "simple"
MAX_QUERY_LENGTH = 200
RESULTS_PER_KIND = 10
# Below this word similarity a trigram hit is noise; pg_trgm's own default is 0.6.
MIN_SIMILARITY = 0.3


def search_vector(weighted_fields: Sequence[tuple[str, str]]):
    """setweight(to_tsvector('simple', coalesce(field, '')), weight) || … over the fields.

    The search_indexes migrations build their GIN indexes from this same construction, so
    the WHERE clause and the index expression are identical and the planner can use the index.
    """
    vector = None
    for name, weight in weighted_fields:
        part = SearchVector(name, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


@dataclass(frozen=True)
class SearchKind:
    key: str
    label: str
    model: type
    fields: tuple[tuple[str, str], ...]
    trigram_fields: tuple[str, ...]
    select_related: tuple[str, ...] = ()
    # Extra match over related rows (company aliases), weighted like a B field.
    related_match: object = None


def _alias_match(query: str):
    aliases = CompanyAlias.objects.filter(company=OuterRef("pk")).filter(
        Q(name__trigram_word_similar=query) | Q(name__icontains=query)
    )
    return Exists(aliases)


SEARCH_KINDS: tuple[SearchKind, ...] = (
    SearchKind(
        "regions",
        _("Regions and parks"),
        Region,
        (("name_en", "A"), ("name_zh", "A")),
        ("name_en", "name_zh"),
        ("parent",),
    ),
    SearchKind(
        "companies",
        _("Companies"),
        Company,
        (("name_en", "A"), ("name_zh", "A"), ("description", "C")),
        ("name_en", "name_zh"),
        ("registered_region",),
        related_match=_alias_match,
    ),
    SearchKind(
        "facilities",
        _("Facilities"),
        Facility,
        (("name_en", "A"), ("name_zh", "A"), ("capacity_notes", "C")),
        ("name_en", "name_zh"),
        ("company", "region"),
    ),
    SearchKind(
        "projects",
        _("Investment projects"),
        InvestmentProject,
        (("title", "A"),),
        ("title",),
        ("company", "region"),
    ),
    SearchKind(
        "products",
        _("Products"),
        Product,
        (("name", "A"), ("name_zh", "A")),
        ("name", "name_zh"),
        ("company",),
    ),
    SearchKind(
        "policies",
        _("Policies"),
        Policy,
        (("title_en", "A"), ("title_zh", "A"), ("document_number", "B"), ("summary", "C")),
        ("title_en", "title_zh"),
        ("jurisdiction",),
    ),
    SearchKind(
        "provisions",
        _("Provisions"),
        Provision,
        (("heading", "A"), ("text", "C")),
        ("heading",),
        ("policy",),
    ),
    SearchKind(
        "subsidy_rules",
        _("Subsidy rules"),
        SubsidyRule,
        (("name", "A"), ("description", "C")),
        ("name",),
        ("provision", "provision__policy"),
    ),
    SearchKind(
        "authorities",
        _("Authorities"),
        Authority,
        (("name_en", "A"), ("name_zh", "A"), ("abbreviation", "B")),
        ("name_en", "name_zh"),
    ),
)
KINDS_BY_KEY = {kind.key: kind for kind in SEARCH_KINDS}


@dataclass
class SearchGroup:
    key: str
    label: str
    total: int
    results: list = field(default_factory=list)
    has_next: bool = False


@dataclass
class SearchResults:
    query: str
    groups: list[SearchGroup]
    kind: str | None = None
    page: int = 1

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)


def normalise_query(raw: str | None) -> str:
    # NUL bytes are rejected by PostgreSQL text parameters; strip them with other controls.
    text = "".join(ch for ch in (raw or "") if ch.isprintable() or ch == " ")
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def kind_queryset(kind: SearchKind, query: str):
    """Rows of one kind matching the query, best first, each annotated with the kind's total."""
    vector = search_vector(kind.fields)
    tsquery = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    match = Q(search_document=tsquery)
    similarities = []
    for name in kind.trigram_fields:
        match |= Q(**{f"{name}__trigram_word_similar": query})
        if not query.isascii():
            # Chinese: a two-character query like 张江 has too few trigrams to be reliable.
            match |= Q(**{f"{name}__contains": query})
        similarities.append(TrigramWordSimilarity(query, name))
    ranks = [SearchRank(vector, tsquery), *similarities]
    annotations = {"search_document": vector}
    if kind.related_match is not None:
        annotations["related_hit"] = kind.related_match(query)
        match |= Q(related_hit=True)
    queryset = kind.model.objects.annotate(**annotations)
    if kind.select_related:
        queryset = queryset.select_related(*kind.select_related)
    return (
        queryset.filter(match)
        .annotate(
            score=Greatest(*ranks, Value(0.0), output_field=FloatField())
            if len(ranks) > 1
            else ranks[0],
            total_rows=Window(Count("pk")),
        )
        .order_by("-score", "pk")
    )


def search(
    raw_query: str | None, *, kind: str | None = None, page: int = 1, per_kind: int | None = None
) -> SearchResults:
    """Search every kind (RESULTS_PER_KIND each), or page through one kind: one query per kind."""
    query = normalise_query(raw_query)
    if not query:
        return SearchResults(query="", groups=[])
    chosen = KINDS_BY_KEY.get(kind or "")
    kinds = (chosen,) if chosen else SEARCH_KINDS
    size = per_kind or (50 if chosen else RESULTS_PER_KIND)
    offset = (page - 1) * size if chosen else 0
    groups = []
    for item in kinds:
        rows = list(kind_queryset(item, query)[offset : offset + size + 1])
        groups.append(
            SearchGroup(
                key=item.key,
                label=str(item.label),
                total=rows[0].total_rows if rows else 0,
                results=rows[:size],
                has_next=len(rows) > size,
            )
        )
    return SearchResults(query=query, groups=groups, kind=chosen.key if chosen else None, page=page)
