"""API resources of the companies app: companies and facilities (fast lists, details, writes)."""

from django.db.models import Value
from django.db.models.functions import NullIf
from rest_framework import serializers

from companies import selectors, services
from companies.api.serializers import CompanyWriteSerializer, FacilityWriteSerializer
from companies.choices import OwnershipType
from companies.filtersets import CompanyFilterSet, FacilityFilterSet
from companies.models import Company, Facility
from portal.api.resources import Brief, Resource, Writes, register


def _company_rows():
    # An unknown website is stored as "" (URLField, blank=True); the API serves it as null, so
    # every value it serves matches the schema's `format: uri`.
    return selectors.company_api_list().annotate(website_or_null=NullIf("website", Value("")))


companies = register(
    Resource(
        name="companies",
        model=Company,
        selector=_company_rows,
        fields=(
            "kind",
            "name_en",
            "name_zh",
            "name_zh_provenance",
            "description",
            "headquarters_country",
            "modalities",
            ("website", "website_or_null"),
            "ownership_type",
            "created_at",
            "updated_at",
        ),
        schema_fields={
            "website": serializers.URLField(allow_null=True, help_text="Null when unknown."),
            "ownership_type": serializers.ChoiceField(
                choices=OwnershipType.choices,
                allow_null=True,
                help_text="Ownership type in force today.",
            ),
        },
        briefs=(Brief("registered_region", "regions"), Brief("parent", "companies")),
        filterset_class=CompanyFilterSet,
        orderings={
            "name": ("name_en",),
            "created_at": ("created_at",),
            "updated_at": ("updated_at",),
        },
        default_ordering="name",
        writes=Writes(
            serializer=CompanyWriteSerializer,
            create=services.company_create,
            update=lambda company, **kw: services.company_update(company=company, **kw),
            delete=lambda company, **kw: services.company_delete(company=company, **kw),
        ),
        description="Companies and institutions of the CGT industry.",
    )
)

facilities = register(
    Resource(
        name="facilities",
        model=Facility,
        selector=selectors.facility_api_list,
        fields=(
            "name_en",
            "name_zh",
            "kind",
            "modalities",
            "status",
            "status_since",
            "capacity_notes",
            "latitude",
            "longitude",
        ),
        briefs=(Brief("company", "companies"), Brief("region", "regions")),
        filterset_class=FacilityFilterSet,
        orderings={
            "name": ("name_en",),
            "status_since": ("status_since",),
            "status": ("status", "name_en"),
        },
        default_ordering="name",
        writes=Writes(
            serializer=FacilityWriteSerializer,
            create=services.facility_create,
            update=lambda facility, **kw: services.facility_update(facility=facility, **kw),
            delete=lambda facility, **kw: services.facility_delete(facility=facility, **kw),
        ),
        description="Manufacturing sites, R&D centers, biobanks, labs and offices.",
    )
)
