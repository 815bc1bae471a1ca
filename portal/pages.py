"""Machinery shared by the analyst list pages: facets with counts, pagination, CSV streaming.

Knows nothing about the apps: each list describes its facets and columns with the classes
below and the app's selector applies them. Counts come from one conditional aggregate for all
choice facets, so a list page costs a fixed number of queries whatever the table size.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.http import QueryDict, StreamingHttpResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.models import Citation, Region

PAGE_SIZE = 50
SORT_LABELS = {
    "name": _("Name A–Z"),
    "-name": _("Name Z–A"),
    "-updated": _("Recently updated"),
    "status_since": _("Status date, oldest first"),
    "-status_since": _("Status date, newest first"),
    "path": _("Hierarchy"),
    "-announced": _("Newest first"),
    "announced": _("Oldest first"),
    "-amount": _("Largest amount first"),
    "title": _("Title A–Z"),
    "-date": _("Newest first"),
    "date": _("Oldest first"),
    "-effective": _("Newest in force first"),
    "effective": _("Oldest first"),
    "code": _("Code"),
}
# Pages are OFFSET-paginated, and an offset costs a scan of every row before it (5 s at page
# 10,000 of 1M projects). 200 pages of 50 rows is as deep as paging goes; beyond that the
# page asks to narrow the filters or export CSV (which streams every row by keyset).
MAX_PAGE = 200
# Facet counts are keyed by the data version; the expiry only bounds the rare case of an
# older change id committing after a newer one (the version is max(id), not commit order).
COUNTS_CACHE_SECONDS = 300
# Rendered list fragments (rows, facets, pagination), keyed by list_version() and the URL.
LIST_CACHE_SECONDS = 300
MAX_CACHED_PARAMS = 20
# Large enough never to cut rows off; only there so the counted rows stay a subquery.
COUNT_SUBQUERY_LIMIT = 2**62
# Region facet levels always listed (0 country, 1 province / municipality); deeper regions
# appear once their parent (or an ancestor's child on the way down) is selected.
REGION_FACET_TOP_DEPTH = 1


@dataclass(frozen=True)
class ChoiceFacet:
    """A facet over a fixed vocabulary; several selected values are OR-ed together."""

    param: str
    label: str
    choices: Sequence[tuple[str, str]]
    lookup: Callable[[str], Q]

    def selected(self, params: QueryDict) -> list[str]:
        allowed = {value for value, _ in self.choices}
        return [value for value in params.getlist(self.param) if value in allowed]

    def q(self, params: QueryDict) -> Q | None:
        values = self.selected(params)
        if not values:
            return None
        return reduce(lambda a, b: a | b, (self.lookup(value) for value in values))


@dataclass(frozen=True)
class RegionFacet:
    """Region with every sub-region: `?region=pudong` also matches parks inside Pudong."""

    path_field: str  # e.g. "region__path" or "registered_region__path"
    param: str = "region"


@dataclass(frozen=True)
class YearFacet:
    """A year range over a date field (`year_from`, `year_to`), with counts per year."""

    date_field: str
    param_from: str = "year_from"
    param_to: str = "year_to"

    def bounds(self, params: QueryDict) -> tuple[int | None, int | None]:
        return _int_or_none(params.get(self.param_from)), _int_or_none(params.get(self.param_to))

    def q(self, params: QueryDict) -> Q | None:
        low, high = self.bounds(params)
        conditions = []
        if low is not None:
            conditions.append(Q(**{f"{self.date_field}__year__gte": low}))
        if high is not None:
            conditions.append(Q(**{f"{self.date_field}__year__lte": high}))
        return reduce(and_, conditions) if conditions else None


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool
    depth: int = 0
    label_zh: str = ""

    @property
    def indent(self) -> str:
        return "· " * self.depth


@dataclass
class FacetResult:
    param: str
    label: str
    options: list[FacetOption] = field(default_factory=list)


@dataclass
class ListPage:
    """One page of a list, known to have a next page without counting the whole table."""

    items: list
    number: int
    has_next: bool
    page_size: int
    # More rows exist beyond the last page paging reaches (MAX_PAGE).
    beyond_last: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.items) - 1 if self.items else 0


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def page_number(params: QueryDict) -> int:
    number = _int_or_none(params.get("page")) or 1
    return min(max(number, 1), MAX_PAGE)


def paginate(queryset: QuerySet, number: int, page_size: int = PAGE_SIZE) -> ListPage:
    """Fetch page_size + 1 rows: the extra row only says whether a next page exists.

    A COUNT(*) over a large filtered table costs as much as the scan itself; analysts page
    forward, they don't need "page 3 of 1,742".
    """
    offset = (number - 1) * page_size
    rows = list(queryset[offset : offset + page_size + 1])
    more = len(rows) > page_size
    last = number >= MAX_PAGE
    return ListPage(
        items=rows[:page_size],
        number=number,
        has_next=more and not last,
        page_size=page_size,
        beyond_last=more and last,
    )


def selected_region(params: QueryDict, facet: RegionFacet | None) -> Region | None:
    if facet is None or not params.get(facet.param):
        return None
    return Region.objects.filter(slug=params.get(facet.param)).first()


def region_q(facet: RegionFacet, region: Region | None) -> Q | None:
    if region is None:
        return None
    return Q(**{f"{facet.path_field}__startswith": region.path})


class CountsCache:
    """Facet counts of one list and filter combination, cached under the data version.

    Counting every option over the whole table is a scan per request (seconds at 100k
    companies, the ownership facet being a subquery per row); the counts only change when
    curated data does. The key holds the latest audit-log id (any committed change of an
    audited table moves it), the day (ownership "today") and the filters' SQL conditions.
    Only raw numbers are cached: labels are built per request, in the reader's language.
    A cache outage only means counting again.
    """

    def __init__(self, name: str, filters: dict[str, Q | None]):
        from portal.api.etags import data_state

        conditions = "|".join(f"{key}={q!r}" for key, q in sorted(filters.items()) if q)
        raw = f"{data_state()}|{datetime.date.today().isoformat()}|{name}|{conditions}"
        self.prefix = "facet-counts:" + hashlib.sha256(raw.encode()).hexdigest()


def _cached_counts(cache: CountsCache | None, compute: Callable, part: str):
    if cache is None:
        return compute()
    # The fail-soft cache: a Redis outage is a miss (counted again), skipped for a while.
    store = caches["template_fragments"]
    key = f"{cache.prefix}:{part}"
    value = store.get(key)
    if value is None:
        value = compute()
        store.set(key, value, COUNTS_CACHE_SECONDS)
    return value


def _choice_counts(
    queryset: QuerySet, facets: Sequence[ChoiceFacet], filters: dict[str, Q | None]
) -> dict[str, int]:
    aggregates = {}
    for index, facet in enumerate(facets):
        others = [q for key, q in filters.items() if key != facet.param and q is not None]
        for option_index, (value, _label) in enumerate(facet.choices):
            condition = reduce(and_, [*others, facet.lookup(value)])
            aggregates[f"f{index}_{option_index}"] = Count("pk", filter=condition)
    if not aggregates:
        return {}
    # The slice keeps the rows in a subquery PostgreSQL does not flatten: an annotation used
    # by several options (a company's ownership today, a correlated subquery) is then
    # computed once per row instead of once per option and row.
    return queryset.order_by()[:COUNT_SUBQUERY_LIMIT].aggregate(**aggregates)


def choice_facet_counts(
    queryset: QuerySet,
    facets: Sequence[ChoiceFacet],
    filters: dict[str, Q | None],
    params,
    counts_cache: CountsCache | None = None,
) -> list[FacetResult]:
    """Counts of every option of every facet in one aggregate query.

    Each option counts rows matching every *other* active filter plus the option itself, so
    ticking "operational" still shows how many "planned" rows there are.
    """
    counts = _cached_counts(
        counts_cache, lambda: _choice_counts(queryset, facets, filters), "choices"
    )
    results = []
    for index, facet in enumerate(facets):
        chosen = set(facet.selected(params))
        result = FacetResult(param=facet.param, label=facet.label)
        for option_index, (value, label) in enumerate(facet.choices):
            count = counts[f"f{index}_{option_index}"]
            if count or value in chosen:
                result.options.append(FacetOption(value, label, count, value in chosen))
        results.append(result)
    return results


def region_facet_counts(
    queryset: QuerySet,
    facet: RegionFacet,
    current: Region | None,
    counts_cache: CountsCache | None = None,
) -> FacetResult:
    """Regions with at least one matching row in them or below them, in hierarchy order.

    Rows are counted once per region path (one GROUP BY), then rolled up to every ancestor
    in Python: linear in rows and regions, where a correlated count per region would join
    the whole table once per region. A second query names the regions that have rows.

    The options are a tree opened along the selected region: the top levels (country,
    provinces and municipalities) always, plus the children of the selected region and of
    each of its ancestors. Listing every region with rows made the page's <select> thousands
    of options (400 KB of HTML at 100k companies); picking a district is now a drill-down.
    """

    def compute():
        per_path = queryset.order_by().values_list(facet.path_field).annotate(n=Count("pk"))
        totals: dict[int, int] = {}
        for path, count in per_path:
            for part in (path or "").strip("/").split("/"):
                if part:
                    totals[int(part)] = totals.get(int(part), 0) + count
        regions = (
            Region.objects.filter(pk__in=list(totals))
            .order_by("path")
            .values_list("pk", "slug", "name_en", "name_zh", "depth", "parent_id")
        )
        return totals, list(regions)

    totals, regions = _cached_counts(counts_cache, compute, "regions")
    chosen = current.slug if current else None
    opened = {int(part) for part in current.path.strip("/").split("/") if part} if current else ()
    result = FacetResult(param=facet.param, label=str(_("Region")))
    for pk, slug, name_en, name_zh, depth, parent_id in regions:
        if depth > REGION_FACET_TOP_DEPTH and parent_id not in opened:
            continue
        result.options.append(
            FacetOption(slug, name_en, totals[pk], slug == chosen, depth=depth, label_zh=name_zh)
        )
    return result


def year_facet_counts(
    queryset: QuerySet, facet: YearFacet, counts_cache: CountsCache | None = None
) -> list[tuple[int, int]]:
    def compute():
        rows = (
            queryset.order_by()
            .annotate(facet_year=ExtractYear(facet.date_field))
            .values("facet_year")
            .annotate(n=Count("pk"))
            .order_by("facet_year")
            .values_list("facet_year", "n")
        )
        return [(year, count) for year, count in rows if year is not None]

    return _cached_counts(counts_cache, compute, "years")


@dataclass
class FilteredList:
    """A list after filtering: the rows' queryset plus everything the facet sidebar shows."""

    queryset: QuerySet
    facets: list[FacetResult]
    region: Region | None
    region_facet: FacetResult | None
    years: list[tuple[int, int]]
    year_bounds: tuple[int | None, int | None]
    sort: str
    sort_keys: Sequence[str] = ()


def apply_filters(
    queryset: QuerySet,
    params: QueryDict,
    *,
    choice_facets: Sequence[ChoiceFacet] = (),
    region_facet: RegionFacet | None = None,
    year_facet: YearFacet | None = None,
    extra: Q | None = None,
    sorts: dict[str, Sequence[str]],
    with_counts: bool = True,
    counts_cache: str | None = None,
) -> FilteredList:
    """Filter `queryset` by the request's facets; optionally count the facet options.

    With `counts_cache` (a name unique to this list and its base queryset) the counts are
    kept in the cache under the data version and the filters (see CountsCache).
    """
    region = selected_region(params, region_facet)
    if region_facet is not None and params.get(region_facet.param) and region is None:
        # An unknown region slug matches nothing rather than silently ignoring the filter.
        extra = (extra or Q()) & Q(pk__in=[])
    filters: dict[str, Q | None] = {facet.param: facet.q(params) for facet in choice_facets}
    if region_facet is not None:
        filters[region_facet.param] = region_q(region_facet, region)
    if year_facet is not None:
        filters[year_facet.param_from] = year_facet.q(params)
    if extra is not None:
        filters["__extra"] = extra
    active = [q for q in filters.values() if q is not None]
    filtered = queryset.filter(reduce(and_, active)) if active else queryset
    sort = params.get("sort") if params.get("sort") in sorts else next(iter(sorts))
    facets: list[FacetResult] = []
    region_result = None
    years: list[tuple[int, int]] = []
    if with_counts:
        cache = None
        if counts_cache is not None:
            cache = CountsCache(counts_cache, filters)
        facets = choice_facet_counts(queryset, choice_facets, filters, params, cache)
        if region_facet is not None:
            without_region = [q for key, q in filters.items() if key != region_facet.param and q]
            base = queryset.filter(reduce(and_, without_region)) if without_region else queryset
            region_result = region_facet_counts(base, region_facet, region, cache)
        if year_facet is not None:
            without_year = [q for key, q in filters.items() if key != year_facet.param_from and q]
            base = queryset.filter(reduce(and_, without_year)) if without_year else queryset
            years = year_facet_counts(base, year_facet, cache)
    return FilteredList(
        queryset=filtered.order_by(*sorts[sort]),
        facets=facets,
        region=region,
        region_facet=region_result,
        years=years,
        year_bounds=year_facet.bounds(params) if year_facet else (None, None),
        sort=sort,
        sort_keys=tuple(sorts),
    )


class _Echo:
    """csv.writer target that hands back each formatted line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A BOM lets Excel open the UTF-8 file with Chinese names intact.
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(["" if value is None else _csv_safe(value) for value in row])


def _csv_safe(value) -> object:
    """Neutralise spreadsheet formulas in curated text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return value


def csv_response(
    queryset: QuerySet, columns: Sequence[tuple[str, str]], filename: str
) -> StreamingHttpResponse:
    """Stream a filtered list as CSV: `columns` are (header, values_list path) pairs."""
    rows = queryset.values_list(*[path for _, path in columns]).iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        csv_rows([header for header, _ in columns], rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def count_many(**querysets: QuerySet) -> dict[str, int]:
    """Row counts of several querysets in one round trip: SELECT (SELECT COUNT(*) …), …

    The keys are code-chosen identifiers (never user input), used as column aliases.
    """
    parts, params = [], []
    for name, queryset in querysets.items():
        if not name.isidentifier():
            raise ValueError(f"bad alias {name!r}")
        sql, query_params = queryset.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted) AS {name}")  # noqa: S608
        params.extend(query_params)
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def list_view_response(
    request,
    *,
    read: Callable[..., FilteredList],
    template: str,
    csv_columns: Sequence[tuple[str, str]],
    csv_name: str,
    context: dict | None = None,
    page_size: int = PAGE_SIZE,
    cache_params: frozenset[str] = frozenset(),
):
    """Render a faceted list page, or stream it as CSV when `?format=csv`.

    The CSV uses the same read with the same parameters, so the export is exactly the list
    the analyst filtered; facet counts are skipped there because nobody sees them.
    `cache_params` names the parameters a template's fragment cache may vary on (see
    list_cache_seconds).
    """
    from django.shortcuts import render

    if request.GET.get("format") == "csv":
        filtered = read(params=request.GET, with_counts=False)
        return csv_response(filtered.queryset, csv_columns, csv_name)
    # Lazy, so a template that serves the list from its fragment cache (`{% cache … %}`
    # varying on `list_version`) runs none of the list's queries on a hit.
    filtered = SimpleLazyObject(lambda: read(params=request.GET))
    page = SimpleLazyObject(
        lambda: paginate(filtered.queryset, page_number(request.GET), page_size)
    )
    params = request.GET.copy()
    params.pop("page", None)
    csv_params = params.copy()
    csv_params["format"] = "csv"
    return render(
        request,
        template,
        {
            "filtered": filtered,
            "page": page,
            "querystring": params.urlencode(),
            "csv_querystring": csv_params.urlencode(),
            "sort_options": SimpleLazyObject(
                lambda: [(key, SORT_LABELS.get(key, key)) for key in filtered.sort_keys]
            ),
            "list_version": SimpleLazyObject(list_version),
            "list_cache_seconds": list_cache_seconds(request.GET, cache_params),
            **(context or {}),
        },
    )


def list_cache_seconds(params: QueryDict, cache_params: frozenset[str]) -> int:
    """How long a list fragment may be cached: only URLs made of the list's own parameters
    (facets, sort, page), so made-up query strings cannot fill the cache; 0 = not cached."""
    values = sum(len(v) for v in params.lists())
    if not cache_params or values > MAX_CACHED_PARAMS or not set(params) <= cache_params:
        return 0
    return LIST_CACHE_SECONDS


def list_version() -> str:
    """What a cached list fragment depends on besides its URL: the data version (latest
    audit-log id, moved by every committed change of curated data), the day (ownership
    "today") and the language."""
    from portal.api.etags import data_state

    version, database = data_state()
    return f"{database}-{version}-{datetime.date.today().isoformat()}-{get_language()}"


def attach_citations(*groups) -> None:
    """Set `cited` (a list of Citations with their source) on every instance, in one query."""
    instances = [instance for group in groups for instance in group if instance is not None]
    ids_by_type: dict[int, set[int]] = {}
    for instance in instances:
        content_type = ContentType.objects.get_for_model(instance)
        ids_by_type.setdefault(content_type.pk, set()).add(instance.pk)
        instance.cited = []
    if not ids_by_type:
        return
    condition = reduce(
        or_, (Q(content_type_id=ct, object_id__in=ids) for ct, ids in ids_by_type.items())
    )
    found: dict[tuple[int, int], list[Citation]] = {}
    for citation in Citation.objects.filter(condition).select_related("source").order_by("pk"):
        found.setdefault((citation.content_type_id, citation.object_id), []).append(citation)
    for instance in instances:
        content_type = ContentType.objects.get_for_model(instance)
        instance.cited = found.get((content_type.pk, instance.pk), [])
