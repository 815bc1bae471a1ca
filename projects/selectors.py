"""Selectors for the projects app."""


# Page reads
# Reads behind the analyst pages (projects/views.py, policies/views.py): lists return a
# FilteredList, detail reads fetch a fixed number of queries whatever the related row count.

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef, Q, Sum, Window
from django.db.models.functions import ExtractYear, JSONObject
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from companies.choices import Modality
from companies.selectors import DETAIL_ROWS, modality_family
from portal.pages import ChoiceFacet, FilteredList, RegionFacet, YearFacet, apply_filters
from projects.choices import AmountKind, MilestoneKind, ProjectKind, ProjectStatus
from projects.models import (
    InvestmentProject,
    Product,
    ProjectStatusChange,
    RegulatoryMilestone,
)


def _eq(field: str):
    return lambda value: Q(**{field: value})


PROJECT_SORTS = {
    "-announced": ("-announced_on", "-pk"),
    "announced": ("announced_on", "pk"),
    "-amount": ("-amount", "-pk"),
    "title": ("title", "pk"),
}
PROJECT_CSV_COLUMNS = [
    ("slug", "slug"),
    ("title", "title"),
    ("company", "company__name_en"),
    ("facility", "facility__slug"),
    ("kind", "kind"),
    ("amount", "amount"),
    ("currency", "currency"),
    ("amount_kind", "amount_kind"),
    ("announced_on", "announced_on"),
    ("status", "status"),
    ("region", "region__slug"),
]


def project_facets() -> list[ChoiceFacet]:
    return [
        ChoiceFacet("kind", _("Project kind"), ProjectKind.choices, _eq("kind")),
        ChoiceFacet("amount_kind", _("Amount kind"), AmountKind.choices, _eq("amount_kind")),
        ChoiceFacet("status", _("Status"), ProjectStatus.choices, _eq("status")),
    ]


def project_list(*, params, with_counts: bool = True) -> FilteredList:
    queryset = InvestmentProject.objects.select_related("company", "facility", "region")
    return apply_filters(
        queryset,
        params,
        choice_facets=project_facets(),
        region_facet=RegionFacet("region__path"),
        year_facet=YearFacet("announced_on"),
        sorts=PROJECT_SORTS,
        with_counts=with_counts,
        counts_cache="projects-list",
    )


PRODUCT_SORTS = {"name": ("name", "pk"), "-name": ("-name", "-pk")}
PRODUCT_CSV_COLUMNS = [
    ("slug", "slug"),
    ("name", "name"),
    ("name_zh", "name_zh"),
    ("company", "company__name_en"),
    ("modality", "modality"),
    ("targets", "targets"),
    ("indications", "indications"),
]


def product_list(*, params, with_counts: bool = True) -> FilteredList:
    queryset = Product.objects.select_related("company", "company__registered_region")

    def modality(value: str) -> Q:
        return Q(modality__in=modality_family(value))

    return apply_filters(
        queryset,
        params,
        choice_facets=[ChoiceFacet("modality", _("Modality"), Modality.choices, modality)],
        region_facet=RegionFacet("company__registered_region__path"),
        sorts=PRODUCT_SORTS,
        with_counts=with_counts,
    )


MILESTONE_SORTS = {"-date": ("-date", "-pk"), "date": ("date", "pk")}
MILESTONE_CSV_COLUMNS = [
    ("slug", "slug"),
    ("product", "product__name"),
    ("company", "product__company__name_en"),
    ("kind", "kind"),
    ("date", "date"),
    ("authority", "authority__name_en"),
    ("region", "region__slug"),
]


def milestone_list(*, params, with_counts: bool = True) -> FilteredList:
    return apply_filters(
        RegulatoryMilestone.objects.with_relations(),
        params,
        choice_facets=[
            ChoiceFacet("kind", _("Milestone kind"), MilestoneKind.choices, _eq("kind"))
        ],
        region_facet=RegionFacet("region__path"),
        year_facet=YearFacet("date"),
        sorts=MILESTONE_SORTS,
        with_counts=with_counts,
    )


def _first_page_with_total(queryset, order) -> tuple[list, int]:
    rows = list(queryset.annotate(total_rows=Window(Count("pk"))).order_by(*order)[:DETAIL_ROWS])
    return rows, (rows[0].total_rows if rows else 0)


def company_projects(*, company) -> tuple[list[InvestmentProject], int]:
    return _first_page_with_total(
        InvestmentProject.objects.filter(company=company).select_related("facility", "region"),
        ("-announced_on", "-pk"),
    )


def facility_projects(*, facility) -> tuple[list[InvestmentProject], int]:
    return _first_page_with_total(
        InvestmentProject.objects.filter(facility=facility).select_related("company", "region"),
        ("-announced_on", "-pk"),
    )


def region_projects(*, region) -> tuple[list[InvestmentProject], int]:
    return _first_page_with_total(
        InvestmentProject.objects.within(region).select_related("company", "region"),
        ("-announced_on", "-pk"),
    )


def _milestones_json():
    return ArraySubquery(
        RegulatoryMilestone.objects.filter(product=OuterRef("pk"))
        .order_by("date", "pk")
        .values(json=JSONObject(slug="slug", kind="kind", date="date"))
    )


def company_products(*, company) -> tuple[list[Product], int]:
    """The company's products, each with its milestones in date order (one query)."""
    rows, total = _first_page_with_total(
        Product.objects.filter(company=company).annotate(milestone_rows=_milestones_json()),
        ("name", "pk"),
    )
    labels = dict(MilestoneKind.choices)
    for product in rows:
        for row in product.milestone_rows:
            row["label"] = labels.get(row["kind"], row["kind"])
    return rows, total


def investment_totals(queryset) -> list[dict]:
    """Sums by currency and amount kind: different currencies and kinds are never added up."""
    rows = list(
        queryset.order_by()
        .filter(amount__isnull=False)
        .values("currency", "amount_kind")
        .annotate(total=Sum("amount"), projects=Count("pk"))
        .order_by("amount_kind", "currency")
    )
    labels = dict(AmountKind.choices)
    for row in rows:
        row["amount_kind_label"] = labels.get(row["amount_kind"], row["amount_kind"])
    return rows


def company_investment_totals(*, company) -> list[dict]:
    return investment_totals(InvestmentProject.objects.filter(company=company))


def region_investment_totals(*, region) -> list[dict]:
    return investment_totals(InvestmentProject.objects.within(region))


def investment_by_year(queryset=None) -> list[dict]:
    """Amount per announcement year, currency and amount kind: the home page chart."""
    queryset = InvestmentProject.objects.all() if queryset is None else queryset
    return list(
        queryset.order_by()
        .filter(amount__isnull=False)
        .annotate(year=ExtractYear("announced_on"))
        .values("year", "currency", "amount_kind")
        .annotate(total=Sum("amount"), projects=Count("pk"))
        .order_by("year", "currency", "amount_kind")
    )


def investment_by_region(level_depth: int, queryset=None) -> list[dict]:
    """Amounts grouped by the project region's ancestor at `level_depth` (e.g. districts).

    The ancestor is the path prefix up to that depth, so projects in a park count toward
    its district without a per-project lookup.
    """
    from django.db.models import F, Func, IntegerField, Value
    from django.db.models.functions import Cast

    queryset = InvestmentProject.objects.all() if queryset is None else queryset
    # path is "/1/5/9/": element level_depth + 2 after splitting on "/" is the ancestor id.
    ancestor = Cast(
        Func(F("region__path"), Value("/"), Value(level_depth + 2), function="split_part"),
        output_field=IntegerField(),
    )
    return list(
        queryset.order_by()
        .filter(amount__isnull=False, region__depth__gte=level_depth)
        .annotate(ancestor_id=ancestor)
        .values("ancestor_id", "currency", "amount_kind")
        .annotate(total=Sum("amount"), projects=Count("pk"))
        .order_by("ancestor_id")
    )


def project_profile(*, slug: str) -> InvestmentProject:
    project = (
        InvestmentProject.objects.select_related("company", "facility", "region")
        .filter(slug=slug)
        .first()
    )
    if project is None:
        raise Http404("No such project")
    project.timeline = list(
        ProjectStatusChange.objects.filter(project=project).order_by("date", "pk")
    )
    project.partner_rows = list(project.partners.order_by("name_en"))
    return project


def product_profile(*, slug: str) -> Product:
    product = Product.objects.select_related("company").filter(slug=slug).first()
    if product is None:
        raise Http404("No such product")
    product.milestone_list = list(
        RegulatoryMilestone.objects.filter(product=product)
        .select_related("authority", "region")
        .order_by("date", "pk")
    )
    return product


def milestone_profile(*, slug: str) -> RegulatoryMilestone:
    milestone = RegulatoryMilestone.objects.with_relations().filter(slug=slug).first()
    if milestone is None:
        raise Http404("No such milestone")
    return milestone


def latest_event_year(*, company) -> int | None:
    """The latest year in which the company had a milestone or announced a project."""
    years = [
        RegulatoryMilestone.objects.filter(product__company=company)
        .order_by("-date")
        .values_list("date__year", flat=True)
        .first(),
        InvestmentProject.objects.filter(company=company)
        .order_by("-announced_on")
        .values_list("announced_on__year", flat=True)
        .first(),
    ]
    known = [year for year in years if year is not None]
    return max(known) if known else None


# API reads
# QuerySets for portal.api's fast list path (rows are fetched with .values(), so no joins
# are needed here; briefs of related records are joined by the resource declaration).


def project_api_list():
    return InvestmentProject.objects.all()


def product_api_list():
    return Product.objects.all()


def milestone_api_list():
    return RegulatoryMilestone.objects.all()
