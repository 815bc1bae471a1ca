"""Import/export resources of the companies app (foreign keys by slug)."""

from companies.models import Company, Facility
from portal.models import Region
from portal.resources import BOOKKEEPING_FIELDS, CuratedModelResource, list_field, slug_fk


class CompanyResource(CuratedModelResource):
    parent = slug_fk("parent", Company)
    registered_region = slug_fk("registered_region", Region)
    modalities = list_field("modalities")

    class Meta(CuratedModelResource.Meta):
        model = Company


class FacilityResource(CuratedModelResource):
    company = slug_fk("company", Company)
    region = slug_fk("region", Region)
    modalities = list_field("modalities")

    class Meta(CuratedModelResource.Meta):
        model = Facility
        # The current status follows the dated status history; it is not imported.
        exclude = (*BOOKKEEPING_FIELDS, "status", "status_since")
