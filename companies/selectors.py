"""Read selectors of the companies app.

Page reads (analyst list/detail pages) return a FilteredList or fetch a fixed number of
queries per page; API reads return annotated QuerySets for portal.api's fast list path.
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from companies.choices import (
    CompanyKind,
    FacilityKind,
    FacilityStatus,
    Modality,
    OwnershipType,
    expand_modalities,
)
from companies.models import Company, Facility
from portal.choices import RegionKind
from portal.models import Change, Region, ReportedFigure
from portal.pages import ChoiceFacet, FilteredList, RegionFacet, apply_filters, count_many

# Detail pages show the first rows of each related list plus a total ("all 37 facilities").
DETAIL_ROWS = 20


def modality_family(modality: str) -> list[str]:
    """The modality and every narrower one (`cell_therapy` → car_t, tcr_t, nk_cell…)."""
    return sorted(m for m in Modality.values if modality in expand_modalities([m]))


def _eq(field: str):
    return lambda value: Q(**{field: value})


def _modality_overlap(field: str):
    return lambda value: Q(**{f"{field}__overlap": modality_family(value)})


def _first_page_with_total(queryset, order) -> tuple[list, int]:
    rows = list(queryset.annotate(total_rows=Window(Count("pk"))).order_by(*order)[:DETAIL_ROWS])
    return rows, (rows[0].total_rows if rows else 0)


# Page reads: companies -----------------------------------------------------------------

COMPANY_SORTS = {
    "name": ("name_en", "pk"),
    "-name": ("-name_en", "-pk"),
    "-updated": ("-updated_at", "-pk"),
}
COMPANY_CSV_COLUMNS = [
    ("slug", "slug"),
    ("name_en", "name_en"),
    ("name_zh", "name_zh"),
    ("kind", "kind"),
    ("ownership_today", "ownership_type"),
    ("modalities", "modalities"),
    ("registered_region", "registered_region__slug"),
    ("headquarters_country", "headquarters_country"),
    ("website", "website"),
]


# Every parameter the companies list page understands (its fragment cache varies on them).
COMPANY_LIST_PARAMS = frozenset({"modality", "ownership", "kind", "region", "sort", "page"})


def company_facets() -> list[ChoiceFacet]:
    return [
        ChoiceFacet("modality", _("Modality"), Modality.choices, _modality_overlap("modalities")),
        ChoiceFacet(
            "ownership", _("Ownership today"), OwnershipType.choices, _eq("ownership_type")
        ),
        ChoiceFacet("kind", _("Kind"), CompanyKind.choices, _eq("kind")),
    ]


def company_list(*, params, with_counts: bool = True) -> FilteredList:
    queryset = Company.objects.with_ownership_on().select_related("registered_region")
    return apply_filters(
        queryset,
        params,
        choice_facets=company_facets(),
        region_facet=RegionFacet("registered_region__path"),
        sorts=COMPANY_SORTS,
        with_counts=with_counts,
        counts_cache="companies-list",
    )


def company_profile(*, slug: str) -> Company:
    company = (
        Company.objects.with_ownership_on()
        .select_related("registered_region", "parent")
        .filter(slug=slug)
        .first()
    )
    if company is None:
        raise Http404("No such company")
    company.ownership_history = list(
        company.ownership_periods.order_by(F("effective_from").asc(nulls_first=True), "pk")
    )
    company.listing_rows = list(company.listings.order_by("exchange", "ticker"))
    company.alias_rows = list(company.aliases.order_by("name"))
    return company


def company_facilities(*, company) -> tuple[list[Facility], int]:
    return _first_page_with_total(
        Facility.objects.filter(company=company).select_related("region"), ("name_en", "pk")
    )


def reported_figures_for(instance) -> list[ReportedFigure]:
    """Figures a source states about this record, newest first."""
    return list(
        ReportedFigure.objects.filter(
            subject_content_type=ContentType.objects.get_for_model(instance),
            subject_id=instance.pk,
        ).order_by("-as_of", "slug")
    )


def change_history(instance, limit: int = 200) -> list[Change]:
    return list(Change.objects.for_object(instance).order_by("-occurred_at", "-pk")[:limit])


# Page reads: facilities ----------------------------------------------------------------

FACILITY_SORTS = {
    "name": ("name_en", "pk"),
    "-name": ("-name_en", "-pk"),
    "-status_since": (F("status_since").desc(nulls_last=True), "-pk"),
    "status_since": (F("status_since").asc(nulls_last=True), "pk"),
}
FACILITY_CSV_COLUMNS = [
    ("slug", "slug"),
    ("name_en", "name_en"),
    ("name_zh", "name_zh"),
    ("company", "company__slug"),
    ("kind", "kind"),
    ("status", "status"),
    ("status_since", "status_since"),
    ("modalities", "modalities"),
    ("region", "region__slug"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
]


def facility_facets() -> list[ChoiceFacet]:
    return [
        ChoiceFacet("status", _("Status"), FacilityStatus.choices, _eq("status")),
        ChoiceFacet("kind", _("Kind"), FacilityKind.choices, _eq("kind")),
        ChoiceFacet("modality", _("Modality"), Modality.choices, _modality_overlap("modalities")),
    ]


def facility_list(*, params, with_counts: bool = True) -> FilteredList:
    return apply_filters(
        Facility.objects.with_relations(),
        params,
        choice_facets=facility_facets(),
        region_facet=RegionFacet("region__path"),
        sorts=FACILITY_SORTS,
        with_counts=with_counts,
        counts_cache="facilities-list",
    )


def facility_profile(*, slug: str) -> Facility:
    facility = (
        Facility.objects.select_related("company", "region", "region__parent")
        .filter(slug=slug)
        .first()
    )
    if facility is None:
        raise Http404("No such facility")
    facility.timeline = list(facility.status_changes.order_by("date", "pk"))
    return facility


def _point(facility, latitude, longitude, approximate) -> dict:
    return {
        "name": facility.name_en,
        "url": facility.get_absolute_url(),
        "status": facility.status,
        "lat": float(latitude),
        "lng": float(longitude),
        "approximate": approximate,
    }


def facility_points(facilities) -> list[dict]:
    """Map markers: the facility's own coordinates, else its region's centre (approximate)."""
    points = []
    for facility in facilities:
        if facility.latitude is not None and facility.longitude is not None:
            points.append(_point(facility, facility.latitude, facility.longitude, False))
        elif facility.region.latitude is not None and facility.region.longitude is not None:
            points.append(
                _point(facility, facility.region.latitude, facility.region.longitude, True)
            )
    return points


def facility_map_points(filtered: FilteredList) -> list[dict]:
    """Markers for every filtered facility (not just one page), in one query."""
    return facility_points(filtered.queryset.select_related("region"))


# Page reads: regions -------------------------------------------------------------------

REGION_SORTS = {"path": ("path",), "name": ("name_en", "pk"), "-name": ("-name_en", "-pk")}
REGION_CSV_COLUMNS = [
    ("slug", "slug"),
    ("name_en", "name_en"),
    ("name_zh", "name_zh"),
    ("kind", "kind"),
    ("parent", "parent__slug"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
]


def _within_count(model, path_field: str, **conditions):
    """Rows of `model` located in the outer region or below it, as a subquery."""
    inside = (
        model.objects.order_by()
        .filter(**{f"{path_field}__startswith": OuterRef("path")}, **conditions)
        .annotate(group=Value(1))
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(inside[:1]), 0)


def with_region_counts(queryset):
    return queryset.annotate(
        company_count=_within_count(Company, "registered_region__path"),
        facility_count=_within_count(Facility, "region__path"),
    )


def region_list(*, params, with_counts: bool = True) -> FilteredList:
    queryset = with_region_counts(Region.objects.select_related("parent"))
    return apply_filters(
        queryset,
        params,
        choice_facets=[ChoiceFacet("kind", _("Kind"), RegionKind.choices, _eq("kind"))],
        region_facet=RegionFacet("path"),
        sorts=REGION_SORTS,
        with_counts=with_counts,
    )


def region_profile(*, slug: str) -> tuple[Region, list[Region]]:
    region = Region.objects.select_related("parent").filter(slug=slug).first()
    if region is None:
        raise Http404("No such region")
    ancestors = [r for r in Region.objects.ancestors_of(region) if r.pk != region.pk]
    return region, ancestors


def region_children(*, region) -> list[Region]:
    return list(with_region_counts(Region.objects.filter(parent=region)).order_by("name_en", "pk"))


def region_companies(*, region) -> tuple[list[Company], int]:
    return _first_page_with_total(
        Company.objects.within(region).with_ownership_on().select_related("registered_region"),
        ("name_en", "pk"),
    )


def region_facilities(*, region) -> tuple[list[Facility], int]:
    return _first_page_with_total(
        Facility.objects.within(region).select_related("company", "region"), ("name_en", "pk")
    )


def region_computed_metrics(*, region) -> dict[str, int]:
    """Counts computed live from the curated tables (one query)."""
    facilities = Facility.objects.within(region)
    return count_many(
        companies=Company.objects.within(region).filter(kind=CompanyKind.COMPANY),
        facilities=facilities,
        manufacturing=facilities.filter(kind=FacilityKind.MANUFACTURING),
        operational=facilities.filter(status=FacilityStatus.OPERATIONAL),
    )


# API reads -----------------------------------------------------------------------------


def company_api_list(*, ownership_on: datetime.date | None = None) -> QuerySet[Company]:
    """Companies with `ownership_type` in force on the day (today by default)."""
    return Company.objects.with_ownership_on(ownership_on)


def facility_api_list() -> QuerySet[Facility]:
    return Facility.objects.all()
