"""API resources of the policies app, and the subsidy estimate endpoints."""

import datetime

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from companies.models import Company
from policies import services
from policies.api.serializers import EstimateSerializer, PolicyWriteSerializer, ScenarioSerializer
from policies.choices import ValidityStatus
from policies.filtersets import (
    PolicyFilterSet,
    ProvisionFilterSet,
    SubsidyRuleFilterSet,
    TargetFilterSet,
)
from policies.models import Policy, PolicyTarget, Provision, SubsidyRule
from portal.api.resources import Brief, ManyBrief, Resource, Writes, register
from portal.api.views import ERRORS, ApiView

policies = register(
    Resource(
        name="policies",
        model=Policy,
        selector=lambda: Policy.objects.with_validity_on(datetime.date.today()),
        fields=(
            "title_en",
            "title_zh",
            "title_zh_provenance",
            "document_number",
            "kind",
            "published_on",
            "effective_from",
            "expires_on",
            "repealed_on",
            "summary",
            "validity",
        ),
        schema_fields={
            "validity": serializers.ChoiceField(
                choices=ValidityStatus.choices,
                help_text="Derived from the dates on `as_of` (default today).",
            )
        },
        briefs=(Brief("jurisdiction", "regions"),),
        many=(ManyBrief("issuing_authorities", "authorities"),),
        name_field="title_en",
        filterset_class=PolicyFilterSet,
        orderings={
            "effective_from": ("effective_from",),
            "published_on": ("published_on",),
            "title": ("title_en",),
        },
        default_ordering="-effective_from",
        writes=Writes(
            serializer=PolicyWriteSerializer,
            create=services.policy_create,
            update=lambda policy, **kw: services.policy_update(policy=policy, **kw),
            delete=lambda policy, **kw: services.policy_delete(policy=policy, **kw),
        ),
        description="Policy documents with validity derived from their dates.",
    )
)

provisions = register(
    Resource(
        name="provisions",
        model=Provision,
        selector=lambda: Provision.objects.all(),
        fields=("path", "order", "heading", "text", "kind"),
        briefs=(Brief("policy", "policies", name="title_en"),),
        many=(ManyBrief("responsible_authorities", "authorities"),),
        lookup_field="id",
        lookup_converter="int",
        name_field="heading",
        filterset_class=ProvisionFilterSet,
        orderings={"order": ("policy_id", "order")},
        default_ordering="order",
        description="Numbered provisions of policies; `?policy=<slug>&path=IV.11` finds one.",
    )
)

PROVISION_BRIEF = {"key": "path", "name": "heading", "url_by_id": True}

subsidy_rules = register(
    Resource(
        name="subsidy-rules",
        model=SubsidyRule,
        selector=lambda: SubsidyRule.objects.all(),
        fields=(
            "name",
            "description",
            "provision_excerpt",
            "effective_from",
            "effective_to",
            "conditions",
            "benefit",
            "currency",
            ("cap_group_amount", "cap_group__amount"),
        ),
        schema_fields={
            "conditions": serializers.ListField(child=serializers.DictField()),
            "benefit": serializers.DictField(),
            "cap_group_amount": serializers.DecimalField(
                max_digits=20, decimal_places=2, allow_null=True
            ),
        },
        briefs=(
            Brief("provision", "provisions", **PROVISION_BRIEF),
            Brief("provision__policy", "policies", name="title_en", out="policy"),
            Brief("cap_group", "cap-groups", key="code", name="name"),
        ),
        lookup_field="code",
        name_field="name",
        filterset_class=SubsidyRuleFilterSet,
        orderings={"code": ("code",)},
        default_ordering="code",
        description="Machine-readable subsidy clauses (conditions and benefit as data).",
    )
)

targets = register(
    Resource(
        name="targets",
        model=PolicyTarget,
        selector=lambda: PolicyTarget.objects.all(),
        fields=(
            "metric",
            "description",
            "comparator",
            "value",
            "unit",
            "period_start",
            "deadline",
        ),
        briefs=(
            Brief("policy", "policies", name="title_en"),
            Brief("provision", "provisions", **PROVISION_BRIEF),
            Brief("region", "regions"),
        ),
        name_field="description",
        filterset_class=TargetFilterSet,
        orderings={"deadline": ("deadline",)},
        default_ordering="deadline",
        description="Quantified goals policies set (value, comparator, deadline).",
    )
)


def _scenario_error(error) -> ValidationError:
    return ValidationError(error.errors)


class SubsidyEstimateView(ApiView):
    """Estimate subsidies for an investor's scenario (read-only, so any token may POST)."""

    read_only_post = True

    @extend_schema(
        operation_id="subsidy_estimates_create",
        summary="Estimate subsidies for a scenario",
        tags=["subsidy-estimates"],
        request=ScenarioSerializer,
        responses={200: EstimateSerializer, **ERRORS},
    )
    def post(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object (a scenario)."]})
        try:
            estimate = services.subsidy_estimate_for_scenario(data=request.data)
        except services.SubsidyScenarioError as error:
            raise _scenario_error(error) from None
        return Response(estimate)


class CompanySubsidyEstimateView(ApiView):
    """Estimate subsidies from the company's recorded data, as known at the end of `year`."""

    @extend_schema(
        operation_id="companies_subsidy_estimate",
        summary="Estimate a company's subsidies from its data",
        tags=["subsidy-estimates"],
        parameters=[
            OpenApiParameter("lookup", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter("year", OpenApiTypes.INT, description="Default: this year."),
        ],
        responses={200: EstimateSerializer, **ERRORS},
    )
    def get(self, request, lookup, *args, **kwargs):
        raw = request.query_params.get("year")
        if raw is None or raw == "":
            year = datetime.date.today().year
        elif raw.isdigit() and len(raw) == 4:
            year = int(raw)
        else:
            raise ValidationError({"year": ["Must be a four-digit year, e.g. 2023."]})
        company = get_object_or_404(Company, slug=lookup)
        try:
            estimate = services.subsidy_estimate_for_company(company=company, year=year)
        except services.SubsidyScenarioError as error:
            raise _scenario_error(error) from None
        return Response(estimate)
