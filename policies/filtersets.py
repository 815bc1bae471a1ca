"""API filtersets of the policies app."""

import datetime

import django_filters as filters
from django.db.models import Q

from policies.choices import PolicyKind, ProvisionKind, TargetMetric, ValidityStatus
from policies.models import Policy, PolicyTarget, Provision, SubsidyRule
from portal.filtersets import RegionSlugFilter, SearchFilter, WithinRegionFilter


class PolicyFilterSet(filters.FilterSet):
    region = WithinRegionFilter(
        field_name="jurisdiction", help_text="Jurisdiction in this region or below it."
    )
    applies_to = RegionSlugFilter(
        method="filter_applies_to",
        help_text="Policies whose jurisdiction covers this region (it or an ancestor).",
    )
    kind = filters.ChoiceFilter(choices=PolicyKind.choices)
    as_of = filters.DateFilter(
        method="filter_as_of", help_text="Day the `validity` is computed for (default today)."
    )
    validity = filters.ChoiceFilter(choices=ValidityStatus.choices)
    effective = filters.DateFromToRangeFilter(field_name="effective_from")
    published = filters.DateFromToRangeFilter(field_name="published_on")
    authority = filters.CharFilter(method="filter_authority", max_length=120)
    q = SearchFilter(search_fields=("title_en", "title_zh", "document_number", "summary"))

    class Meta:
        model = Policy
        fields = [
            "region",
            "applies_to",
            "kind",
            "as_of",
            "validity",
            "effective",
            "published",
            "authority",
            "q",
        ]

    def filter_queryset(self, queryset):
        # Validity is derived from the dates on `as_of`; annotate before `validity` filters.
        day = self.form.cleaned_data.get("as_of") or datetime.date.today()
        return super().filter_queryset(queryset.with_validity_on(day))

    def filter_as_of(self, queryset, name, value):
        return queryset  # applied in filter_queryset

    def filter_applies_to(self, queryset, name, value):
        return queryset.covering(value)

    def filter_authority(self, queryset, name, value):
        # A subquery, not a join: a join would repeat a policy once per issuing authority.
        matching = Policy.issuing_authorities.through.objects.filter(authority__slug=value)
        return queryset.filter(pk__in=matching.values("policy_id"))


class ProvisionFilterSet(filters.FilterSet):
    policy = filters.CharFilter(field_name="policy__slug", max_length=150)
    path = filters.CharFilter(max_length=40, help_text="With `policy`: one provision by path.")
    kind = filters.ChoiceFilter(choices=ProvisionKind.choices)
    q = SearchFilter(search_fields=("heading", "text", "path"))

    class Meta:
        model = Provision
        fields = ["policy", "path", "kind", "q"]


class SubsidyRuleFilterSet(filters.FilterSet):
    policy = filters.CharFilter(field_name="provision__policy__slug", max_length=150)
    provision = filters.NumberFilter(field_name="provision_id", min_value=1, max_digits=18)
    currency = filters.CharFilter(max_length=3)
    cap_group = filters.CharFilter(field_name="cap_group__code", max_length=150)
    effective_on = filters.DateFilter(
        method="filter_effective_on",
        help_text="Rules in effect on this day (own dates, else the policy's).",
    )
    q = SearchFilter(search_fields=("name", "description", "code"))

    class Meta:
        model = SubsidyRule
        fields = ["policy", "provision", "currency", "cap_group", "effective_on", "q"]

    def filter_effective_on(self, queryset, name, day):
        starts = (
            Q(effective_from__lte=day)
            | Q(effective_from__isnull=True, provision__policy__effective_from__lte=day)
            | Q(effective_from__isnull=True, provision__policy__effective_from__isnull=True)
        )
        ends = (
            Q(effective_to__gte=day)
            | Q(effective_to__isnull=True, provision__policy__expires_on__gte=day)
            | Q(effective_to__isnull=True, provision__policy__expires_on__isnull=True)
        )
        return queryset.filter(starts, ends)


class TargetFilterSet(filters.FilterSet):
    policy = filters.CharFilter(field_name="policy__slug", max_length=150)
    metric = filters.ChoiceFilter(choices=TargetMetric.choices)
    region = WithinRegionFilter(field_name="region")
    deadline = filters.DateFromToRangeFilter()

    class Meta:
        model = PolicyTarget
        fields = ["policy", "metric", "region", "deadline"]
