"""Import/export resources of the projects app (foreign keys by slug)."""

from companies.models import Company, Facility
from portal.models import Authority, Region
from portal.resources import (
    BOOKKEEPING_FIELDS,
    CuratedModelResource,
    list_field,
    slug_fk,
    slug_m2m,
)
from projects.models import InvestmentProject, Product, RegulatoryMilestone


class InvestmentProjectResource(CuratedModelResource):
    company = slug_fk("company", Company)
    facility = slug_fk("facility", Facility)
    region = slug_fk("region", Region)
    partners = slug_m2m("partners", Company)

    class Meta(CuratedModelResource.Meta):
        model = InvestmentProject
        # The current status follows the dated status history; it is not imported.
        exclude = (*BOOKKEEPING_FIELDS, "status", "status_since")


class ProductResource(CuratedModelResource):
    company = slug_fk("company", Company)
    targets = list_field("targets")
    indications = list_field("indications")

    class Meta(CuratedModelResource.Meta):
        model = Product


class RegulatoryMilestoneResource(CuratedModelResource):
    product = slug_fk("product", Product)
    authority = slug_fk("authority", Authority)
    region = slug_fk("region", Region)

    class Meta(CuratedModelResource.Meta):
        model = RegulatoryMilestone
