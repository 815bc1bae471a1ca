"""API filtersets of the companies app, and the modality/ownership filters other apps reuse."""

import django_filters as filters

from companies.choices import (
    CompanyKind,
    FacilityKind,
    FacilityStatus,
    Modality,
    OwnershipType,
)
from companies.models import Company, Facility
from companies.selectors import modality_family
from portal.filtersets import SearchFilter, WithinRegionFilter


class ModalityFilter(filters.ChoiceFilter):
    """`?modality=`: a modality family; `array=True` for ArrayFields of modalities."""

    def __init__(self, *args, array: bool = True, **kwargs):
        self.array = array
        kwargs.setdefault("choices", Modality.choices)
        kwargs.setdefault("help_text", "Modality; narrower modalities are included.")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        lookup = "overlap" if self.array else "in"
        return queryset.filter(**{f"{self.field_name}__{lookup}": modality_family(value)})


class OwnershipFilter(filters.ChoiceFilter):
    """`?ownership=`: the company's ownership type in force today."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", OwnershipType.choices)
        kwargs.setdefault("help_text", "Ownership type in force today.")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        if self.field_name == "self":  # a company queryset annotated by with_ownership_on()
            return queryset.filter(ownership_type=value)
        companies = Company.objects.with_ownership_on().filter(ownership_type=value)
        return queryset.filter(**{f"{self.field_name}__in": companies.values("pk")})


class CompanyFilterSet(filters.FilterSet):
    region = WithinRegionFilter(field_name="registered_region")
    modality = ModalityFilter(field_name="modalities")
    ownership = OwnershipFilter(field_name="self")
    kind = filters.ChoiceFilter(choices=CompanyKind.choices)
    parent = filters.CharFilter(field_name="parent__slug", max_length=120)
    country = filters.CharFilter(field_name="headquarters_country", max_length=2)
    q = SearchFilter(search_fields=("name_en", "name_zh", "description", "slug"))

    class Meta:
        model = Company
        fields = ["region", "modality", "ownership", "kind", "parent", "country", "q"]


class FacilityFilterSet(filters.FilterSet):
    region = WithinRegionFilter(field_name="region")
    company = filters.CharFilter(field_name="company__slug", max_length=120)
    modality = ModalityFilter(field_name="modalities")
    ownership = OwnershipFilter(field_name="company")
    status = filters.ChoiceFilter(choices=FacilityStatus.choices)
    kind = filters.ChoiceFilter(choices=FacilityKind.choices)
    status_since = filters.DateFromToRangeFilter()
    q = SearchFilter(search_fields=("name_en", "name_zh", "capacity_notes", "slug"))

    class Meta:
        model = Facility
        fields = ["region", "company", "modality", "ownership", "status", "kind", "q"]
