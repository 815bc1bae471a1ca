"""API resources of the shared core: regions, sources, authorities, reported figures, metrics."""

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from portal.api.resources import Brief, GenericBrief, Resource, register
from portal.filtersets import (
    AuthorityFilterSet,
    MetricFilterSet,
    RegionFilterSet,
    ReportedFigureFilterSet,
    SourceFilterSet,
)
from portal.models import Authority, Figure, Region, ReportedFigure, Source

METRIC_SUBJECTS = {"company": "companies", "region": "regions", "policy": "policies"}


def _content_type_resources() -> dict[int, str]:
    from portal.api.resources import REGISTRY

    return {
        ContentType.objects.get_for_model(resource.model).pk: name
        for name, resource in REGISTRY.items()
        if resource.versioned
    }


regions = register(
    Resource(
        name="regions",
        model=Region,
        selector=lambda: Region.objects.all(),
        fields=(
            "kind",
            "name_en",
            "name_zh",
            "name_zh_provenance",
            "aliases",
            "latitude",
            "longitude",
            "coordinates_approximate",
            "depth",
        ),
        briefs=(Brief("parent", "regions"),),
        filterset_class=RegionFilterSet,
        orderings={"path": ("path",), "name": ("name_en",)},
        default_ordering="path",
        description="Places in one hierarchy (country → municipality → district → park).",
    )
)

sources = register(
    Resource(
        name="sources",
        model=Source,
        selector=lambda: Source.objects.all(),
        fields=(
            "title",
            "publisher",
            "url",
            "published_on",
            "published_on_precision",
            "language",
        ),
        lookup_field="key",
        name_field="title",
        filterset_class=SourceFilterSet,
        orderings={"title": ("title",), "published_on": ("published_on",)},
        default_ordering="title",
        description="Documents that back facts; every citation names one.",
    )
)

authorities = register(
    Resource(
        name="authorities",
        model=Authority,
        selector=lambda: Authority.objects.all(),
        fields=("name_en", "name_zh", "abbreviation"),
        briefs=(Brief("region", "regions"),),
        filterset_class=AuthorityFilterSet,
        orderings={"name": ("name_en",)},
        default_ordering="name",
        description="Government bodies that issue policies or regulate products.",
    )
)

reported_figures = register(
    Resource(
        name="reported-figures",
        model=ReportedFigure,
        selector=lambda: ReportedFigure.objects.all(),
        fields=(
            "measure",
            "description",
            "value",
            "unit",
            "comparator",
            "as_of",
            "as_of_precision",
        ),
        generic=GenericBrief(
            out="subject",
            type_field="subject_content_type_id",
            id_field="subject_id",
            types=_content_type_resources,
        ),
        filterset_class=ReportedFigureFilterSet,
        orderings={"as_of": ("as_of",), "measure": ("measure", "as_of")},
        default_ordering="-as_of",
        name_field="description",
        description="Statistics a source states about a region, company or policy.",
    )
)

metrics = register(
    Resource(
        name="metrics",
        model=Figure,
        selector=lambda: Figure.objects.all(),
        fields=(
            "subject_type",
            "name",
            "dimensions",
            "value",
            "unit",
            "input_version",
            "computed_at",
            "inputs",
        ),
        schema_fields={
            "dimensions": serializers.DictField(),
            "inputs": serializers.DictField(
                help_text="Lineage: the inputs the figure was computed from."
            ),
        },
        generic=GenericBrief(
            out="subject",
            type_field="subject_type",
            id_field="subject_id",
            types=lambda: METRIC_SUBJECTS,
        ),
        lookup_field="id",
        lookup_converter="int",
        name_field="name",
        filterset_class=MetricFilterSet,
        orderings={"name": ("name", "subject_type", "subject_id"), "computed_at": ("computed_at",)},
        default_ordering="name",
        versioned=False,
        cites=False,
        description="Derived figures of companies, regions and policies with their lineage "
        "(`inputs`, `input_version` = the audit-log id the computation saw).",
    )
)

ALL = [regions, sources, authorities, reported_figures, metrics]
