"""Declarative API resources: what a list row contains, and how a page of rows is rendered.

Each app's `api/` declares a `Resource` per model and registers it. The fast list path, the
detail views, CSV export and the change feed all render rows with `render_rows`, so every
representation of a record is the same everywhere: `.values()` rows (briefs of foreign keys
joined in the same query), plus one query for the page's citations and one per many-to-many
brief, whatever the page size.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, CharField, OuterRef, Subquery, When
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse

from portal.models import Citation

PLACEHOLDER = "7391846205"


@dataclass(frozen=True)
class Brief:
    """A foreign key rendered as `{id, slug, name, url}` of the target resource."""

    field: str  # the FK on the model (may cross relations: "product__company")
    resource: str  # API resource name of the target
    key: str = "slug"
    name: str = "name_en"
    out: str | None = None
    url_by_id: bool = False  # the target resource is looked up by id (e.g. provisions)

    @property
    def output(self) -> str:
        return self.out or self.field.replace("__", "_")


@dataclass(frozen=True)
class ManyBrief:
    """A many-to-many field rendered as a list of briefs (one query per page)."""

    field: str
    resource: str
    key: str = "slug"
    name: str = "name_en"


@dataclass(frozen=True)
class GenericBrief:
    """A (type, id) pair pointing at any registered resource, e.g. a figure's subject."""

    out: str
    type_field: str
    id_field: str
    # type value -> resource name; a callable so content type ids resolve lazily
    types: Callable[[], dict[Any, str]]


@dataclass
class Writes:
    """Input serializer and the entity services the API calls for writes."""

    serializer: type
    create: Callable | None = None  # create(actor=, data=)
    update: Callable | None = None  # update(instance, actor=, expected_version=, data=)
    delete: Callable | None = None  # delete(instance, actor=, expected_version=)


@dataclass
class Resource:
    name: str  # URL segment and change-feed name, e.g. "companies"
    model: type[models.Model]
    selector: Callable[[], models.QuerySet]
    fields: tuple  # output names, or (output, ORM path) pairs
    filterset_class: type | None = None
    orderings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_ordering: str = "id"
    lookup_field: str = "slug"
    lookup_converter: str = "slug"
    name_field: str = "name_en"
    briefs: tuple[Brief, ...] = ()
    many: tuple[ManyBrief, ...] = ()
    generic: GenericBrief | None = None
    schema_fields: dict[str, Any] = field(default_factory=dict)
    writes: Writes | None = None
    cites: bool = True
    description: str = ""
    versioned: bool = True

    def __post_init__(self):
        if "id" not in self.orderings:
            self.orderings = {**self.orderings, "id": ()}

    @property
    def field_pairs(self) -> list[tuple[str, str]]:
        return [(f, f) if isinstance(f, str) else f for f in self.fields]

    def value_fields(self) -> list[str]:
        names = ["id", *(path for _, path in self.field_pairs)]
        for brief in self.briefs:
            names += [
                f"{brief.field}_id",
                f"{brief.field}__{brief.key}",
                f"{brief.field}__{brief.name}",
            ]
        if self.generic:
            names += [
                self.generic.type_field,
                self.generic.id_field,
                "_subject_key",
                "_subject_name",
            ]
        if self.lookup_field not in names:
            names.append(self.lookup_field)
        if self.versioned:
            names.append("version")
        return list(dict.fromkeys(names))

    def queryset(self) -> models.QuerySet:
        queryset = self.selector()
        if self.generic:
            queryset = _annotate_generic(queryset, self.generic)
        return queryset

    @property
    def table(self) -> str:
        return self.model._meta.db_table


REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def resource_for_model(model) -> Resource | None:
    return next((r for r in REGISTRY.values() if r.model is model), None)


def _annotate_generic(queryset, generic: GenericBrief):
    key_cases, name_cases = [], []
    for type_value, resource_name in generic.types().items():
        target = REGISTRY.get(resource_name)
        if target is None:
            continue
        match = {generic.type_field: type_value}
        rows = target.model.objects.filter(pk=OuterRef(generic.id_field))
        key_cases.append(
            When(**match, then=Cast(Subquery(rows.values(target.lookup_field)[:1]), CharField()))
        )
        name_cases.append(When(**match, then=Subquery(rows.values(target.name_field)[:1])))
    return queryset.annotate(
        _subject_key=Case(*key_cases, default=None, output_field=CharField()),
        _subject_name=Case(*name_cases, default=None, output_field=CharField()),
    )


class UrlBuilder:
    """Detail URLs of any resource, built from one reversed template per resource."""

    def __init__(self, request):
        self.request = request
        self._templates: dict[str, tuple[str, str] | None] = {}

    def _template(self, resource_name: str):
        if resource_name not in self._templates:
            resource = REGISTRY.get(resource_name)
            template = None
            if resource is not None:
                try:
                    path = reverse(f"api-{resource_name}-detail", kwargs={"lookup": PLACEHOLDER})
                    absolute = self.request.build_absolute_uri(path) if self.request else path
                    head, _, tail = absolute.rpartition(PLACEHOLDER)
                    template = (head, tail)
                except NoReverseMatch:
                    template = None
            self._templates[resource_name] = template
        return self._templates[resource_name]

    def url(self, resource_name: str, key) -> str | None:
        template = self._template(resource_name)
        if template is None or key is None:
            return None
        return f"{template[0]}{key}{template[1]}"


def citations_for(model, ids: Iterable[int]) -> dict[int, list[dict]]:
    """Citations of every given record, in one query, grouped by record id."""
    ids = list(ids)
    grouped: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return grouped
    content_type = ContentType.objects.get_for_model(model)
    rows = (
        Citation.objects.filter(content_type_id=content_type.pk, object_id__in=ids)
        .order_by("object_id", "id")
        .values_list(
            "object_id",
            "source__key",
            "source__title",
            "source__url",
            "excerpt",
            "field_name",
            "verification",
            "checked_on",
        )
    )
    for object_id, key, title, url, excerpt, field_name, verification, checked_on in rows:
        grouped[object_id].append(
            {
                "source": {"key": key, "title": title, "url": url or None},
                "excerpt": excerpt,
                "field": field_name or None,
                "verification": verification,
                "checked_on": checked_on,
            }
        )
    return grouped


def many_briefs_for(model, many: ManyBrief, ids: list[int], urls: UrlBuilder):
    """One many-to-many field's briefs for every given record, in one query."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return grouped
    relation = model._meta.get_field(many.field)
    through = relation.remote_field.through
    source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
    rows = (
        through.objects.filter(**{f"{source}_id__in": ids})
        .order_by(f"{target}__{many.name}", f"{target}_id")
        .values_list(
            f"{source}_id", f"{target}_id", f"{target}__{many.key}", f"{target}__{many.name}"
        )
    )
    for owner_id, target_id, key, name in rows:
        grouped[owner_id].append(
            {"id": target_id, "slug": key, "name": name, "url": urls.url(many.resource, key)}
        )
    return grouped


def render_rows(resource: Resource, rows: list[dict], urls: UrlBuilder) -> list[dict]:
    """List representations of `.values(*resource.value_fields())` rows."""
    ids = [row["id"] for row in rows]
    citations = citations_for(resource.model, ids) if resource.cites else None
    many = {m.field: many_briefs_for(resource.model, m, ids, urls) for m in resource.many}
    generic_types = resource.generic.types() if resource.generic else {}
    out = []
    for row in rows:
        item = {"id": row["id"]}
        if resource.lookup_field != "id":
            item[resource.lookup_field] = row[resource.lookup_field]
        for name, path in resource.field_pairs:
            item[name] = row[path]
        for brief in resource.briefs:
            target_id = row[f"{brief.field}_id"]
            key = row[f"{brief.field}__{brief.key}"]
            item[brief.output] = (
                None
                if target_id is None
                else {
                    "id": target_id,
                    "slug": key,
                    "name": row[f"{brief.field}__{brief.name}"],
                    "url": urls.url(brief.resource, target_id if brief.url_by_id else key),
                }
            )
        for m in resource.many:
            item[m.field] = many[m.field].get(row["id"], [])
        if resource.generic:
            generic = resource.generic
            type_name = generic_types.get(row[generic.type_field])
            subject_id = row[generic.id_field]
            key = row["_subject_key"]
            item[generic.out] = (
                None
                if subject_id is None
                else {
                    "type": type_name,
                    "id": subject_id,
                    "slug": key,
                    "name": row["_subject_name"],
                    "url": urls.url(type_name, key) if type_name else None,
                }
            )
        if resource.versioned:
            item["version"] = row["version"]
        item["url"] = urls.url(resource.name, row[resource.lookup_field])
        if citations is not None:
            item["citations"] = citations.get(row["id"], [])
        out.append(item)
    return out


def csv_header(resource: Resource) -> list[str]:
    names = ["id"]
    if resource.lookup_field != "id":
        names.append(resource.lookup_field)
    names += [name for name, _ in resource.field_pairs]
    names += [brief.output for brief in resource.briefs]
    names += [m.field for m in resource.many]
    if resource.generic:
        names += [f"{resource.generic.out}_type", f"{resource.generic.out}"]
    if resource.versioned:
        names.append("version")
    names.append("url")
    if resource.cites:
        names.append("citation_sources")
    return names


def csv_cells(item: dict, resource: Resource) -> list:
    """Flatten a rendered item: briefs become their slug, lists are joined with ';'."""
    import orjson

    brief_names = {b.output for b in resource.briefs} | {m.field for m in resource.many}
    cells = []
    for name in csv_header(resource):
        if resource.generic and name == f"{resource.generic.out}_type":
            subject = item.get(resource.generic.out)
            cells.append(subject["type"] if subject else None)
            continue
        if name == "citation_sources":
            cells.append(";".join(dict.fromkeys(c["source"]["key"] for c in item["citations"])))
            continue
        value = item.get(name)
        if name in brief_names or (resource.generic and name == resource.generic.out):
            if isinstance(value, list):
                value = ";".join(str(v["slug"]) for v in value)
            elif value is not None:
                value = value["slug"]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ";".join(value)
        elif isinstance(value, dict | list):
            value = orjson.dumps(value, default=str).decode()
        cells.append(value)
    return cells
