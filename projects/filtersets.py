"""API filtersets of the projects app."""

import django_filters as filters
from django import forms

from companies.filtersets import ModalityFilter, OwnershipFilter
from portal.currencies import ISO_4217_CODES
from portal.filtersets import SearchFilter, WithinRegionFilter
from projects.choices import AmountKind, MilestoneKind, ProjectKind, ProjectStatus
from projects.models import InvestmentProject, Product, RegulatoryMilestone

CURRENCY_CHOICES = [(code, code) for code in sorted(ISO_4217_CODES)]


class AmountRangeForm(forms.Form):
    """Amount bounds only make sense within one currency: nothing converts between them."""

    def clean(self):
        data = super().clean()
        bounded = data.get("amount_min") is not None or data.get("amount_max") is not None
        if bounded and not data.get("currency"):
            self.add_error(
                "currency",
                "Required with amount_min/amount_max: amounts in different currencies are "
                "not comparable.",
            )
        return data


def amount_filter(lookup: str) -> filters.NumberFilter:
    # Bounded like the column (20 digits, 2 decimals) so huge numbers are a 400, not a 500.
    return filters.NumberFilter(
        field_name="amount", lookup_expr=lookup, max_digits=20, decimal_places=2, min_value=0
    )


class ProjectFilterSet(filters.FilterSet):
    region = WithinRegionFilter(field_name="region")
    company = filters.CharFilter(field_name="company__slug", max_length=120)
    ownership = OwnershipFilter(field_name="company")
    modality = ModalityFilter(field_name="company__modalities")
    status = filters.ChoiceFilter(choices=ProjectStatus.choices)
    kind = filters.ChoiceFilter(choices=ProjectKind.choices)
    announced = filters.DateFromToRangeFilter(field_name="announced_on")
    amount_min = amount_filter("gte")
    amount_max = amount_filter("lte")
    amount_kind = filters.ChoiceFilter(choices=AmountKind.choices)
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    q = SearchFilter(search_fields=("title", "slug"))

    class Meta:
        model = InvestmentProject
        form = AmountRangeForm
        fields = [
            "region",
            "company",
            "ownership",
            "modality",
            "status",
            "kind",
            "announced",
            "amount_min",
            "amount_max",
            "amount_kind",
            "currency",
            "q",
        ]


class ProductFilterSet(filters.FilterSet):
    company = filters.CharFilter(field_name="company__slug", max_length=120)
    modality = ModalityFilter(field_name="modality", array=False)
    region = WithinRegionFilter(field_name="company__registered_region")
    target = filters.CharFilter(method="filter_target", max_length=50)
    q = SearchFilter(search_fields=("name", "name_zh", "slug"))

    class Meta:
        model = Product
        fields = ["company", "modality", "region", "target", "q"]

    def filter_target(self, queryset, name, value):
        return queryset.filter(targets__contains=[value])


class MilestoneFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=MilestoneKind.choices)
    product = filters.CharFilter(field_name="product__slug", max_length=150)
    company = filters.CharFilter(field_name="product__company__slug", max_length=120)
    authority = filters.CharFilter(field_name="authority__slug", max_length=120)
    modality = ModalityFilter(field_name="product__modality", array=False)
    region = WithinRegionFilter(field_name="region")
    date = filters.DateFromToRangeFilter()

    class Meta:
        model = RegulatoryMilestone
        fields = ["kind", "product", "company", "authority", "modality", "region", "date"]
