"""Import/export resources of the policies app (foreign keys by slug)."""

from policies.models import Policy, Provision
from portal.models import Authority, Region
from portal.resources import CuratedModelResource, slug_fk, slug_m2m


class PolicyResource(CuratedModelResource):
    jurisdiction = slug_fk("jurisdiction", Region)
    issuing_authorities = slug_m2m("issuing_authorities", Authority)

    class Meta(CuratedModelResource.Meta):
        model = Policy


class ProvisionResource(CuratedModelResource):
    """Provisions are keyed by their policy's slug and their path (`IV.11`)."""

    policy = slug_fk("policy", Policy)
    responsible_authorities = slug_m2m("responsible_authorities", Authority)

    class Meta(CuratedModelResource.Meta):
        model = Provision
        import_id_fields = ("policy", "path")
