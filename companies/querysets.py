"""QuerySets of the companies app."""

import datetime

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery


class CompanyQuerySet(models.QuerySet):
    def within(self, region):
        """Companies registered in the region or anywhere below it."""
        return self.filter(registered_region__path__startswith=region.path)

    def with_ownership_on(self, day: datetime.date | None = None):
        """Annotate `ownership_type` with the type in force on `day` (today when omitted)."""
        from companies.models import OwnershipPeriod

        day = day or datetime.date.today()
        in_force = OwnershipPeriod.objects.filter(
            Q(effective_from__isnull=True) | Q(effective_from__lte=day),
            Q(effective_to__isnull=True) | Q(effective_to__gte=day),
            company=OuterRef("pk"),
        ).order_by(F("effective_from").desc(nulls_last=True))
        return self.annotate(ownership_type=Subquery(in_force.values("ownership_type")[:1]))

    def with_modality(self, modality: str):
        return self.filter(modalities__contains=[modality])


class FacilityQuerySet(models.QuerySet):
    def within(self, region):
        """Facilities located in the region or anywhere below it."""
        return self.filter(region__path__startswith=region.path)

    def with_relations(self):
        return self.select_related("company", "region")
