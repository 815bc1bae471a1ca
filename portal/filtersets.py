"""Filters shared by every app's API filtersets, and the filtersets of the shared core."""

from functools import reduce
from operator import or_

import django_filters as filters
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.choices import RegionKind
from portal.models import Authority, Figure, MetricSubjectType, Region, ReportedFigure, Source

MAX_SEARCH_LENGTH = 200


@extend_schema_field(OpenApiTypes.STR)
class RegionSlugFilter(filters.ModelChoiceFilter):
    """A region given by its slug; an unknown slug is a 400 naming the parameter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        super().__init__(*args, **kwargs)


class WithinRegionFilter(RegionSlugFilter):
    """`?region=<slug>`: records in that region or any region below it (path prefix scan)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "Region slug; sub-regions are included.")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        prefix = "path" if self.field_name == "self" else f"{self.field_name}__path"
        return queryset.filter(**{f"{prefix}__startswith": value.path})


class SearchFilter(filters.CharFilter):
    """`?q=`: full-text search (websearch syntax) with a substring fallback for Chinese text."""

    def __init__(self, *args, search_fields: tuple[str, ...], **kwargs):
        self.search_fields = search_fields
        kwargs.setdefault("max_length", MAX_SEARCH_LENGTH)
        kwargs.setdefault("help_text", "Search words (full text) or a substring of a name.")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        value = (value or "").strip()
        if not value:
            return queryset
        vector = SearchVector(*self.search_fields, config="simple")
        query = SearchQuery(value, config="simple", search_type="websearch")
        contains = reduce(or_, (Q(**{f"{f}__icontains": value}) for f in self.search_fields))
        return queryset.annotate(_search=vector).filter(Q(_search=query) | contains)


class RegionFilterSet(filters.FilterSet):
    within = WithinRegionFilter(field_name="self", help_text="The region and all below it.")
    parent = filters.CharFilter(field_name="parent__slug", max_length=100)
    kind = filters.ChoiceFilter(choices=RegionKind.choices)
    q = SearchFilter(search_fields=("name_en", "name_zh", "slug"))

    class Meta:
        model = Region
        fields = ["within", "parent", "kind", "q"]


class SourceFilterSet(filters.FilterSet):
    published = filters.DateFromToRangeFilter(field_name="published_on")
    language = filters.CharFilter(max_length=10)
    publisher = filters.CharFilter(lookup_expr="icontains", max_length=200)
    q = SearchFilter(search_fields=("title", "publisher", "key"))

    class Meta:
        model = Source
        fields = ["published", "language", "publisher", "q"]


class AuthorityFilterSet(filters.FilterSet):
    region = WithinRegionFilter(field_name="region")
    q = SearchFilter(search_fields=("name_en", "name_zh", "abbreviation"))

    class Meta:
        model = Authority
        fields = ["region", "q"]


def _subject_type_choices():
    from portal.api.resources import REGISTRY  # the registry is filled when URLs load

    return [(name, name) for name in sorted(REGISTRY) if REGISTRY[name].versioned]


class ReportedFigureFilterSet(filters.FilterSet):
    subject_type = filters.ChoiceFilter(
        choices=_subject_type_choices, method="filter_subject_type", help_text="Resource name."
    )
    subject = filters.CharFilter(
        field_name="_subject_key", max_length=150, help_text="Subject slug (with subject_type)."
    )
    measure = filters.CharFilter(max_length=100)
    as_of = filters.DateFromToRangeFilter()
    q = SearchFilter(search_fields=("description", "measure"))

    class Meta:
        model = ReportedFigure
        fields = ["subject_type", "subject", "measure", "as_of", "q"]

    def filter_subject_type(self, queryset, name, value: str):
        from portal.api.resources import REGISTRY

        content_type = ContentType.objects.get_for_model(REGISTRY[value].model)
        return queryset.filter(subject_content_type=content_type)


class MetricFilterSet(filters.FilterSet):
    subject_type = filters.ChoiceFilter(choices=MetricSubjectType.choices)
    subject = filters.CharFilter(
        field_name="_subject_key", max_length=150, help_text="Subject slug (with subject_type)."
    )
    name = filters.CharFilter(max_length=80)

    class Meta:
        model = Figure
        fields = ["subject_type", "subject", "name"]
